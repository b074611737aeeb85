package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testlog"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// tmpfs mounts a size-limited tmpfs (root only; the test skips elsewhere) and returns its
// path and a function that resizes it.
func tmpfs(t *testing.T, size string) (string, func(size string)) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir, func(size string) {
		if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
			t.Fatalf("resize tmpfs: %v %s", err, out)
		}
	}
}

// A full disk under the SQLite archive: writes fail, the archive reports itself degraded and
// keeps what arrives in its queue, logs the outage once, and once space returns stores every
// message it accepted.
func TestArchiveDiskFullLosesNothing(t *testing.T) {
	dir, resize := tmpfs(t, "1m")
	logs := &testlog.Buffer{}
	a, err := archive.Open(context.Background(), archive.Config{
		URL: "sqlite://" + dir + "/store.sqlite3", Migrate: true,
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(logs, io.Discard), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const n = 3000 // ~3.5 MB with indexes: three times the disk
	payload := bytes.Repeat([]byte{0xab}, 1000)
	for i := range n {
		ts := time.Now().UnixNano()
		copy(payload, fmt.Sprint(i))
		e, err := message.NewEnvelope("/waku/2/rs/1/0", &pb.WakuMessage{Payload: payload, ContentTopic: "/app/1/full/proto", Timestamp: &ts}, ts)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Insert(e); err != nil {
			t.Fatalf("insert %d while the disk fills: %v", i, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for a.Health().OK {
		if time.Now().After(deadline) {
			t.Fatal("archive never reported the full disk")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h := a.Health()
	// SQLite says "database or disk is full"; a message segment file "no space left on device".
	if !strings.Contains(h.Reason, "full") && !strings.Contains(h.Reason, "no space left on device") {
		t.Errorf("degraded reason %q does not name the full disk", h.Reason)
	}
	resize("64m")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("flush after space returned: %v", err)
	}
	if got, err := a.Count(ctx); err != nil || got != n {
		t.Fatalf("stored %d (%v), want %d", got, err, n)
	}
	if !a.Health().OK || a.Dropped() != 0 {
		t.Fatalf("health %+v, dropped %d", a.Health(), a.Dropped())
	}
	if c := strings.Count(logs.String(), "archive database unavailable"); c != 1 {
		t.Fatalf("outage logged %d times, want once:\n%s", c, logs.String())
	}
}
