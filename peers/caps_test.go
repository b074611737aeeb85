package peers

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/enr"
)

// The waku2 sync bit (4) means both store-sync protocols, and only that bit does.
func TestCapsServeStoreSync(t *testing.T) {
	for _, p := range []protocol.ID{"/vac/waku/reconciliation/1.0.0", "/vac/waku/transfer/1.0.0"} {
		if !capsServe(enr.Sync, p) {
			t.Errorf("sync bit does not imply %s", p)
		}
		if capsServe(enr.Relay|enr.Store|enr.Filter|enr.Lightpush, p) {
			t.Errorf("%s implied without the sync bit", p)
		}
	}
}
