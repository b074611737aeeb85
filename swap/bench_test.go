package swap

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/swap/pb"
)

// BenchmarkChequeVerify measures how many cheques a payee checks per second: "signature" is
// the shape check and signer recovery anyone can do; "receive" is the whole acceptance path
// (handshake identity, signature, replay and ledger checks, settling the balance) with the
// cheque persisted to SQLite or not kept at all.
func BenchmarkChequeVerify(b *testing.B) {
	payer := newNode(b, accounting.Mock, nil)
	cheques := func(payee *node, n int) []*pb.Cheque {
		out := make([]*pb.Cheque, n)
		for i := range out {
			c, err := IssueCheque(payer.key, nil, common.Address{}, payee.swap.Address(), uint64(i+1), 1)
			if err != nil {
				b.Fatal(err)
			}
			out[i] = c.Proto()
		}
		return out
	}
	b.Run("signature", func(b *testing.B) {
		payee := newNode(b, accounting.Mock, nil)
		cs := cheques(payee, 1)
		b.ResetTimer()
		for range b.N {
			c, err := ChequeFromProto(cs[0])
			if err != nil {
				b.Fatal(err)
			}
			if who, err := c.Issuer(nil); err != nil || who != payer.swap.Address() {
				b.Fatalf("issuer %v, %v", who, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cheques/s")
	})
	for _, persist := range []bool{false, true} {
		b.Run(fmt.Sprintf("receive/persist=%v", persist), func(b *testing.B) {
			var store ChequeStore
			if persist {
				st, err := accounting.OpenSQLite(filepath.Join(b.TempDir(), "a.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				store = st
			}
			payee := newNode(b, accounting.Mock, store)
			testhost.Connect(b, payer.h, payee.h)
			ctx := context.Background()
			if _, err := payer.swap.Handshake(ctx, payee.h.ID()); err != nil {
				b.Fatal(err)
			}
			cs := cheques(payee, b.N)
			payee.ledger.Debit(payer.h.ID(), accounting.Store, int64(b.N))
			b.ResetTimer()
			for _, c := range cs {
				if r := payee.swap.Receive(ctx, payer.h.ID(), c); !r.Accepted {
					b.Fatalf("refused: %s", r.Reason)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cheques/s")
		})
	}
}
