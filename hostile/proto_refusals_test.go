package hostile

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/filter"
	fpb "github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/lightpush"
	lpb "github.com/wakunode/wakunode/lightpush/pb"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/metadata"
	mdpb "github.com/wakunode/wakunode/metadata/pb"
	"github.com/wakunode/wakunode/peerexchange"
	pxpb "github.com/wakunode/wakunode/peerexchange/pb"
)

type nopPublisher struct{}

func (nopPublisher) PublishEnvelope(context.Context, *message.Envelope) (int, error) { return 1, nil }

// exchange writes one raw frame on a fresh stream (all of it, before reading, as nwaku's
// clients do) and reads the one response.
func exchange(t *testing.T, from, to host.Host, p protocol.ID, frame []byte, resp proto.Message) {
	t.Helper()
	st, err := from.NewStream(context.Background(), to.ID(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := msgio.NewVarintWriter(st).WriteMsg(frame); err != nil {
		t.Fatalf("%s: write: %v", p, err)
	}
	_ = st.CloseWrite()
	if err := rpc.Read(st, 1<<20, resp); err != nil {
		t.Fatalf("%s: no answer, the stream was reset or closed: %v", p, err)
	}
}

// TestProtoRefusalsAreStatusCodes: undecodable and oversized requests get the protocol's status
// code, not a bare stream reset.
func TestProtoRefusalsAreStatusCodes(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	lp, err := lightpush.NewService(server, lightpush.Config{Publisher: nopPublisher{}, Validator: message.Validator{Cluster: 1}})
	if err != nil {
		t.Fatal(err)
	}
	lp.Start()
	t.Cleanup(lp.Stop)
	px := peerexchange.NewService(server, peerexchange.ServiceConfig{})
	px.Start()
	t.Cleanup(px.Stop)
	md := metadata.NewService(server, metadata.Config{Cluster: 1, Shards: func() []uint16 { return []uint16{0, 3} }})
	t.Cleanup(md.Close)
	fs := filter.NewService(server, filter.Config{})
	fs.Start()
	t.Cleanup(fs.Stop)
	testhost.Connect(t, client, server)

	garbage := []byte{0x0a, 0xff}
	big := 10 << 20 // the 10 MB lightpush of the issue
	if testing.Short() {
		big = lightpush.MaxRPCSize + 1
	}

	t.Run("lightpush v3 oversized is 413", func(t *testing.T) {
		resp := &lpb.LightpushResponse{}
		exchange(t, client, server, lightpush.ProtocolV3, make([]byte, big), resp)
		if resp.GetStatusCode() != lightpush.StatusPayloadTooLarge {
			t.Fatalf("status %d %q", resp.GetStatusCode(), resp.GetStatusDesc())
		}
	})
	t.Run("lightpush v3 undecodable is 400", func(t *testing.T) {
		resp := &lpb.LightpushResponse{}
		exchange(t, client, server, lightpush.ProtocolV3, garbage, resp)
		if resp.GetStatusCode() != lightpush.StatusBadRequest {
			t.Fatalf("status %d", resp.GetStatusCode())
		}
	})
	t.Run("peer exchange undecodable is 400", func(t *testing.T) {
		resp := &pxpb.PeerExchangeRPC{}
		exchange(t, client, server, peerexchange.ProtocolID, garbage, resp)
		if resp.GetResponse().GetStatusCode() != peerexchange.StatusBadRequest {
			t.Fatalf("response %v", resp)
		}
	})
	t.Run("peer exchange oversized is 400", func(t *testing.T) {
		resp := &pxpb.PeerExchangeRPC{}
		exchange(t, client, server, peerexchange.ProtocolID, make([]byte, peerexchange.MaxRequestSize+1), resp)
		if resp.GetResponse().GetStatusCode() != peerexchange.StatusBadRequest {
			t.Fatalf("response %v", resp)
		}
	})
	t.Run("metadata undecodable still gets our metadata", func(t *testing.T) {
		resp := &mdpb.WakuMetadataResponse{}
		exchange(t, client, server, metadata.ProtocolID, garbage, resp)
		if resp.GetClusterId() != 1 || len(resp.GetShards()) != 2 {
			t.Fatalf("response %v", resp)
		}
		if _, ok := md.Remote(client.ID()); ok {
			t.Fatal("an undecodable request was recorded")
		}
	})
	t.Run("filter oversized is 400", func(t *testing.T) {
		resp := &fpb.FilterSubscribeResponse{}
		exchange(t, client, server, filter.SubscribeProtocol, make([]byte, filter.MaxRPCSize+1), resp)
		if resp.GetStatusCode() != filter.StatusBadRequest {
			t.Fatalf("status %d", resp.GetStatusCode())
		}
	})
}
