package peers

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/internal/testhost"
)

func TestServicePeerResolution(t *testing.T) {
	const proto = "/vac/waku/store-query/3.0.0"
	a, explicit, configured := testhost.New(t), testhost.New(t), testhost.New(t)
	m := New(a, Config{})
	full := func(id fmt.Stringer, addr multiaddr.Multiaddr) multiaddr.Multiaddr {
		return multiaddr.StringCast(addr.String() + "/p2p/" + id.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Nothing given and nobody known.
	if _, err := m.ServicePeer(ctx, proto, ""); !errors.Is(err, ErrNoServicePeer) {
		t.Fatalf("no peer: %v, want ErrNoServicePeer", err)
	}
	// The explicit address wins over the configured one, and is dialled.
	p, err := m.ServicePeer(ctx, proto, "", full(explicit.ID(), explicit.Addrs()[0]), full(configured.ID(), configured.Addrs()[0]))
	if err != nil || p != explicit.ID() {
		t.Fatalf("explicit: %s, %v", p, err)
	}
	// A nil explicit address falls back to the configured one.
	if p, err := m.ServicePeer(ctx, proto, "", nil, full(configured.ID(), configured.Addrs()[0])); err != nil || p != configured.ID() {
		t.Fatalf("configured: %s, %v", p, err)
	}
	// A peer that does not answer is a dial failure.
	gone := testhost.New(t)
	addr := full(gone.ID(), gone.Addrs()[0])
	_ = gone.Close()
	if _, err := m.ServicePeer(ctx, proto, "", addr); !errors.Is(err, ErrDialFailure) {
		t.Fatalf("closed peer: %v, want ErrDialFailure", err)
	}
}
