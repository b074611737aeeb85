package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multiformats/go-multiaddr"
)

// Kinds of node under test. Both are started with equivalent flags, as each spells them.
const (
	kindOurs   = "wakunode"
	kindGoWaku = "go-waku"
)

// dut is one node under test: which binary, which of the two flag dialects it speaks, and
// extra flags appended verbatim (--node-args, --gowaku-args).
type dut struct {
	Kind  string // kindOurs or kindGoWaku
	Bin   string
	Extra []string
}

// dutFlags registers --bin, --gowaku-bin, --node-args and --gowaku-args on fs; the returned
// function, called after fs.Parse, lists the nodes they name.
func dutFlags(fs *flag.FlagSet, gowakuUsage string) func() []dut {
	bin := fs.String("bin", "./wakunode", "wakunode binary (\"\" to run go-waku alone)")
	gowaku := fs.String("gowaku-bin", "", gowakuUsage)
	nodeArgs := fs.String("node-args", "", "extra flags for our node, space separated")
	gowakuArgs := fs.String("gowaku-args", "", "extra flags for go-waku, space separated")
	return func() []dut {
		var out []dut
		if *bin != "" {
			out = append(out, dut{Kind: kindOurs, Bin: *bin, Extra: strings.Fields(*nodeArgs)})
		}
		if *gowaku != "" {
			out = append(out, dut{Kind: kindGoWaku, Bin: *gowaku, Extra: strings.Fields(*gowakuArgs)})
		}
		return out
	}
}

// dutOptions is what the node under test runs; args translates it into each kind's flags.
type dutOptions struct {
	Shards     []uint16 // of cluster 16
	Store      bool     // SQLite in the data directory
	Pprof      bool     // serve /debug/pprof/
	Filter     bool
	Lightpush  bool
	PeerExch   bool     // peer exchange responder
	Discv5Port int      // 0 = discv5 off
	Bootstrap  []string // discv5 bootstrap ENRs
	MaxConns   int      // 0 = the node's default
}

// dutPorts are picked before the start: go-waku does not log the ports it bound when given 0.
type dutPorts struct{ TCP, REST, Metrics int }

// args spells the options in the node's own flags. Both: cluster 16, loopback, REST and the
// metrics server on, the store on SQLite in the data directory when asked, everything else at
// the binary's defaults.
func (d dut) args(dir string, p dutPorts, o dutOptions) []string {
	common := []string{"--cluster-id=16", "--listen-address=127.0.0.1", "--nat=none", "--log-level=INFO",
		"--tcp-port=" + strconv.Itoa(p.TCP), "--rest-port=" + strconv.Itoa(p.REST), "--metrics-server-port=" + strconv.Itoa(p.Metrics)}
	if o.MaxConns > 0 {
		common = append(common, "--max-connections="+strconv.Itoa(o.MaxConns), "--ip-colocation-limit=0")
	}
	for _, b := range o.Bootstrap {
		common = append(common, "--discv5-bootstrap-node="+b)
	}
	if o.Discv5Port > 0 {
		common = append(common, "--discv5-discovery=true", "--discv5-udp-port="+strconv.Itoa(o.Discv5Port))
	}
	var own []string
	if d.Kind == kindGoWaku {
		own = []string{"--rest=true", "--metrics-server=true", "--log-encoding=nocolor",
			"--store=" + strconv.FormatBool(o.Store), "--store-message-db-url=sqlite3://" + filepath.Join(dir, "store.db"),
			"--filter=" + strconv.FormatBool(o.Filter), "--lightpush=" + strconv.FormatBool(o.Lightpush),
			"--peer-exchange=" + strconv.FormatBool(o.PeerExch), "--pprof=" + strconv.FormatBool(o.Pprof)}
		for _, s := range o.Shards {
			own = append(own, fmt.Sprintf("--pubsub-topic=/waku/2/rs/16/%d", s))
		}
	} else {
		own = []string{"--rest=true", "--metrics-server=true", "--data-dir=" + dir,
			"--store=" + strconv.FormatBool(o.Store), "--store-message-db-url=sqlite://store.sqlite3",
			"--filter=" + strconv.FormatBool(o.Filter), "--lightpush=" + strconv.FormatBool(o.Lightpush),
			"--peer-exchange=" + strconv.FormatBool(o.PeerExch), "--metrics-pprof=" + strconv.FormatBool(o.Pprof)}
		for _, s := range o.Shards {
			own = append(own, fmt.Sprintf("--shard=%d", s))
		}
		if len(o.Shards) > 1 { // autosharding over as many shards (one shard needs no flag)
			own = append(own, fmt.Sprintf("--num-shards-in-network=%d", slices.Max(o.Shards)+1))
		}
	}
	return append(append(common, own...), d.Extra...)
}

// runningDUT is a started node under test.
type runningDUT struct {
	kind       string
	cmd        *exec.Cmd
	exited     chan struct{} // closed once the process has been waited for
	rest       string        // http://127.0.0.1:port
	metricsURL string        // http://127.0.0.1:port/metrics
	addr       multiaddr.Multiaddr
	logPath    string // its stdout and stderr
}

func (r *runningDUT) pid() int { return r.cmd.Process.Pid }

// start launches the node in dir and returns once its REST API answers /debug/v1/info.
func (d dut) start(dir string, o dutOptions) (*runningDUT, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "node.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd, err := coldCommand(d.Bin, d.args(dir, dutPorts{ports[0], ports[1], ports[2]}, o)...)
	if err != nil {
		return nil, err
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf // anything go-waku writes relative to its cwd lands in dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.Bin, err)
	}
	r := &runningDUT{kind: d.Kind, cmd: cmd, exited: make(chan struct{}), logPath: logPath,
		rest:       fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2])}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-r.exited:
			return nil, fmt.Errorf("%s exited at start:\n%s", d.Kind, tail(logPath, 15))
		default:
		}
		if a, err := listenAddr(r.rest); err == nil {
			r.addr = a
			return r, nil
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("%s: REST API did not answer in 30 s:\n%s", d.Kind, tail(logPath, 15))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop interrupts the node and kills it if it has not exited after 10 s.
func (r *runningDUT) stop() {
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// freePorts asks the kernel for n free loopback TCP ports (held together so they differ).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// freeUDPPort is a free loopback UDP port (for discv5).
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// tail is the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// treeUsage is the CPU time (user+system, waited-for children included) of pid and its live
// descendants, and the sum of their peak resident sets (VmHWM). Neither node forks, but a
// wrapper script passed as --bin would, and its children are then counted too.
func treeUsage(pid int) (cpu time.Duration, peakKB int, err error) {
	cpu, mem, err := treeStatus(pid)
	return cpu, mem["VmHWM:"], err
}

// treeStatus sums procMem over pid and its live descendants.
func treeStatus(pid int) (cpu time.Duration, mem map[string]int, err error) {
	mem = map[string]int{}
	for i, p := range append([]int{pid}, descendants(pid)...) {
		c, m, err := procMem(p)
		if err != nil {
			if i == 0 {
				return 0, nil, err
			}
			continue // a child that exited in between: its time is in the parent's cutime
		}
		cpu += c
		for k, v := range m {
			mem[k] += v
		}
	}
	return cpu, mem, nil
}

// anonPeak samples the RssAnon of a process tree until Stop and keeps the largest. It is the
// peak without the binary's file-backed pages, which move by several MB with how the binary
// sits in the page cache: two builds differing in one constant mapped 26 and 34 MB at idle.
// Given a metrics URL it also keeps the memory budget at the highest VmRSS sampled.
type anonPeak struct {
	stop, done chan struct{}
	peakKB     int        // written by the sampler, read after done
	budget     *memBudget // likewise
}

func startAnonPeak(pid int, every time.Duration, metricsURL string) *anonPeak {
	a := &anonPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if _, mem, err := treeStatus(pid); err == nil {
				a.peakKB = max(a.peakKB, mem["RssAnon:"])
				if metricsURL != "" && (a.budget == nil || mem["VmRSS:"] > a.budget.RSSKB) {
					a.sampleBudget(metricsURL, mem)
				}
			}
			select {
			case <-a.stop:
				return
			case <-t.C:
			}
		}
	}()
	return a
}

func (a *anonPeak) sampleBudget(metricsURL string, mem map[string]int) {
	heap, held, rt, ok := memStats(scrape(metricsURL))
	if !ok {
		return
	}
	a.budget = &memBudget{RSSKB: mem["VmRSS:"], FileKB: mem["RssFile:"], AnonKB: mem["RssAnon:"], HeapInuse: heap, HeapHeld: held, Runtime: rt}
}

// Stop ends the sampling after one last sample and returns the peak RssAnon in kB and the
// budget at the highest VmRSS (nil without a metrics URL).
func (a *anonPeak) Stop() (int, *memBudget) {
	close(a.stop)
	<-a.done
	return a.peakKB, a.budget
}

// descendants lists the live processes whose parent chain leads to pid.
func descendants(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f, err := statFields(p); err == nil {
			parent[p], _ = strconv.Atoi(f[1]) // field 4 of stat: ppid
		}
	}
	var out []int
	frontier := []int{pid}
	for len(frontier) > 0 {
		next := frontier[0]
		frontier = frontier[1:]
		for c, pp := range parent {
			if pp == next {
				out = append(out, c)
				frontier = append(frontier, c)
			}
		}
	}
	return out
}

// statFields are the fields of /proc/<pid>/stat after the command name: [0] is the state.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 > len(b) {
		return nil, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 15 {
		return nil, errors.New("short /proc stat")
	}
	return f, nil
}

// waitHTTP polls url until it answers 200 or ctx ends.
func waitHTTP(ctx context.Context, url string) error {
	c := &http.Client{Timeout: time.Second}
	for ctx.Err() == nil {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s never answered 200", url)
}
