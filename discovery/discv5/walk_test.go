package discv5

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/enr"
)

// simNet is an in-process discv5 network on 127.0.0.1 whose tables are pre-filled (as after
// convergence), so a walk measures lookups, not bootstrapping.
type simNet struct {
	nodes []*Discovery
	waku  int
}

func newSimNet(b *testing.B, size, waku int) *simNet {
	b.Helper()
	s := &simNet{waku: waku}
	for i := 0; i < size; i++ {
		key, _ := ethcrypto.GenerateKey()
		bc := enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, Discv5: true}
		if i < waku {
			bc.Caps, bc.Shards = enr.Relay, &enr.RelayShards{Cluster: 16, Shards: []uint16{0}}
		}
		ln, err := enr.Build(bc)
		if err != nil {
			b.Fatal(err)
		}
		d, err := Start(Config{PrivateKey: key, LocalNode: ln.Enode(), ListenIP: net.IPv4(127, 0, 0, 1), NoWalk: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close(); ln.Close() })
		s.nodes = append(s.nodes, d)
	}
	rand.Shuffle(len(s.nodes), func(i, j int) { s.nodes[i], s.nodes[j] = s.nodes[j], s.nodes[i] })
	for _, d := range s.nodes {
		for _, j := range rand.Perm(len(s.nodes))[:min(len(s.nodes), 100)] {
			if o := s.nodes[j]; o != d {
				d.UDP().AddKnownNode(o.Self())
			}
		}
	}
	return s
}

// walk is the random walk the design's estimate models: FINDNODE to a not yet queried known
// node, at one of the three most populated distances, until want Waku nodes are found. It
// returns the number of queries, or -1 when the network is exhausted.
func walk(w *Discovery, boot *enode.Node, want int) (queries int) {
	known := []*enode.Node{boot}
	seen := map[enode.ID]bool{boot.ID(): true, w.Self().ID(): true}
	queried := map[enode.ID]bool{}
	found := 0
	for found < want {
		var cand []*enode.Node
		for _, n := range known {
			if !queried[n.ID()] {
				cand = append(cand, n)
			}
		}
		if len(cand) == 0 {
			return -1
		}
		n := cand[rand.IntN(len(cand))]
		queried[n.ID()] = true
		d := uint(256 - rand.IntN(3))
		res, err := w.UDP().Findnode(n, []uint{d, d - 1, d - 2})
		queries++
		if err != nil {
			continue
		}
		for _, r := range res {
			if seen[r.ID()] {
				continue
			}
			seen[r.ID()] = true
			known = append(known, r)
			if _, ok := Accept(r, 16, nil); ok {
				found++
			}
		}
	}
	return queries
}

// BenchmarkRandomWalk measures queries and time to find 1 and 3 Waku nodes by random walk in
// networks of differing Waku concentration. Run (see docs/discovery.md):
//
//	go test -run xxx -bench RandomWalk -benchtime 20x ./discovery/discv5
func BenchmarkRandomWalk(b *testing.B) {
	for _, c := range []struct{ size, waku int }{{400, 400}, {400, 40}, {400, 4}, {1000, 1}} {
		b.Run(fmt.Sprintf("nodes=%d/waku=%d", c.size, c.waku), func(b *testing.B) {
			s := newSimNet(b, c.size, c.waku)
			key, _ := ethcrypto.GenerateKey()
			ln, _ := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), Discv5: true})
			defer ln.Close()
			w, err := Start(Config{PrivateKey: key, LocalNode: ln.Enode(), ListenIP: net.IPv4(127, 0, 0, 1), NoWalk: true})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			var q1, q3, fail1, fail3 int
			var all1, all3 []int
			var t1, t3 time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				boot := s.nodes[rand.IntN(len(s.nodes))].Self()
				start := time.Now()
				if q := walk(w, boot, 1); q >= 0 {
					q1 += q
					all1 = append(all1, q)
					t1 += time.Since(start)
				} else {
					fail1++
				}
				if c.waku < 3 {
					continue
				}
				start = time.Now()
				if q := walk(w, boot, 3); q >= 0 {
					q3 += q
					all3 = append(all3, q)
					t3 += time.Since(start)
				} else {
					fail3++
				}
			}
			ok1, ok3 := b.N-fail1, b.N-fail3
			if ok1 > 0 {
				b.ReportMetric(float64(q1)/float64(ok1), "queries-to-1")
				b.ReportMetric(float64(t1.Milliseconds())/float64(ok1), "ms-to-1")
				b.ReportMetric(float64(p90(all1)), "p90-queries-to-1")
			}
			if c.waku >= 3 && ok3 > 0 {
				b.ReportMetric(float64(q3)/float64(ok3), "queries-to-3")
				b.ReportMetric(float64(t3.Milliseconds())/float64(ok3), "ms-to-3")
				b.ReportMetric(float64(p90(all3)), "p90-queries-to-3")
			}
			b.ReportMetric(float64(fail1), "exhausted")
		})
	}
}

func p90(v []int) int {
	slices.Sort(v)
	return v[(len(v)*9+9)/10-1]
}
