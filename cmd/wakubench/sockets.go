package main

import (
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
)

// sockBytes are a process's established TCP sockets, keyed "local peer", with the bytes the
// peer acknowledged (out) and the bytes received (in), from the kernel's tcp_info.
type sockBytes map[string][2]int64

// tcpBytes reads the node's TCP socket counters with ss (iproute2; sock_diag underneath),
// leaving out its REST and metrics connections (ours, from wakubench).
func tcpBytes(pid int, r *runningDUT) (sockBytes, error) {
	out, err := exec.Command("ss", "-tinpH", "state", "established").Output()
	if err != nil {
		return nil, fmt.Errorf("ss (iproute2) is needed to read the node's socket counters: %w", err)
	}
	var skip []string
	for _, u := range []string{r.rest, r.metricsURL} {
		if pu, err := url.Parse(u); err == nil {
			skip = append(skip, pu.Port())
		}
	}
	return parseSS(string(out), pid, skip...), nil
}

// parseSS reads `ss -tinpH state established` output: a socket line ("recvq sendq local peer
// users:((...pid=N...))") followed by an indented tcp_info line with bytes_acked and
// bytes_received. Sockets of other processes, and those whose local port is in skipPorts, are
// left out.
func parseSS(out string, pid int, skipPorts ...string) sockBytes {
	res := sockBytes{}
	lines := strings.Split(out, "\n")
	want := "pid=" + strconv.Itoa(pid) + ","
	for i := 0; i+1 < len(lines); i++ {
		f := strings.Fields(lines[i])
		if strings.HasPrefix(lines[i], "\t") || len(f) < 5 || !strings.Contains(lines[i], want) {
			continue
		}
		local, peer := f[2], f[3]
		port := local[strings.LastIndexByte(local, ':')+1:]
		skipped := false
		for _, p := range skipPorts {
			skipped = skipped || p == port
		}
		info := lines[i+1]
		if skipped || !strings.HasPrefix(info, "\t") {
			continue
		}
		res[local+" "+peer] = [2]int64{ssField(info, "bytes_acked:"), ssField(info, "bytes_received:")}
	}
	return res
}

func ssField(info, key string) int64 {
	i := strings.Index(info, key)
	if i < 0 {
		return 0
	}
	v := info[i+len(key):]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// since is the bytes in and out between two readings: a socket opened in between counts
// from zero. A socket closed in between is lost (its counters go with it): the idle run keeps
// its peers connected, so that is discovery's short connections at most.
func (now sockBytes) since(before sockBytes) (in, out int64) {
	for k, v := range now {
		b := before[k]
		out += max(0, v[0]-b[0])
		in += max(0, v[1]-b[1])
	}
	return in, out
}
