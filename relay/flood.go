package relay

import (
	"context"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// newFloodSub starts floodsub on the Waku relay protocol ID (Config.Flood): every message is
// forwarded to every topic peer except the one it came from and its source, the Waku v1
// model the simulator compares gossipsub against. opts must hold router-independent options
// only (floodsub refuses the gossipsub ones).
func newFloodSub(ctx context.Context, h host.Host, opts []pubsub.Option) (*pubsub.PubSub, error) {
	ps, err := pubsub.NewFloodsubWithProtocols(ctx, h, []protocol.ID{ProtocolID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("floodsub: %w", err)
	}
	return ps, nil
}
