package hostile

import (
	"testing"

	"github.com/libp2p/go-libp2p"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/lightpush"
	lpb "github.com/wakunode/wakunode/lightpush/pb"
	"github.com/wakunode/wakunode/message"
)

// TestProtoRequestMemoryReserved: a request is buffered only after the resource manager grants
// its size to the stream; a node whose streams may hold 256 KiB answers a 1 MiB lightpush
// (under the protocol's own cap) with 503, and still serves a small one.
func TestProtoRequestMemoryReserved(t *testing.T) {
	limits := rcmgr.PartialLimitConfig{
		Stream: rcmgr.ResourceLimits{Memory: 256 << 10},
	}.Build(rcmgr.DefaultLimits.AutoScale())
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		t.Fatal(err)
	}
	server := testhost.New(t, libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.ResourceManager(rm))
	client := testhost.New(t)
	lp, err := lightpush.NewService(server, lightpush.Config{Publisher: nopPublisher{}, Validator: message.Validator{Cluster: 1}})
	if err != nil {
		t.Fatal(err)
	}
	lp.Start()
	t.Cleanup(lp.Stop)
	testhost.Connect(t, client, server)

	resp := &lpb.LightpushResponse{}
	exchange(t, client, server, lightpush.ProtocolV3, make([]byte, 1<<20), resp)
	if resp.GetStatusCode() != lightpush.StatusServiceNotAvailable {
		t.Fatalf("1 MiB request: status %d %q, want 503", resp.GetStatusCode(), resp.GetStatusDesc())
	}
	resp = &lpb.LightpushResponse{}
	exchange(t, client, server, lightpush.ProtocolV3, []byte{0x0a, 0x01, 'x'}, resp) // request_id "x", no message
	if resp.GetStatusCode() != lightpush.StatusBadRequest || resp.GetRequestId() != "x" {
		t.Fatalf("small request: %v", resp)
	}
}
