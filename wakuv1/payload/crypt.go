package payload

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/crypto/ecies"
)

// Symmetric encryption parameters (7/WAKU-DATA §8.1).
const (
	KeyLength   = 32 // AES-256
	NonceLength = 12 // GCM nonce ("salt"), appended after the ciphertext
	// passwordIterations is status-go's PBKDF2 count: 65356, not 65536.
	passwordIterations = 65356
)

// ErrKeyLength reports a symmetric key that is not 32 bytes.
var ErrKeyLength = errors.New("7/WAKU-DATA: symmetric key must be 32 bytes")

// KeyFromPassword derives a symmetric key the way status-go and go-waku chat2 do:
// PBKDF2-HMAC-SHA256 with an empty salt and 65356 iterations.
func KeyFromPassword(password string) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, nil, passwordIterations, KeyLength)
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != KeyLength {
		return nil, ErrKeyLength
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// EncryptSymmetric returns GCM.Seal(plaintext) ‖ nonce with a fresh random nonce from r.
func EncryptSymmetric(plaintext, key []byte, r io.Reader) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, NonceLength)
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("7/WAKU-DATA nonce: %w", err)
	}
	out := aead.Seal(nil, nonce, plaintext, nil)
	return append(out, nonce...), nil
}

// DecryptSymmetric reverses EncryptSymmetric; a wrong key is an error ("not for us").
func DecryptSymmetric(data, key []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(data) < NonceLength+aead.Overhead() {
		return nil, fmt.Errorf("%w for AES-GCM (%d bytes)", ErrTooShort, len(data))
	}
	split := len(data) - NonceLength
	pt, err := aead.Open(nil, data[split:], data[:split], nil)
	if err != nil {
		return nil, fmt.Errorf("7/WAKU-DATA symmetric decrypt: %w", err)
	}
	return pt, nil
}

// EncryptAsymmetric encrypts to pub with go-ethereum's ECIES defaults (no shared info).
func EncryptAsymmetric(plaintext []byte, pub *ecdsa.PublicKey, r io.Reader) ([]byte, error) {
	out, err := ecies.Encrypt(r, ecies.ImportECDSAPublic(pub), plaintext, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("7/WAKU-DATA asymmetric encrypt: %w", err)
	}
	return out, nil
}

// DecryptAsymmetric reverses EncryptAsymmetric with the recipient's key.
func DecryptAsymmetric(data []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	pt, err := ecies.ImportECDSA(key).Decrypt(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("7/WAKU-DATA asymmetric decrypt: %w", err)
	}
	return pt, nil
}

// SealSymmetric encodes payload and encrypts it with key: the envelope `data` field.
func SealSymmetric(payload, key []byte, o Options) ([]byte, error) {
	pt, err := Encode(payload, o)
	if err != nil {
		return nil, err
	}
	return EncryptSymmetric(pt, key, o.rand())
}

// SealAsymmetric encodes payload and encrypts it to pub.
func SealAsymmetric(payload []byte, pub *ecdsa.PublicKey, o Options) ([]byte, error) {
	pt, err := Encode(payload, o)
	if err != nil {
		return nil, err
	}
	return EncryptAsymmetric(pt, pub, o.rand())
}

// OpenSymmetric decrypts and decodes an envelope `data` field.
func OpenSymmetric(data, key []byte) (*Message, error) {
	pt, err := DecryptSymmetric(data, key)
	if err != nil {
		return nil, err
	}
	return Decode(pt)
}

// OpenAsymmetric decrypts with key and decodes.
func OpenAsymmetric(data []byte, key *ecdsa.PrivateKey) (*Message, error) {
	pt, err := DecryptAsymmetric(data, key)
	if err != nil {
		return nil, err
	}
	return Decode(pt)
}
