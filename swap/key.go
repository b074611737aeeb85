package swap

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
)

// KeyFromNodeKey returns the node's secp256k1 libp2p key as a settlement key (the default:
// the beneficiary address is then the node key's Ethereum address).
func KeyFromNodeKey(k p2pcrypto.PrivKey) (*ecdsa.PrivateKey, error) {
	if k.Type() != p2pcrypto.Secp256k1 {
		return nil, fmt.Errorf("node key is %s, settlement needs secp256k1: pass a settlement key", k.Type())
	}
	raw, err := k.Raw()
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return crypto.ToECDSA(raw)
}
