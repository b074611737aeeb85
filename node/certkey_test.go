package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
)

func x509ECKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
