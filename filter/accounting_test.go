package filter

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/wakunode/wakunode/internal/testacct"
	"github.com/wakunode/wakunode/internal/testhost"
)

func acctClient(t testing.TB, server host.Host, obs ClientObserver) (*Client, host.Host) {
	t.Helper()
	h := testhost.New(t)
	testhost.Connect(t, h, server)
	c := NewClient(h, ClientConfig{Observer: obs})
	t.Cleanup(c.Close)
	return c, h
}

func TestAccountingRefusal(t *testing.T) {
	srv, obs := testacct.New(2), testacct.New(0)
	_, sh := startService(t, Config{Accounting: srv})
	c, ch := acctClient(t, sh, obs)
	ctx := context.Background()
	s, err := c.Subscribe(ctx, sh.ID(), testTopic, "/app/1/a/proto") // allow 1
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx, sh.ID()); err != nil { // allow 2
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { return c.Ping(ctx, sh.ID()) },
		func() error { _, err := c.Subscribe(ctx, sh.ID(), testTopic, "/app/1/b/proto"); return err },
	} {
		var se *StatusError
		if err := call(); !IsStatus(err, StatusPaymentRequired) || !errors.As(err, &se) || se.Desc != testacct.ErrRefused.Error() {
			t.Fatalf("refused request: %v", err)
		}
	}
	// Unsubscribing ends the service: never refused, never asked.
	if err := c.Unsubscribe(ctx, s); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if srv.Allows(ch.ID()) != 4 || obs.Failures(sh.ID()) != 2 {
		t.Fatalf("%d allows asked, %d failures booked; want 4, 2", srv.Allows(ch.ID()), obs.Failures(sh.ID()))
	}
}

// TestAccountingPushCounts: each push written is Served once by the service and Received once
// by its subscriber, per subscriber.
func TestAccountingPushCounts(t *testing.T) {
	srv := testacct.New(0)
	s, sh := startService(t, Config{Accounting: srv})
	obs1, obs2 := testacct.New(0), testacct.New(0)
	c1, h1 := acctClient(t, sh, obs1)
	c2, h2 := acctClient(t, sh, obs2)
	ctx := context.Background()
	sub1, err := c1.Subscribe(ctx, sh.ID(), testTopic, "/app/1/a/proto", "/app/1/b/proto")
	if err != nil {
		t.Fatal(err)
	}
	sub2, err := c2.Subscribe(ctx, sh.ID(), testTopic, "/app/1/b/proto")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		ct := "/app/1/a/proto"
		switch i % 3 {
		case 1:
			ct = "/app/1/b/proto"
		case 2:
			ct = "/app/1/other/proto" // nobody's
		}
		s.Push(envelope(t, testTopic, ct, i))
	}
	recv(t, sub1.C, 8)
	recv(t, sub2.C, 4)
	testacct.Wait(t, "both ends agree", func() bool {
		return srv.ServedTo(h1.ID()) == 8 && obs1.ReceivedFrom(sh.ID()) == 8 &&
			srv.ServedTo(h2.ID()) == 4 && obs2.ReceivedFrom(sh.ID()) == 4
	})
	if obs1.Failures(sh.ID())+obs2.Failures(sh.ID()) != 0 {
		t.Fatal("failures booked on a working service")
	}
}
