package node

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
)

const nodeKeyFile = "nodekey"

// ParseNodeKey reads a hex secp256k1 private key (64 hex chars, optional 0x).
func ParseNodeKey(s string) (*ecdsa.PrivateKey, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("node key: not hex: %w", err)
	}
	k, err := ethcrypto.ToECDSA(b)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return k, nil
}

// loadOrCreateKey keeps the generated key in dir so the peer id survives restarts.
func loadOrCreateKey(dir string) (*ecdsa.PrivateKey, error) {
	path := filepath.Join(dir, nodeKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseNodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read node key: %w", err)
	}
	k, err := ethcrypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate node key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	hexKey := hex.EncodeToString(ethcrypto.FromECDSA(k))
	if err := os.WriteFile(path, []byte(hexKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("save node key: %w", err)
	}
	return k, nil
}

// libp2pKey converts the secp256k1 key; ENR and libp2p share one identity.
func libp2pKey(k *ecdsa.PrivateKey) (crypto.PrivKey, error) {
	pk, err := crypto.UnmarshalSecp256k1PrivateKey(ethcrypto.FromECDSA(k))
	if err != nil {
		return nil, fmt.Errorf("convert node key: %w", err)
	}
	return pk, nil
}
