package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	gproto "google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

const (
	testTopic = "/waku/2/rs/1/0"
	ctA       = "/app/1/a/proto"
	ctB       = "/app/1/b/proto"
)

var testNow = time.Unix(1_700_000_000, 0)

// corpus: n messages on testTopic, alternating content topics A,A,B, 1 ms apart with ties.
func corpus(n int) []*message.Envelope {
	base := testNow.Add(-10 * time.Second).UnixNano()
	out := make([]*message.Envelope, n)
	for i := range out {
		ct := ctA
		if i%3 == 2 {
			ct = ctB
		}
		ts := base + int64(i/2)*int64(time.Millisecond)
		e, err := message.NewEnvelope(testTopic, &pb.WakuMessage{Payload: []byte(fmt.Sprintf("p%d", i)), ContentTopic: ct, Timestamp: &ts}, ts)
		if err != nil {
			panic(err)
		}
		out[i] = e
	}
	return out
}

// ordered returns es in store order (timestamp, then hash bytes).
func ordered(es []*message.Envelope) []*message.Envelope {
	cp := append([]*message.Envelope(nil), es...)
	sort.Slice(cp, func(i, j int) bool {
		ti, tj := cp[i].Message.GetTimestamp(), cp[j].Message.GetTimestamp()
		if ti != tj {
			return ti < tj
		}
		return string(cp[i].Hash[:]) < string(cp[j].Hash[:])
	})
	return cp
}

func openArchive(t testing.TB, es []*message.Envelope) *archive.Archive {
	t.Helper()
	a, err := archive.Open(context.Background(), archive.Config{
		URL: "sqlite://" + filepath.Join(t.TempDir(), "s.sqlite3"), Migrate: true,
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for _, e := range es {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

// setup starts a store node over q and a client host connected to it.
func setup(t testing.TB, q Querier, cfg ServiceConfig) (*Client, peer.ID) {
	t.Helper()
	server, client := testhost.New(t), testhost.New(t)
	cfg.Legacy = true
	s := NewService(server, q, cfg)
	s.Start()
	t.Cleanup(s.Stop)
	testhost.Connect(t, client, server)
	return NewClient(client, ClientConfig{}), server.ID()
}

type denyAll struct{}

func (denyAll) Allow(peer.ID) bool { return false }

type failing struct{}

func (failing) Query(context.Context, archive.Query) (archive.Page, error) {
	return archive.Page{}, fmt.Errorf("disk on fire")
}

func ptr[T any](v T) *T { return &v }

// rawExchange sends frame as a whole request on proto to a store node (legacy mounted) and
// reads its one response into resp.
func rawExchange(t *testing.T, proto protocol.ID, frame []byte, resp gproto.Message) {
	t.Helper()
	server, client := testhost.New(t), testhost.New(t)
	s := NewService(server, openArchive(t, nil), ServiceConfig{Legacy: true})
	s.Start()
	t.Cleanup(s.Stop)
	testhost.Connect(t, client, server)
	st, err := client.NewStream(context.Background(), server.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := msgio.NewVarintWriter(st).WriteMsg(frame); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseWrite()
	if err := rpc.Read(st, DefaultMaxResponseSize, resp); err != nil {
		t.Fatal(err)
	}
}
