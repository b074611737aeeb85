package accounting

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/wakunode/wakunode/internal/testhost"
)

func TestPolicyRefusesAndDisconnectsDebtorUntilItSettles(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	testhost.Connect(t, client, server)
	l := newLedger(t, Config{})
	var refusedPeer peer.ID
	pl, err := NewPolicy(l, PolicyConfig{Mode: Mock, DisconnectThreshold: -100, DisconnectDelay: time.Millisecond,
		OnRefuse: func(p peer.ID, _ Service) { refusedPeer = p }}, server.Network(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl.Start()
	defer pl.Stop()
	c := client.ID()
	disconnected := make(chan struct{}, 1)
	server.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, conn network.Conn) {
		if conn.RemotePeer() == c {
			select {
			case disconnected <- struct{}{}:
			default:
			}
		}
	}})

	l.Debit(c, Store, 100)
	if err := pl.Allow(c, Store); err != nil {
		t.Fatalf("at the threshold (owes exactly 100) still served: %v", err)
	}
	l.Debit(c, Store, 1)
	err = pl.Allow(c, Store)
	if !errors.Is(err, ErrPaymentRequired) || refusedPeer != c {
		t.Fatalf("past the threshold: err %v, refused %s", err, refusedPeer)
	}
	if pl.Allow(c, Relay) != nil {
		t.Fatal("relay is mutual and never refused")
	}
	select {
	case <-disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("debtor was not disconnected")
	}
	if err := l.Settle(c, 101); err != nil { // its cheque arrived
		t.Fatal(err)
	}
	if err := pl.Allow(c, Store); err != nil {
		t.Fatalf("after settling still refused: %v", err)
	}
}

func TestSoftModeNeverRefuses(t *testing.T) {
	l := newLedger(t, Config{})
	pl, err := NewPolicy(l, PolicyConfig{Mode: Soft, DisconnectThreshold: -100}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Stop()
	l.Debit(peerA, Store, 1000)
	if err := pl.Allow(peerA, Store); err != nil {
		t.Fatalf("soft mode refused: %v", err)
	}
	if _, err := NewPolicy(l, PolicyConfig{DisconnectThreshold: 5}, nil, nil, nil); err == nil {
		t.Fatal("a positive disconnect threshold was accepted")
	}
}
