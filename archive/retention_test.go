package archive

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Policy
		bad  bool
	}{
		{in: "", want: nil},
		{in: "none", want: nil},
		{in: "time:172800", want: []Policy{{PolicyTime, 172800}}},
		{in: "capacity:50000", want: []Policy{{PolicyCapacity, 50000}}},
		{in: "size:30GB", want: []Policy{{PolicySize, 30_000_000_000}}},
		{in: "size:25mb", want: []Policy{{PolicySize, 25_000_000}}},
		{in: "size:8KB", want: []Policy{{PolicySize, 8_000}}},
		{in: "time:60;capacity:10; size:1MB", want: []Policy{{PolicyTime, 60}, {PolicyCapacity, 10}, {PolicySize, 1_000_000}}},
		{in: "time", bad: true},
		{in: "time:", bad: true},
		{in: "time:-5", bad: true},
		{in: "time:1.5", bad: true},
		{in: "capacity:abc", bad: true},
		{in: "size:10", bad: true},
		{in: "size:10TB", bad: true},
		{in: "age:10", bad: true},
	} {
		got, err := ParseRetention(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v, bad=%v", tc.in, err, tc.bad)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v want %v", tc.in, got, tc.want)
		}
	}
}

func TestRetention(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clock := testNow
		a := open(t, dbURL, func(c *Config) { c.Now = func() time.Time { return clock } })
		ms := corpus(t, 200) // timestamps testNow-10s .. testNow-10s+99ms
		insertAll(t, a, ms...)
		want := sorted(ms)
		t.Run("capacity", func(t *testing.T) {
			a.cfg.Retention = []Policy{{PolicyCapacity, 150}}
			if err := a.EnforceRetention(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := walk(t, a, Query{Forward: true, Limit: 100})
			if !slices.Equal(got, want[50:]) {
				t.Fatalf("capacity kept %d, want the newest 150", len(got))
			}
		})
		t.Run("time", func(t *testing.T) {
			// Keep 10s: cutoff = clock-10s; advance the clock by 50ms so the first 100 (ts < base+50ms) go.
			clock = testNow.Add(50 * time.Millisecond)
			a.cfg.Retention = []Policy{{PolicyTime, 10}}
			if err := a.EnforceRetention(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := walk(t, a, Query{Forward: true, Limit: 100})
			if !slices.Equal(got, want[100:]) {
				t.Fatalf("time kept %d, want %d", len(got), 100)
			}
		})
		t.Run("size", func(t *testing.T) {
			size, err := a.Size(ctx)
			if err != nil || size <= 0 {
				t.Fatalf("size %d %v", size, err)
			}
			a.cfg.Retention = []Policy{{PolicySize, size / 2}}
			if err := a.EnforceRetention(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := walk(t, a, Query{Forward: true, Limit: 100})
			if len(got) == 0 || len(got) >= 100 || !slices.Equal(got, want[200-len(got):]) {
				t.Fatalf("size kept %d of 100, want the newest fewer than 100", len(got))
			}
			// A generous limit deletes nothing more.
			a.cfg.Retention = []Policy{{PolicySize, 1 << 40}}
			if err := a.EnforceRetention(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := a.Count(ctx); n != int64(len(got)) {
				t.Fatalf("count %d after no-op size policy, want %d", n, len(got))
			}
		})
	})
}

func TestRetentionAtOpen(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		ms := corpus(t, 30)
		a := open(t, dbURL)
		insertAll(t, a, ms...)
		a.Close()
		b := open(t, dbURL, func(c *Config) { c.Retention = []Policy{{PolicyTime, 3600}, {PolicyCapacity, 5}} })
		got, _ := walk(t, b, Query{Forward: true, Limit: 100})
		if !slices.Equal(got, sorted(ms)[25:]) {
			t.Fatalf("retention at open kept %d, want 5", len(got))
		}
	})
}

// TestKill9 inserts and flushes in a child process (this test binary), SIGKILLs it, and finds
// every flushed message after reopening.
func TestKill9(t *testing.T) {
	if url := os.Getenv("WAKU_ARCHIVE_CHILD_URL"); url != "" {
		killChild(url)
		return
	}
	forEach(t, func(t *testing.T, dbURL string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
		cmd.Env = append(os.Environ(), "WAKU_ARCHIVE_CHILD_URL="+dbURL)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 64)
		one := make([]byte, 1)
		for !strings.Contains(string(buf), "flushed\n") {
			if _, err := out.Read(one); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child ended before flushing: %v (output %q)", err, buf)
			}
			buf = append(buf, one[0])
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child was not killed by SIGKILL: %v", err)
		}
		a := open(t, dbURL)
		got, _ := walk(t, a, Query{Forward: true, Limit: 100})
		if !slices.Equal(got, sorted(corpus(t, 500))) {
			t.Fatalf("after kill -9 found %d messages, want 500", len(got))
		}
		checkPayloads(t, a, corpus(t, 500))
	})
}

func killChild(url string) {
	a, err := Open(context.Background(), Config{URL: url, Migrate: true, Now: func() time.Time { return testNow }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	for _, e := range corpus(nil, 500) {
		if err := a.Insert(e); err != nil {
			fmt.Fprintln(os.Stderr, "child insert:", err)
			os.Exit(2)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child flush:", err)
		os.Exit(2)
	}
	fmt.Println("flushed")
	time.Sleep(time.Hour) // wait for SIGKILL with the database open
}
