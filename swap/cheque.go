// Package swap is the settlement half of 18/WAKU2-SWAP (/vac/waku/swap/2.0.0-beta1): a
// handshake that exchanges settlement addresses, and cumulative cheques signed with a
// secp256k1 settlement key that move the accounting ledger back toward zero. Soft mode only
// accounts; mock mode exchanges and verifies cheques without a chain; hard mode also checks
// and cashes them on a chain through the Chain interface (package swap/contracts).
package swap

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	stdmath "math"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	gmath "github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/swap/pb"
)

// ChequeDigest is what a cheque's signature covers: the EIP-191 ("\x19Ethereum Signed
// Message:\n32") hash of keccak256(chainID ‖ chequebook ‖ beneficiary ‖ cumulative) with the
// integers as 32-byte big-endian words, i.e. Solidity's
// keccak256(abi.encodePacked(block.chainid, address(this), beneficiary, cumulativeAmount)).
// Binding chain and chequebook keeps a cheque from being replayed against another contract.
func ChequeDigest(chainID *big.Int, chequebook, beneficiary common.Address, cumulative uint64) []byte {
	if chainID == nil {
		chainID = new(big.Int)
	}
	inner := crypto.Keccak256(
		gmath.U256Bytes(new(big.Int).Set(chainID)),
		chequebook.Bytes(),
		beneficiary.Bytes(),
		gmath.U256Bytes(new(big.Int).SetUint64(cumulative)),
	)
	return accounts.TextHash(inner)
}

// sign returns a 65-byte r||s||v signature with v = 27/28 (what ecrecover expects).
func sign(digest []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(digest, key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// recoverSigner returns the address that made sig over digest, refusing malleable (high-s)
// or malformed signatures.
func recoverSigner(digest, sig []byte) (common.Address, error) {
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, fmt.Errorf("signature is %d bytes, want %d", len(sig), crypto.SignatureLength)
	}
	v := sig[64]
	if v != 27 && v != 28 {
		return common.Address{}, fmt.Errorf("signature v = %d, want 27 or 28", v)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(v-27, r, s, true) {
		return common.Address{}, errors.New("signature values out of range")
	}
	plain := make([]byte, 65)
	copy(plain, sig)
	plain[64] = v - 27
	pub, err := crypto.SigToPub(digest, plain)
	if err != nil {
		return common.Address{}, err
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// Cheque is a decoded, well-formed cheque.
type Cheque struct {
	Chequebook  common.Address
	Beneficiary common.Address
	Cumulative  uint64
	Date        uint32
	Signature   []byte
}

// IssueCheque signs a cumulative cheque with key.
func IssueCheque(key *ecdsa.PrivateKey, chainID *big.Int, chequebook, beneficiary common.Address, cumulative uint64, date uint32) (*Cheque, error) {
	if cumulative > stdmath.MaxUint32 {
		return nil, fmt.Errorf("cumulative amount %d does not fit the wire's uint32", cumulative)
	}
	sig, err := sign(ChequeDigest(chainID, chequebook, beneficiary, cumulative), key)
	if err != nil {
		return nil, fmt.Errorf("sign cheque: %w", err)
	}
	return &Cheque{Chequebook: chequebook, Beneficiary: beneficiary, Cumulative: cumulative, Date: date, Signature: sig}, nil
}

// Issuer recovers the address that signed c (anyone can verify a cheque).
func (c *Cheque) Issuer(chainID *big.Int) (common.Address, error) {
	return recoverSigner(ChequeDigest(chainID, c.Chequebook, c.Beneficiary, c.Cumulative), c.Signature)
}

// Proto encodes c for the wire.
func (c *Cheque) Proto() *pb.Cheque {
	return &pb.Cheque{Beneficiary: c.Beneficiary.Bytes(), Date: c.Date, Amount: uint32(c.Cumulative),
		Signature: c.Signature, Chequebook: c.Chequebook.Bytes()}
}

// ChequeFromProto validates the shape of a wire cheque (not its signature).
func ChequeFromProto(m *pb.Cheque) (*Cheque, error) {
	if len(m.GetBeneficiary()) != common.AddressLength {
		return nil, fmt.Errorf("cheque beneficiary is %d bytes, want %d", len(m.GetBeneficiary()), common.AddressLength)
	}
	if n := len(m.GetChequebook()); n != 0 && n != common.AddressLength {
		return nil, fmt.Errorf("cheque chequebook is %d bytes, want 0 or %d", n, common.AddressLength)
	}
	if len(m.GetSignature()) != crypto.SignatureLength {
		return nil, fmt.Errorf("cheque signature is %d bytes, want %d", len(m.GetSignature()), crypto.SignatureLength)
	}
	return &Cheque{
		Chequebook:  common.BytesToAddress(m.GetChequebook()),
		Beneficiary: common.BytesToAddress(m.GetBeneficiary()),
		Cumulative:  uint64(m.GetAmount()),
		Date:        m.GetDate(),
		Signature:   append([]byte(nil), m.GetSignature()...),
	}, nil
}

// handshakeDigest binds a settlement address to a libp2p peer id.
func handshakeDigest(id peer.ID, chequebook []byte) []byte {
	return accounts.TextHash(crypto.Keccak256([]byte("waku-swap-handshake"), []byte(id), chequebook))
}

// Identity is what a peer's handshake established.
type Identity struct {
	Address    common.Address
	Chequebook common.Address
}

// makeHandshake signs our handshake for peer id self.
func makeHandshake(self peer.ID, key *ecdsa.PrivateKey, chequebook common.Address) (*pb.Handshake, error) {
	var cb []byte
	if chequebook != (common.Address{}) {
		cb = chequebook.Bytes()
	}
	sig, err := sign(handshakeDigest(self, cb), key)
	if err != nil {
		return nil, fmt.Errorf("sign handshake: %w", err)
	}
	return &pb.Handshake{Beneficiary: crypto.PubkeyToAddress(key.PublicKey).Bytes(), Chequebook: cb, Signature: sig}, nil
}

// verifyHandshake checks that m was made by the key of its address for peer from.
func verifyHandshake(from peer.ID, m *pb.Handshake) (Identity, error) {
	if len(m.GetBeneficiary()) != common.AddressLength {
		return Identity{}, fmt.Errorf("handshake beneficiary is %d bytes, want %d", len(m.GetBeneficiary()), common.AddressLength)
	}
	if n := len(m.GetChequebook()); n != 0 && n != common.AddressLength {
		return Identity{}, fmt.Errorf("handshake chequebook is %d bytes", n)
	}
	signer, err := recoverSigner(handshakeDigest(from, m.GetChequebook()), m.GetSignature())
	if err != nil {
		return Identity{}, fmt.Errorf("handshake signature: %w", err)
	}
	addr := common.BytesToAddress(m.GetBeneficiary())
	if signer != addr {
		return Identity{}, fmt.Errorf("handshake signed by %s, claims %s", signer, addr)
	}
	return Identity{Address: addr, Chequebook: common.BytesToAddress(m.GetChequebook())}, nil
}
