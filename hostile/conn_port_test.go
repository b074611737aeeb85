package hostile

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/node"
)

func connListenPort(t *testing.T, n *node.Node, proto string) int {
	t.Helper()
	for _, a := range n.ListenAddrs() {
		if proto == "ws" && !strings.Contains(a.String(), "/ws") || proto == "tcp" && strings.Contains(a.String(), "/ws") {
			continue
		}
		s, err := a.ValueForProtocol(multiaddr.P_TCP)
		if err == nil {
			p, _ := strconv.Atoi(s)
			return p
		}
	}
	t.Fatalf("no %s address in %v", proto, n.ListenAddrs())
	return 0
}

// TestConnSecondNodeOnSamePortFails: like nwaku, a node whose TCP or WebSocket port is taken
// does not start (go-libp2p's SO_REUSEPORT would otherwise let both listen and split dials).
func TestConnSecondNodeOnSamePortFails(t *testing.T) {
	cfg := relayNodeConfig(t)
	cfg.WebSocket = true
	first := relayStartNode(t, cfg)
	for _, proto := range []string{"tcp", "ws"} {
		t.Run(proto, func(t *testing.T) {
			second := relayNodeConfig(t)
			second.WebSocket = true
			if proto == "tcp" {
				second.TCPPort = connListenPort(t, first, "tcp")
			} else {
				second.WebSocketPort = connListenPort(t, first, "ws")
			}
			n, err := node.New(second)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Start(context.Background())
			if err == nil {
				_ = n.Stop()
				t.Fatal("second node started on a port in use")
			}
			if !strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("error %q does not say the address is in use", err)
			}
		})
	}
}
