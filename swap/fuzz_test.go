package swap

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/swap/pb"
)

// FuzzCheque feeds arbitrary bytes through the cheque door: decode, shape check, signature
// recovery and the full receive path. Nothing may panic, and nothing unsigned may be accepted.
func FuzzCheque(f *testing.F) {
	key, _ := crypto.GenerateKey()
	payee, _ := crypto.GenerateKey()
	payeeAddr := crypto.PubkeyToAddress(payee.PublicKey)
	good, _ := IssueCheque(key, nil, common.Address{}, payeeAddr, 10, 1)
	b, _ := proto.Marshal(good.Proto())
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x14})
	l, _ := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, nil)
	s, err := New(nil, l, Config{Mode: accounting.Mock, PaymentThreshold: 100, Key: payee}, nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	const from = peer.ID("payer")
	_ = s.remember(from, Identity{Address: crypto.PubkeyToAddress(key.PublicKey)})
	l.Debit(from, accounting.Store, 1<<40)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.Cheque
		if proto.Unmarshal(data, &m) != nil {
			return
		}
		if c, err := ChequeFromProto(&m); err == nil {
			_, _ = c.Issuer(nil)
		}
		r := s.Receive(context.Background(), from, &m)
		if r.Accepted {
			c, err := ChequeFromProto(&m)
			if err != nil {
				t.Fatalf("accepted a malformed cheque: %v", err)
			}
			if who, err := c.Issuer(nil); err != nil || who != crypto.PubkeyToAddress(key.PublicKey) {
				t.Fatal("accepted a cheque not signed by the payer")
			}
		}
	})
}

// FuzzHandshake: arbitrary handshakes never panic and are accepted only when self-signed.
func FuzzHandshake(f *testing.F) {
	key, _ := crypto.GenerateKey()
	hs, _ := makeHandshake("peer", key, common.Address{})
	b, _ := proto.Marshal(hs)
	f.Add(b)
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.Handshake
		if proto.Unmarshal(data, &m) != nil {
			return
		}
		id, err := verifyHandshake("peer", &m)
		if err == nil && id.Address != common.BytesToAddress(m.GetBeneficiary()) {
			t.Fatal("identity differs from the signed address")
		}
	})
}
