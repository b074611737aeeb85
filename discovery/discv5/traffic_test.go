package discv5

import (
	"fmt"
	"net"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/enr"
)

// BenchmarkIdleTraffic measures what discv5 costs an idle node: a network of Waku nodes on
// 127.0.0.1, every one walking with its table already filled, and the UDP bytes each sends
// and receives per second once the network has settled. It prints a table.
//
//	go test -run '^$' -bench IdleTraffic -benchtime 1x ./discovery/discv5/
func BenchmarkIdleTraffic(b *testing.B) {
	const size, settle, window = 16, 3 * time.Second, 15 * time.Second
	for i := 0; i < b.N; i++ {
		var nodes []*Discovery
		for j := 0; j < size; j++ {
			key, _ := ethcrypto.GenerateKey()
			ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000,
				Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{0}}, Discv5: true})
			if err != nil {
				b.Fatal(err)
			}
			var boot []*enode.Node
			if len(nodes) > 0 {
				boot = []*enode.Node{nodes[0].Self()}
			}
			d, err := Start(Config{PrivateKey: key, LocalNode: ln.Enode(), ListenIP: net.IPv4(127, 0, 0, 1),
				Bootnodes: boot, Cluster: 16, Sink: func(*enode.Node, enr.Info) {}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { d.Close(); ln.Close() })
			nodes = append(nodes, d)
		}
		for _, d := range nodes {
			for _, o := range nodes {
				if o != d {
					d.UDP().AddKnownNode(o.Self())
				}
			}
		}
		time.Sleep(settle)
		in0, out0 := totals(nodes)
		time.Sleep(window)
		in1, out1 := totals(nodes)
		secs := window.Seconds() * size
		fmt.Printf("\n| nodes | window | discv5 B/s in per node | discv5 B/s out per node |\n|---:|---:|---:|---:|\n| %d | %s | %.0f | %.0f |\n",
			size, window, float64(in1-in0)/secs, float64(out1-out0)/secs)
	}
}

func totals(nodes []*Discovery) (in, out uint64) {
	for _, d := range nodes {
		i, o := d.Traffic()
		in, out = in+i, out+o
	}
	return in, out
}
