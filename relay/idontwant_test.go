package relay

import (
	"crypto/sha256"
	"slices"
	"strings"
	"testing"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/wakunode/wakunode/internal/testhost"
)

// TestIDontWantMinSize: the relay sends an IDONTWANT ahead of each forwarded message of at
// least Params.IDontWantMinSize bytes (1,024 when unset), and none for smaller ones.
func TestIDontWantMinSize(t *testing.T) {
	small := encode(t, wakuMsg(strings.Repeat("s", 1200))) // over 1,024, under 1,536 bytes
	large := encode(t, wakuMsg(strings.Repeat("l", 2048)))
	smallID, largeID := sha256.Sum256(small), sha256.Sum256(large)
	for _, tc := range []struct {
		name    string
		minSize int
		want    [][32]byte
	}{
		{"library default", 0, [][32]byte{smallID, largeID}},
		{"1536", 1536, [][32]byte{largeID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testhost.New(t)
			cfg := testConfig(newCountMetrics())
			cfg.Params.IDontWantMinSize = tc.minSize
			r, pub := relayAndPeer(t, h, cfg, newCollector())
			recv := newRawPeer(t, h)
			recv.subscribe(t, testTopic)
			waitFor(t, "receiver in the mesh", func() bool { return slices.Contains(r.tr.meshPeers(testTopic), recv.h.ID()) })
			topic := testTopic
			pub.publish(t, &pubsubpb.Message{Data: small, Topic: &topic})
			pub.publish(t, &pubsubpb.Message{Data: large, Topic: &topic})

			// The IDONTWANT goes out before validation and the message after it, on the same
			// stream, so once both messages have arrived every IDONTWANT sent has too.
			var got map[string]int
			var idontwant [][32]byte
			waitFor(t, "both messages forwarded", func() bool {
				got, idontwant = map[string]int{}, nil
				for _, rpc := range decodeFrames(t, recv.frames()) {
					for _, m := range rpc.GetPublish() {
						got[string(m.GetData())]++
					}
					for _, c := range rpc.GetControl().GetIdontwant() {
						for _, id := range c.GetMessageIDs() {
							idontwant = append(idontwant, [32]byte([]byte(id)))
						}
					}
				}
				return got[string(small)] == 1 && got[string(large)] == 1
			})
			if !slices.Equal(idontwant, tc.want) {
				t.Fatalf("IDONTWANT for %x, want %x (small %x, large %x)", idontwant, tc.want, smallID, largeID)
			}
		})
	}
}
