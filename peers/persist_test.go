package peers

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wakunode/wakunode/enr"
)

// Peers saved by one manager come back, with origin, capabilities and shards, in another.
func TestSaveLoad(t *testing.T) {
	h := newHost(t, "")
	a, b := newHost(t, ""), newHost(t, "")
	m := New(h, Config{Policy: Policy{Cluster: 16}})
	shards := &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}
	if !m.AddCandidate(info(a), OriginDiscv5, &enr.Info{PeerID: a.ID(), Addrs: a.Addrs(), Caps: enr.Relay | enr.Store, Shards: shards}) {
		t.Fatal("candidate a not kept")
	}
	if !m.AddCandidate(info(b), OriginPeerExchange, nil) {
		t.Fatal("candidate b not kept")
	}
	path := filepath.Join(t.TempDir(), "peers.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}

	h2 := newHost(t, "")
	m2 := New(h2, Config{Policy: Policy{Cluster: 16}})
	if n, err := m2.Load(path); err != nil || n != 2 {
		t.Fatalf("Load = %d, %v; want 2", n, err)
	}
	got := map[string]PeerState{}
	for _, st := range m2.Known() {
		got[st.ID.String()] = st
	}
	sa, ok := got[a.ID().String()]
	if !ok || sa.Origin != OriginDiscv5 || sa.Caps != enr.Relay|enr.Store || sa.Shards == nil || sa.Shards.Shards[0] != 3 {
		t.Fatalf("peer a restored as %+v", sa)
	}
	if sb, ok := got[b.ID().String()]; !ok || sb.Origin != OriginPeerExchange {
		t.Fatalf("peer b restored as %+v", sb)
	}
	if len(h2.Peerstore().Addrs(a.ID())) == 0 {
		t.Fatal("addresses not restored to the peer store")
	}

	// A missing file is an empty start; a corrupt one is an error.
	if n, err := m2.Load(filepath.Join(t.TempDir(), "none.json")); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	if _, err := m2.Load(bad); err == nil {
		t.Fatal("corrupt file accepted")
	}
}
