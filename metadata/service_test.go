package metadata

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/metadata/pb"
)

func shardsOf(s ...uint16) func() []uint16 { return func() []uint16 { return s } }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// A relay node (cluster 1, shards 0..7) and a light node (cluster 1, no shards) query each other.
func TestQueryBothWays(t *testing.T) {
	relayH, lightH := testhost.New(t), testhost.New(t)
	relayCfg := Config{Cluster: 1, Shards: shardsOf(0, 1, 2, 3, 4, 5, 6, 7)}
	lightCfg := Config{Cluster: 1}
	relaySvc := NewService(relayH, relayCfg)
	defer relaySvc.Close()
	lightSvc := NewService(lightH, lightCfg)
	defer lightSvc.Close()
	testhost.Connect(t, lightH, relayH)

	got, err := NewClient(lightH, lightCfg).Query(ctx(t), relayH.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasCluster || got.Cluster != 1 || !slices.Equal(got.Shards, []uint32{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("relay answered %+v", got)
	}
	if err := Verify(1, got, true); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rem, ok := relaySvc.Remote(lightH.ID()); !ok || !rem.HasCluster || rem.Cluster != 1 || len(rem.Shards) != 0 {
		t.Fatalf("relay recorded %+v, %v", rem, ok)
	}

	got, err = NewClient(relayH, relayCfg).Query(ctx(t), lightH.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasCluster || got.Cluster != 1 || len(got.Shards) != 0 {
		t.Fatalf("light answered %+v", got)
	}
	if err := Verify(1, got, false); err != nil {
		t.Fatalf("Verify light: %v", err)
	}
	if rem, ok := lightSvc.Remote(relayH.ID()); !ok || !slices.Equal(rem.Shards, []uint32{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("light recorded %+v, %v", rem, ok)
	}
	if _, ok := lightSvc.Remote(lightH.ID()); ok {
		t.Fatal("Remote of a peer that never asked")
	}
}

// The shard func is read per exchange, so answers follow subscription changes.
func TestServiceFollowsShards(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	var mu sync.Mutex
	cur := []uint16{1}
	svc := NewService(a, Config{Cluster: 16, Shards: func() []uint16 { mu.Lock(); defer mu.Unlock(); return cur }})
	defer svc.Close()
	testhost.Connect(t, b, a)
	c := NewClient(b, Config{Cluster: 16})
	for _, want := range [][]uint16{{1}, {2, 3}, nil} {
		mu.Lock()
		cur = want
		mu.Unlock()
		got, err := c.Query(ctx(t), a.ID())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got.Shards, want, func(a uint32, b uint16) bool { return a == uint32(b) }) || got.Cluster != 16 {
			t.Fatalf("got %+v, want shards %v", got, want)
		}
	}
}

// exchangeRaw sends req bytes as one length-prefixed frame and returns the raw response body.
func exchangeRaw(t *testing.T, from host.Host, to peer.ID, body []byte) []byte {
	t.Helper()
	s, err := from.NewStream(ctx(t), to, ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := msgio.NewVarintWriter(s).WriteMsg(body); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := msgio.NewVarintReaderSize(s, MaxMessageSize).ReadMsg()
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

type field struct {
	num protowire.Number
	typ protowire.Type
	val []byte // LEN payload
	v   uint64 // VARINT value
}

func fields(t *testing.T, b []byte) []field {
	t.Helper()
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.val, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("unexpected wire type %d", typ)
		}
		if n < 0 {
			t.Fatalf("bad value: %v", protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out
}

// The response carries cluster_id, each shard as an unpacked field 2 varint (js-waku), and the
// packed list in field 3 (go-waku).
func TestResponseWireFormat(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	svc := NewService(a, Config{Cluster: 1, Shards: shardsOf(0, 5, 300)})
	defer svc.Close()
	testhost.Connect(t, b, a)
	req, _ := proto.Marshal(newRequest(1, nil))
	fs := fields(t, exchangeRaw(t, b, a.ID(), req))

	var cluster []uint64
	var unpacked []uint64
	var packed [][]byte
	for _, f := range fs {
		switch {
		case f.num == 1 && f.typ == protowire.VarintType:
			cluster = append(cluster, f.v)
		case f.num == 2 && f.typ == protowire.VarintType:
			unpacked = append(unpacked, f.v)
		case f.num == 3 && f.typ == protowire.BytesType:
			packed = append(packed, f.val)
		default:
			t.Fatalf("unexpected field %d type %d", f.num, f.typ)
		}
	}
	if !slices.Equal(cluster, []uint64{1}) {
		t.Fatalf("cluster_id fields %v", cluster)
	}
	if !slices.Equal(unpacked, []uint64{0, 5, 300}) {
		t.Fatalf("field 2 unpacked %v", unpacked)
	}
	if len(packed) != 1 {
		t.Fatalf("%d packed field 3 entries", len(packed))
	}
	var vals []uint64
	for p := packed[0]; len(p) > 0; {
		v, n := protowire.ConsumeVarint(p)
		if n < 0 {
			t.Fatal("bad packed varint")
		}
		vals, p = append(vals, v), p[n:]
	}
	if !slices.Equal(vals, []uint64{0, 5, 300}) {
		t.Fatalf("field 3 packed %v", vals)
	}
}

// js-waku 0.0.36 sends shards only in field 2, unpacked; nwaku may send field 2 packed.
func TestRequestFieldTwoOnly(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	svc := NewService(a, Config{Cluster: 1})
	defer svc.Close()
	testhost.Connect(t, b, a)

	unpacked := protowire.AppendTag(nil, 1, protowire.VarintType)
	unpacked = protowire.AppendVarint(unpacked, 1)
	for _, s := range []uint64{2, 4} {
		unpacked = protowire.AppendTag(unpacked, 2, protowire.VarintType)
		unpacked = protowire.AppendVarint(unpacked, s)
	}
	packed := protowire.AppendTag(nil, 1, protowire.VarintType)
	packed = protowire.AppendVarint(packed, 1)
	packed = protowire.AppendTag(packed, 2, protowire.BytesType)
	packed = protowire.AppendBytes(packed, []byte{6, 7})

	for name, c := range map[string]struct {
		body []byte
		want []uint32
	}{"unpacked": {unpacked, []uint32{2, 4}}, "packed": {packed, []uint32{6, 7}}} {
		exchangeRaw(t, b, a.ID(), c.body)
		rem, ok := svc.Remote(b.ID())
		if !ok || !rem.HasCluster || rem.Cluster != 1 || !slices.Equal(rem.Shards, c.want) {
			t.Fatalf("%s: recorded %+v, %v", name, rem, ok)
		}
	}

	// No cluster at all: recorded as such, and Verify rejects it.
	exchangeRaw(t, b, a.ID(), nil)
	rem, ok := svc.Remote(b.ID())
	if !ok || rem.HasCluster {
		t.Fatalf("empty request recorded %+v, %v", rem, ok)
	}
	if err := Verify(1, rem, false); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("Verify = %v", err)
	}
}

// Field 3 wins over field 2 when both are present.
func TestFieldThreePreferred(t *testing.T) {
	c := uint32(1)
	info := responseInfo(&pb.WakuMetadataResponse{ClusterId: &c, ShardsDeprecated: []uint32{9}, Shards: []uint32{1, 2}})
	if !slices.Equal(info.Shards, []uint32{1, 2}) {
		t.Fatalf("shards %v", info.Shards)
	}
}

func TestCloseRemovesHandler(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	svc := NewService(a, Config{Cluster: 1})
	testhost.Connect(t, b, a)
	c := NewClient(b, Config{Cluster: 1})
	if _, err := c.Query(ctx(t), a.ID()); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if slices.Contains(a.Mux().Protocols(), ProtocolID) {
		t.Fatal("handler still mounted")
	}
	if _, err := c.Query(ctx(t), a.ID()); err == nil {
		t.Fatal("query after Close: want error")
	}
	if _, ok := svc.Remote(b.ID()); ok {
		t.Fatal("Remote kept after Close")
	}
}

func TestRemoteForgottenOnDisconnect(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	svc := NewService(a, Config{Cluster: 1})
	defer svc.Close()
	testhost.Connect(t, b, a)
	if _, err := NewClient(b, Config{Cluster: 1, Shards: shardsOf(3)}).Query(ctx(t), a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, ok := svc.Remote(b.ID()); !ok {
		t.Fatal("not recorded")
	}
	// Wait for a's side of the disconnect. Notifees run one after another under a read lock,
	// so once ours has fired, StopNotify (which takes the write lock) returns only after the
	// service's notifee has run too.
	done := make(chan struct{})
	var once sync.Once
	watch := &network.NotifyBundle{DisconnectedF: func(n network.Network, c network.Conn) {
		if c.RemotePeer() == b.ID() && n.Connectedness(b.ID()) != network.Connected {
			once.Do(func() { close(done) })
		}
	}}
	a.Network().Notify(watch)
	if err := b.Network().ClosePeer(a.ID()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx(t).Done():
		t.Fatal("no disconnect")
	}
	a.Network().StopNotify(watch)
	if _, ok := svc.Remote(b.ID()); ok {
		t.Fatal("Remote kept after disconnect")
	}
}

func TestQueryUnreachable(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	testhost.Connect(t, b, a) // a has no metadata service
	if _, err := NewClient(b, Config{Cluster: 1}).Query(ctx(t), a.ID()); err == nil {
		t.Fatal("want error")
	}
}
