package wakuv1

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/ethereum/go-ethereum/p2p/enode"
)

// BenchmarkPoolMemory prints the heap the pool takes with 10,000 envelopes in flight, each
// decoded from its wire bytes as a peer's would be (data aliases the kept encoding).
//
//	go test -run XXX -bench PoolMemory -benchtime 1x ./wakuv1/
func BenchmarkPoolMemory(b *testing.B) {
	const n = 10_000
	var rows []string
	for b.Loop() {
		for _, size := range []int{256, 1024, 10240} {
			raws := make([][]byte, n)
			for i := range raws {
				data := make([]byte, size)
				binary.BigEndian.PutUint64(data, uint64(i))
				e := &Envelope{Expiry: 2_000_000_000, TTL: 50, Topic: Topic{1, 2, 3, 4}, Data: data, Nonce: uint64(i)}
				raws[i], _ = e.Encode()
			}
			wire := 0
			for _, r := range raws {
				wire += len(r)
			}
			before := heap()
			p := newPool(2*n, 1<<40)
			from := enode.ID{1}
			for _, raw := range raws {
				e, err := DecodeEnvelope(raw)
				if err != nil {
					b.Fatal(err)
				}
				e.PoW()
				if err := p.add(e, raw, from); err != nil {
					b.Fatal(err)
				}
			}
			after := heap()
			entries, accounted := p.size()
			runtime.KeepAlive(p)
			// The raw encodings were allocated before "before": count them in, they are what
			// the pool keeps.
			total := after - before + uint64(wire)
			rows = append(rows, fmt.Sprintf("| %d B | %d | %.1f MB | %.1f MB | %d B | %.1f MB |", size, entries,
				float64(wire)/1e6, float64(total)/1e6, int(total)/n-size, float64(accounted)/1e6))
		}
	}
	fmt.Printf("\n| data size | envelopes | wire bytes | pool heap | overhead per envelope | pool's own accounting (PoolBytes) |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Println(r)
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
