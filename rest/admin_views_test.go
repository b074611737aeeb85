package rest

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/node"
)

// adminFixture: three peers; p1 and p2 connected, p1 on shards 0 and 3 serving store,
// p2 on shard 0 serving lightpush and relay, p3 known only. We relay on shards 3 and 0 of
// cluster 1: p1 and p2 are topic peers of shard 0, p1 of shard 3; only p1 is in a mesh.
func adminFixture(t *testing.T) (*fakeNode, []peer.ID) {
	f := newFakeNode(t)
	ids := []peer.ID{newFakeNode(t).id, newFakeNode(t).id, newFakeNode(t).id}
	f.peers = []node.PeerInfo{
		{ID: ids[0].String(), Multiaddr: "/ip4/127.0.0.1/tcp/1/p2p/" + ids[0].String(), Connected: node.Connected,
			Shards: []uint16{0, 3}, Protocols: []string{"/ipfs/id/1.0.0", "/vac/waku/relay/2.0.0", "/vac/waku/store-query/3.0.0"}},
		{ID: ids[1].String(), Multiaddr: "/ip4/127.0.0.1/tcp/2/p2p/" + ids[1].String(), Connected: node.Connected,
			Shards: []uint16{0}, Protocols: []string{"/vac/waku/lightpush/3.0.0", "/vac/waku/relay/2.0.0"}},
		{ID: ids[2].String(), Multiaddr: "/ip4/127.0.0.1/tcp/3/p2p/" + ids[2].String(), Connected: node.CannotConnect,
			Protocols: []string{"/ipfs/ping/1.0.0"}},
	}
	f.subs = map[string]bool{"/waku/2/rs/1/3": true, shard0: true}
	f.svc.topicPeers = map[string][]peer.ID{shard0: {ids[0], ids[1]}, "/waku/2/rs/1/3": {ids[0]}}
	f.svc.meshPeers = map[string][]peer.ID{shard0: {ids[0]}}
	return f, ids
}

func adminServer(t *testing.T, n flatFake) *Server {
	s := New(Config{Admin: true, Logger: slog.New(slog.DiscardHandler)}, backendOf(n))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func peerAddrs(t *testing.T, body string) []string {
	t.Helper()
	var ps []WakuPeer
	if err := json.Unmarshal([]byte(body), &ps); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Multiaddr[len("/ip4/127.0.0.1/tcp/"):][:1])
	}
	return out
}

func TestAdminPeerLists(t *testing.T) {
	f, _ := adminFixture(t)
	h := adminServer(t, f).Handler()
	cases := []struct {
		path string
		want string // the tcp ports of the listed peers
	}{
		{"/admin/v1/peers/connected", "1,2"},
		{"/admin/v1/peers/connected/on/0", "1,2"},
		{"/admin/v1/peers/connected/on/3", "1"},
		{"/admin/v1/peers/connected/on/7", ""},
		{"/admin/v1/peers/service", "1,2"},
	}
	for _, tc := range cases {
		r := do(t, h, "GET", tc.path, "", "")
		r.want(t, 200, jsonCT)
		if got := strings.Join(peerAddrs(t, r.body), ","); got != tc.want {
			t.Errorf("%s: peers %q, want %q", tc.path, got, tc.want)
		}
	}
	// Service peers list only their service protocols.
	r := do(t, h, "GET", "/admin/v1/peers/service", "", "")
	if strings.Contains(r.body, "/ipfs/id") || !strings.Contains(r.body, `"protocols":["/vac/waku/relay/2.0.0","/vac/waku/store-query/3.0.0"]`) {
		t.Errorf("service peers: %s", r.body)
	}
	for _, bad := range []string{"x", "-1", "1024", "70000"} {
		do(t, h, "GET", "/admin/v1/peers/connected/on/"+bad, "", "").want(t, 400, "text/plain")
		do(t, h, "GET", "/admin/v1/peers/relay/on/"+bad, "", "").want(t, 400, "text/plain")
	}
}

func TestAdminRelayAndMesh(t *testing.T) {
	f, ids := adminFixture(t)
	h := adminServer(t, f).Handler()

	r := do(t, h, "GET", "/admin/v1/peers/relay", "", "")
	r.want(t, 200, jsonCT)
	var shards []PeersOfShard
	if err := json.Unmarshal([]byte(r.body), &shards); err != nil {
		t.Fatal(err)
	}
	if len(shards) != 2 || shards[0].Shard != 0 || len(shards[0].Peers) != 2 || shards[1].Shard != 3 ||
		len(shards[1].Peers) != 1 || !strings.HasSuffix(shards[1].Peers[0].Multiaddr, ids[0].String()) ||
		shards[1].Peers[0].Connected != node.Connected {
		t.Fatalf("relay: %s", r.body)
	}

	r = do(t, h, "GET", "/admin/v1/peers/mesh/on/0", "", "")
	r.want(t, 200, jsonCT)
	var one PeersOfShard
	if err := json.Unmarshal([]byte(r.body), &one); err != nil || one.Shard != 0 || len(one.Peers) != 1 {
		t.Fatalf("mesh on 0: %s", r.body)
	}
	if r := do(t, h, "GET", "/admin/v1/peers/mesh/on/5", "", ""); r.body != `{"shard":5,"peers":[]}` {
		t.Fatalf("mesh on 5: %s", r.body)
	}
	if r := do(t, h, "GET", "/admin/v1/peers/mesh", "", ""); !strings.Contains(r.body, `{"shard":3,"peers":[]}`) {
		t.Fatalf("mesh: %s", r.body)
	}
	// A topic peer the peer store does not know is still listed, by id.
	stranger := newFakeNode(t).id
	f.svc.topicPeers["/waku/2/rs/1/3"] = []peer.ID{stranger}
	if r := do(t, h, "GET", "/admin/v1/peers/relay/on/3", "", ""); !strings.Contains(r.body, `"connected":"Connected"`) {
		t.Fatalf("stranger: %s", r.body)
	}

	f.svc.relayDisabled = true
	for _, p := range []string{"/admin/v1/peers/relay", "/admin/v1/peers/mesh/on/0"} {
		do(t, h, "GET", p, "", "").want(t, 503, "text/plain")
	}
	f.subs = map[string]bool{}
	do(t, h, "GET", "/admin/v1/peers/mesh", "", "").want(t, 503, "text/plain")
}

func TestAdminStats(t *testing.T) {
	f, _ := adminFixture(t)
	h := adminServer(t, f).Handler()
	r := do(t, h, "GET", "/admin/v1/peers/stats", "", "")
	r.want(t, 200, jsonCT)
	want := `{"Sum":{"Total peers":3},` +
		`"By Connectedness":{"Connected":2,"NotConnected":0,"CannotConnect":1,"CanConnect":0},` +
		`"Relay peers":{"0":2,"3":1,"Total relay peers":3},` +
		`"Mesh peers":{"0":1,"3":0,"Total mesh peers":1},` +
		`"By Protocols":{"/vac/waku/relay/2.0.0":2,"/vac/waku/filter-subscribe/2.0.0-beta1":0,"/vac/waku/filter-push/2.0.0-beta1":0,` +
		`"/vac/waku/store-query/3.0.0":1,"/vac/waku/store/2.0.0-beta4":0,"/vac/waku/lightpush/3.0.0":1,"/vac/waku/lightpush/2.0.0-beta1":0,` +
		`"/vac/waku/peer-exchange/2.0.0-alpha1":0,"/vac/waku/reconciliation/1.0.0":0}}`
	if r.body != want {
		t.Fatalf("stats\n%s\nwant\n%s", r.body, want)
	}
}

func TestAdminFilterSubscriptions(t *testing.T) {
	f, ids := adminFixture(t)
	h := adminServer(t, f).Handler()
	r := do(t, h, "GET", "/admin/v1/filter/subscriptions", "", "")
	r.want(t, 400, "text/plain")
	if !strings.Contains(r.body, "Filter Protocol is not mounted") {
		t.Fatalf("body %q", r.body)
	}
	f.svc.serviceSubs = []filter.PeerSubscription{}
	if r := do(t, h, "GET", "/admin/v1/filter/subscriptions", "", ""); r.code != 200 || r.body != "[]" {
		t.Fatalf("empty: %d %s", r.code, r.body)
	}
	f.svc.serviceSubs = []filter.PeerSubscription{{Peer: ids[0], LastSeen: time.Now(), Criteria: []filter.Criterion{
		{PubsubTopic: shard0, ContentTopic: ctA}, {PubsubTopic: shard0, ContentTopic: ctB}}}}
	r = do(t, h, "GET", "/admin/v1/filter/subscriptions", "", "")
	want := `[{"peerId":"` + ids[0].String() + `","filterCriteria":[{"pubsubTopic":"` + shard0 + `","contentTopic":"` + ctA +
		`"},{"pubsubTopic":"` + shard0 + `","contentTopic":"` + ctB + `"}]}]`
	if r.body != want {
		t.Fatalf("got  %s\nwant %s", r.body, want)
	}
}

func TestAdminViewsNeedAdmin(t *testing.T) {
	f, _ := adminFixture(t)
	h := newTestServer(t, f, nil).Handler()
	for _, p := range []string{"/admin/v1/peers/stats", "/admin/v1/peers/mesh", "/admin/v1/filter/subscriptions"} {
		do(t, h, "GET", p, "", "").want(t, 404, "text/plain")
	}
}
