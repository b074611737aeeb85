// Command wakubench measures the wakunode binary from the outside: start-to-REST-ready time and
// idle memory (startup), relay forwarding through one node at rising rates (forward), relay
// to queryable store ingest (ingest), and the node's cost at user rates with the store on, a
// fresh node per step (rates, beside go-waku with --gowaku-bin), and a realistic idle node with
// 50 peers (idle), with the node's CPU and RSS read from /proc. It prints Markdown
// tables for docs/benchmarks.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wakubench startup|forward|ingest|rates|idle --bin ./wakunode [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "startup":
		err = startup(os.Args[2:])
	case "forward":
		err = forward(os.Args[2:])
	case "ingest":
		err = ingest(os.Args[2:])
	case "rates":
		err = rates(os.Args[2:])
	case "idle":
		err = idle(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wakubench:", err)
		os.Exit(1)
	}
}

var (
	restLine    = regexp.MustCompile(`REST API listening on ([0-9a-f.:\[\]]+)`)
	metricsLine = regexp.MustCompile(`metrics server listening on ([0-9a-f.:\[\]]+)`)
)

// nodeProc is a running wakunode.
type nodeProc struct {
	cmd     *exec.Cmd
	rest    string
	metrics chan string // the metrics address, when the node logs one
}

// launch starts bin with args and returns once it logs its REST address, and how long that
// took from the start (dropping the binary's page cache beforehand is not counted).
func launch(bin string, args ...string) (*nodeProc, time.Duration, error) {
	cmd, err := coldCommand(bin, args...)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	found, metrics := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := restLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			if m := metricsLine.FindStringSubmatch(sc.Text()); m != nil {
				metrics <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return &nodeProc{cmd: cmd, rest: "http://" + addr, metrics: metrics}, time.Since(start), nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, 0, errors.New("REST API did not come up in 30 s")
	}
}

func (p *nodeProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

// procStat reads the process's CPU time (user+system) and current/peak RSS from /proc.
func procStat(pid int) (cpu time.Duration, rssKB, peakKB int, err error) {
	cpu, mem, err := procMem(pid)
	return cpu, mem["VmRSS:"], mem["VmHWM:"], err
}

// procMem reads the process's CPU time (user+system, plus that of children it has waited for)
// and every memory line of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon, RssFile, ...).
func procMem(pid int) (cpu time.Duration, mem map[string]int, err error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, nil, err
	}
	var ticks int
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime (stat fields 14-17)
		v, _ := strconv.Atoi(f[i])
		ticks += v
	}
	cpu = time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, nil, err
	}
	mem = map[string]int{}
	for _, line := range strings.Split(string(s), "\n") {
		if fs := strings.Fields(line); len(fs) == 3 && fs[2] == "kB" {
			mem[fs[0]], _ = strconv.Atoi(fs[1])
		}
	}
	return cpu, mem, nil
}

func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	bin := fs.String("bin", "./wakunode", "wakunode binary")
	runs := fs.Int("runs", 5, "number of starts")
	idle := fs.Duration("idle", 10*time.Second, "idle time before reading RSS")
	_ = fs.Parse(args)
	fmt.Println("| run | start → REST ready | first /health 200 | idle RSS after", *idle, "| of which private (RssAnon) | of which binary pages (RssFile) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for i := 1; i <= *runs; i++ {
		dir, err := os.MkdirTemp("", "wakubench")
		if err != nil {
			return err
		}
		p, ready, err := launch(*bin, "--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0", "--rest-port=0",
			"--data-dir="+dir, "--store=true", "--log-level=INFO")
		if err != nil {
			return err
		}
		launched := time.Now()
		if err := waitHealthy(p.rest); err != nil {
			p.stop()
			return err
		}
		healthy := ready + time.Since(launched)
		time.Sleep(*idle)
		_, mem, err := procMem(p.cmd.Process.Pid)
		p.stop()
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %s | %s | %.1f MB | %.1f MB | %.1f MB |\n", i, ready.Round(time.Millisecond), healthy.Round(time.Millisecond),
			float64(mem["VmRSS:"])/1024, float64(mem["RssAnon:"])/1024, float64(mem["RssFile:"])/1024)
	}
	return nil
}

func waitHealthy(rest string) error {
	c := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := c.Get(rest + "/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("/health never answered 200")
}

// tempDir is a scratch directory removed by the returned func.
func tempDir() (string, func(), error) {
	d, err := os.MkdirTemp("", "wakubench")
	return filepath.Clean(d), func() { os.RemoveAll(d) }, err
}
