package peerexchange

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/peerexchange/pb"
	"github.com/wakunode/wakunode/ratelimit"
)

func record(t testing.TB, cluster uint16, caps enr.Capabilities) (*enode.Node, enr.Info) {
	t.Helper()
	key, _ := ethcrypto.GenerateKey()
	ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, UDPPort: 9000,
		Caps: caps, Shards: &enr.RelayShards{Cluster: cluster, Shards: []uint16{0}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n := ln.Node()
	info, err := enr.Decode(n)
	if err != nil {
		t.Fatal(err)
	}
	return n, info
}

func TestExchange(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	var mesh = map[peer.ID]bool{}
	svc := NewService(server, ServiceConfig{InMesh: func(p peer.ID) bool { return mesh[p] }, StrictMesh: true})
	svc.Start()
	defer svc.Stop()
	lax := NewService(server, ServiceConfig{InMesh: func(p peer.ID) bool { return mesh[p] }})
	all := map[peer.ID]bool{}
	for i := 0; i < 10; i++ {
		n, info := record(t, 16, enr.Relay|enr.Filter)
		svc.Add(n, info)
		lax.Add(n, info)
		if i < 2 {
			mesh[info.PeerID] = true
		} else {
			all[info.PeerID] = true
		}
	}
	testhost.Connect(t, client, server)
	c := NewClient(client, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	got, err := c.Request(ctx, server.ID(), 5)
	if err != nil || len(got) != 5 {
		t.Fatalf("asked 5: %d peers, %v", len(got), err)
	}
	got, err = c.Request(ctx, server.ID(), 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[peer.ID]bool{}
	for _, p := range got {
		if mesh[p.Info.PeerID] {
			t.Fatal("a mesh peer was handed out")
		}
		if !all[p.Info.PeerID] || seen[p.Info.PeerID] {
			t.Fatalf("unexpected or repeated peer %s", p.Info.PeerID)
		}
		seen[p.Info.PeerID] = true
		if !p.Info.Caps.Has(enr.Filter) || len(p.Info.Addrs) == 0 {
			t.Fatalf("record lost its fields: %+v", p.Info)
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("asked 100: got %d, want every non-mesh peer of our cluster (%d)", len(seen), len(all))
	}

	// Without StrictMesh, mesh peers only fill what the others cannot.
	svc.Stop()
	lax.Start()
	defer lax.Stop()
	for _, tc := range []struct {
		ask       uint64
		wantMesh  int
		wantTotal int
	}{{8, 0, 8}, {100, 2, 10}} {
		got, err := c.Request(ctx, server.ID(), tc.ask)
		if err != nil {
			t.Fatal(err)
		}
		m := 0
		for _, p := range got {
			if mesh[p.Info.PeerID] {
				m++
			}
		}
		if m != tc.wantMesh || len(got) != tc.wantTotal {
			t.Fatalf("asked %d: %d peers, %d from the mesh; want %d, %d", tc.ask, len(got), m, tc.wantTotal, tc.wantMesh)
		}
	}

	// The client drops records of another cluster.
	lax.Stop()
	other := NewService(server, ServiceConfig{})
	foreign, finfo := record(t, 1, enr.Relay)
	other.Add(foreign, finfo)
	other.Start()
	defer other.Stop()
	if got, err := c.Request(ctx, server.ID(), 5); err != nil || len(got) != 0 {
		t.Fatalf("foreign-cluster record: %d peers, %v", len(got), err)
	}
}

func TestStatusCodes(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	lim := ratelimit.NewLimiter(ratelimit.Setting{Volume: 2, Period: time.Hour}, nil)
	svc := NewService(server, ServiceConfig{RateLimiter: lim})
	svc.Start()
	defer svc.Stop()
	testhost.Connect(t, client, server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := func(req *pb.PeerExchangeRPC) uint32 {
		resp := &pb.PeerExchangeRPC{}
		if err := rpc.Request(ctx, client, server.ID(), req, resp, MaxResponseSize, ProtocolID); err != nil {
			t.Fatal(err)
		}
		return resp.GetResponse().GetStatusCode()
	}
	c := NewClient(client, 16)
	if code := raw(&pb.PeerExchangeRPC{Response: &pb.PeerExchangeResponse{}}); code != StatusBadRequest {
		t.Fatalf("response as request: %d", code)
	}
	if code := raw(&pb.PeerExchangeRPC{Query: &pb.PeerExchangeQuery{}}); code != StatusBadRequest {
		t.Fatalf("num_peers 0: %d", code)
	}
	// Two requests are allowed: the first finds the cache empty, the second the limit spent.
	_, err := c.Request(ctx, server.ID(), 5)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != StatusServiceUnavailable {
		t.Fatalf("empty cache: %v", err)
	}
	n, info := record(t, 16, enr.Relay)
	svc.Add(n, info)
	if got, err := c.Request(ctx, server.ID(), 5); err != nil || len(got) != 1 {
		t.Fatalf("one cached peer: %d %v", len(got), err)
	}
	if _, err := c.Request(ctx, server.ID(), 5); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("third request: %v, want 429", err)
	}
}

func TestDecodeResponse(t *testing.T) {
	n, _ := record(t, 16, enr.Relay)
	good, _ := EncodeENR(n)
	noWaku, _ := record(t, 16, 0)
	nw, _ := EncodeENR(noWaku)
	ok := StatusSuccess
	bad := StatusServiceUnavailable
	cases := []struct {
		name          string
		rpc           *pb.PeerExchangeRPC
		peers, skip   int
		wantErrStatus uint32
	}{
		{"no response", &pb.PeerExchangeRPC{}, 0, 0, StatusBadResponse},
		{"go-waku: no status", &pb.PeerExchangeRPC{Response: &pb.PeerExchangeResponse{PeerInfos: []*pb.PeerInfo{{Enr: good}}}}, 1, 0, 0},
		{"200", &pb.PeerExchangeRPC{Response: &pb.PeerExchangeResponse{StatusCode: &ok, PeerInfos: []*pb.PeerInfo{{Enr: good}, {Enr: []byte{1, 2}}, {Enr: nw}}}}, 1, 2, 0},
		{"503", &pb.PeerExchangeRPC{Response: &pb.PeerExchangeResponse{StatusCode: &bad}}, 0, 0, StatusServiceUnavailable},
	}
	for _, tc := range cases {
		peers, skipped, err := DecodeResponse(tc.rpc)
		var se *StatusError
		switch {
		case tc.wantErrStatus != 0 && (!errors.As(err, &se) || se.Code != tc.wantErrStatus):
			t.Errorf("%s: err %v, want status %d", tc.name, err, tc.wantErrStatus)
		case tc.wantErrStatus == 0 && (err != nil || len(peers) != tc.peers || skipped != tc.skip):
			t.Errorf("%s: %d peers, %d skipped, %v", tc.name, len(peers), skipped, err)
		}
	}
}

func FuzzDecodeResponse(f *testing.F) {
	n, _ := record(f, 16, enr.Relay)
	good, _ := EncodeENR(n)
	ok := StatusSuccess
	seed, _ := proto.Marshal(&pb.PeerExchangeRPC{Response: &pb.PeerExchangeResponse{StatusCode: &ok, PeerInfos: []*pb.PeerInfo{{Enr: good}}}})
	f.Add(seed)
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeENR(b)
		rpc := &pb.PeerExchangeRPC{}
		if proto.Unmarshal(b, rpc) != nil {
			return
		}
		peers, _, err := DecodeResponse(rpc)
		if err != nil && len(peers) > 0 {
			t.Fatal("peers returned with an error")
		}
		for _, p := range peers {
			if p.Info.Caps == 0 || len(p.Info.Addrs) == 0 || p.Record == nil {
				t.Fatalf("non-Waku record accepted: %+v", p.Info)
			}
		}
	})
}

// FuzzAnswer drives the responder with arbitrary request bytes: every decodable request gets a
// status, and a 200 carries between 1 and the asked-for (at most MaxPeers) records.
func FuzzAnswer(f *testing.F) {
	seed, _ := proto.Marshal(&pb.PeerExchangeRPC{Query: &pb.PeerExchangeQuery{NumPeers: 3}})
	f.Add(seed)
	seed, _ = proto.Marshal(&pb.PeerExchangeRPC{Query: &pb.PeerExchangeQuery{NumPeers: 1 << 40}})
	f.Add(seed)
	f.Add([]byte{0x0a, 0x00})
	svc := NewService(testhost.New(f), ServiceConfig{})
	for i := 0; i < 5; i++ {
		n, info := record(f, 16, enr.Relay)
		svc.Add(n, info)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pb.PeerExchangeRPC{}
		if proto.Unmarshal(b, req) != nil {
			return // answered 400 by rpc.Server
		}
		resp := svc.answer("fuzzer", req).GetResponse()
		if resp == nil || resp.StatusCode == nil {
			t.Fatal("answer without status")
		}
		if n := len(resp.GetPeerInfos()); resp.GetStatusCode() == StatusSuccess &&
			(n == 0 || uint64(n) > min(req.GetQuery().GetNumPeers(), MaxPeers)) {
			t.Fatalf("%d records for %d asked", n, req.GetQuery().GetNumPeers())
		}
	})
}
