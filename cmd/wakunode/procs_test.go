package main

import (
	"testing"

	"github.com/wakunode/wakunode/node"
)

func TestWriterProcs(t *testing.T) {
	niced := node.StoreConfig{Enabled: true, WriterNice: 10}
	none := func(string) string { return "" }
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}
	for _, c := range []struct {
		name        string
		store       node.StoreConfig
		goos        string
		getenv      func(string) string
		procs, cpus int
		want        int
	}{
		{"niced writer on all cores", niced, "linux", none, 2, 2, 3},
		{"one core", niced, "linux", none, 1, 1, 2},
		{"operator's GOMAXPROCS", niced, "linux", set, 2, 2, 0},
		{"cgroup quota below the cores", niced, "linux", none, 2, 8, 0},
		{"store off", node.StoreConfig{WriterNice: 10}, "linux", none, 2, 2, 0},
		{"writer not niced", node.StoreConfig{Enabled: true}, "linux", none, 2, 2, 0},
		{"no per-thread nice", niced, "darwin", none, 2, 2, 0},
	} {
		if got := writerProcs(c.store, c.goos, c.getenv, c.procs, c.cpus); got != c.want {
			t.Errorf("%s: GOMAXPROCS %d, want %d", c.name, got, c.want)
		}
	}
}
