package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/store"
)

// stallingStore is a loopback host whose store handler reports each request and then never
// answers, so a resume that reaches it stays in the middle of its work.
func stallingStore(t *testing.T) (multiaddr.Multiaddr, <-chan struct{}) {
	t.Helper()
	h := testhost.New(t)
	reached := make(chan struct{}, 16)
	h.SetStreamHandler(store.QueryProtocol, func(s network.Stream) {
		select {
		case reached <- struct{}{}:
		default:
		}
		buf := make([]byte, 1024)
		for { // until the client gives up and resets the stream
			if _, err := s.Read(buf); err != nil {
				_ = s.Reset()
				return
			}
		}
	})
	addr, err := multiaddr.NewMultiaddr(h.Addrs()[0].String() + "/p2p/" + h.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	return addr, reached
}

// waitReturn fails the test when f does not return within d (a deadlock).
func waitReturn(t *testing.T, what string, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
		return nil
	}
}

// Stop returns while store resume is in the middle of a query: it must not wait for the
// resume goroutine while holding anything that goroutine needs.
func TestStopWhileResumeRuns(t *testing.T) {
	addr, reached := stallingStore(t)
	cfg := testConfig(t)
	cfg.Store.Enabled, cfg.Store.Resume = true, true
	cfg.StoreNode = addr
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		_ = n.Stop()
		t.Fatal("store resume never queried the store node")
	}
	// While resume waits for its answer, the node's getters still answer.
	if got := n.Health(context.Background()).NodeHealth; got != HealthReady {
		t.Fatalf("health %s while resuming, want %s", got, HealthReady)
	}
	if err := waitReturn(t, "Stop", 20*time.Second, n.Stop); err != nil {
		t.Fatal(err)
	}
	if got := n.Health(context.Background()).NodeHealth; got != HealthShuttingDown {
		t.Fatalf("health %s after Stop, want %s", got, HealthShuttingDown)
	}
	if err := n.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v, want ErrStopped", err)
	}
}

// Stop called while Start is still at work makes Start fail (or finish and be undone), and both
// return: neither waits for the other under the node's lock.
func TestStopDuringStart(t *testing.T) {
	cfg := testConfig(t)
	cfg.Store.Enabled, cfg.Store.Vacuum = true, true
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- n.Start(context.Background()) }()
	// Health never blocks behind Start's slow work; wait until Start has begun.
	for n.Health(context.Background()).NodeHealth == HealthInitializing {
		n.mu.RLock()
		s := n.state
		n.mu.RUnlock()
		if s == stateStarting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := waitReturn(t, "Stop", 20*time.Second, n.Stop); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-started:
		if err != nil && !errors.Is(err, ErrStopped) && !errors.Is(err, context.Canceled) {
			t.Logf("Start ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Start did not return after Stop")
	}
	if got := n.Health(context.Background()).NodeHealth; got != HealthShuttingDown {
		t.Fatalf("health %s after Stop, want %s", got, HealthShuttingDown)
	}
	if left := ownGoroutines(); len(left) > 0 {
		// Stop waited for the teardown; only the library's own shutdown may still be finishing.
		for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = ownGoroutines() {
			time.Sleep(50 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Fatalf("%d goroutines of ours still running after Stop", len(left))
		}
	}
}
