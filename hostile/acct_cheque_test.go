package hostile

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-msgio/pbio"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/swap"
	"github.com/wakunode/wakunode/swap/pb"
)

// A peer floods the swap door with oversized frames, garbage and forged cheques. Nothing is
// accepted, the balance it owes never moves, and an honest payer is still settled afterwards.
func TestAcctChequeFlood(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 100
	}
	server, attacker, honest := testhost.New(t), testhost.New(t), testhost.New(t)
	testhost.Connect(t, attacker, server)
	testhost.Connect(t, honest, server)
	m := accounting.NewMetrics(nil)
	l, _ := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, m)
	key, _ := crypto.GenerateKey()
	sw, err := swap.New(server, l, swap.Config{Mode: accounting.Mock, PaymentThreshold: 100, Key: key}, m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sw.Start()
	defer sw.Stop()

	hkey, _ := crypto.GenerateKey()
	hl, _ := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, nil)
	payer, _ := swap.New(honest, hl, swap.Config{Mode: accounting.Mock, PaymentThreshold: 100, Key: hkey}, nil, nil, nil)
	payer.Start()
	defer payer.Stop()

	l.Debit(attacker.ID(), accounting.Store, 500)
	forger, _ := crypto.GenerateKey()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		st, err := attacker.NewStream(ctx, server.ID(), swap.ProtocolID)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		_ = st.SetDeadline(time.Now().Add(5 * time.Second))
		switch i % 3 {
		case 0: // a frame far above the 1 KiB bound
			big := make([]byte, 64<<10)
			_, _ = rand.Read(big)
			_ = pbio.NewDelimitedWriter(st).WriteMsg(&pb.Cheque{Signature: big})
		case 1: // raw garbage
			junk := make([]byte, 200)
			_, _ = rand.Read(junk)
			_, _ = st.Write(junk)
		case 2: // a well-formed cheque by a key the attacker never proved
			c, _ := swap.IssueCheque(forger, nil, common.Address{}, sw.Address(), uint64(i+1), 1)
			_ = rpc.Write(st, c.Proto())
		}
		_ = st.CloseWrite()
		var resp pb.ChequeResponse
		if rpc.Read(st, swap.MaxMessageSize, &resp) == nil && resp.Accepted {
			t.Fatalf("attack %d accepted", i)
		}
		_ = st.Close()
	}
	if got := l.Balance(attacker.ID()); got != 500 {
		t.Fatalf("attacker's debt moved to %d", got)
	}
	if testutil.ToFloat64(m.Cheques.WithLabelValues("received", "accepted")) != 0 {
		t.Fatal("a cheque was accepted during the flood")
	}

	l.Debit(honest.ID(), accounting.Store, 100)
	hl.Credit(server.ID(), accounting.Store, 100)
	if paid, err := payer.Pay(ctx, server.ID()); err != nil || paid != 100 {
		t.Fatalf("honest payer after the flood: paid %d, %v", paid, err)
	}
	if l.Balance(honest.ID()) != 0 {
		t.Fatalf("honest payer's balance %d after its cheque", l.Balance(honest.ID()))
	}
}
