package lightpush

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/wakunode/wakunode/internal/testacct"
	"github.com/wakunode/wakunode/internal/testhost"
)

func acctPair(t *testing.T, srv Accounting, obs ClientObserver) (*Client, host.Host, host.Host) {
	t.Helper()
	sh := startService(t, Config{Publisher: &fakeRelay{peers: 2}, Validator: static, Accounting: srv})
	ch := testhost.New(t)
	testhost.Connect(t, ch, sh)
	return NewClient(ch, ClientConfig{Observer: obs}), sh, ch
}

func TestAccountingRefusal(t *testing.T) {
	srv, obs := testacct.New(2), testacct.New(0)
	c, sh, ch := acctPair(t, srv, obs)
	ctx := context.Background()
	if _, err := c.Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.PushLegacy(ctx, sh.ID(), served, msg("/t/1/ok/proto", 10)); err != nil {
		t.Fatal(err)
	}
	var se *StatusError
	if _, err := c.Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 10)); !errors.As(err, &se) ||
		se.Code != StatusPaymentRequired || se.Desc != testacct.ErrRefused.Error() {
		t.Fatalf("refused v3 push: %v", err)
	}
	// v2 has no code: is_success=false with the refusal's text.
	if err := c.PushLegacy(ctx, sh.ID(), served, msg("/t/1/ok/proto", 10)); !errors.As(err, &se) ||
		se.Code != 0 || se.Desc != testacct.ErrRefused.Error() {
		t.Fatalf("refused v2 push: %v", err)
	}
	if srv.ServedTo(ch.ID()) != 2 || obs.ReceivedFrom(sh.ID()) != 2 || obs.Failures(sh.ID()) != 2 {
		t.Fatalf("served %d, received %d, failures %d; want 2, 2, 2",
			srv.ServedTo(ch.ID()), obs.ReceivedFrom(sh.ID()), obs.Failures(sh.ID()))
	}
}

// TestAccountingCountsMatch: only messages accepted for publishing are booked, on both ends;
// a refusal of the message itself is nobody's failure, the service's inability is.
func TestAccountingCountsMatch(t *testing.T) {
	srv, obs := testacct.New(0), testacct.New(0)
	c, sh, ch := acctPair(t, srv, obs)
	ctx := context.Background()
	for i, ct := range []string{"/t/1/ok/proto", "/t/1/invalid/proto", "/t/1/ok/proto", "/t/1/nopeers/proto", "/t/1/ok/proto"} {
		_, _ = c.Push(ctx, sh.ID(), served, msg(ct, 10+i))
		_ = c.PushLegacy(ctx, sh.ID(), served, msg(ct, 20+i))
	}
	_, _ = c.Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 0)) // 420: empty payload
	if srv.ServedTo(ch.ID()) != 6 || obs.ReceivedFrom(sh.ID()) != 6 {
		t.Fatalf("served %d, received %d; want 6", srv.ServedTo(ch.ID()), obs.ReceivedFrom(sh.ID()))
	}
	// 505 on both versions counts against the service; 420 does not. v2 carries no code, so
	// its invalid-message refusal counts too.
	if got := obs.Failures(sh.ID()); got != 3 {
		t.Fatalf("%d failures, want 3", got)
	}
}
