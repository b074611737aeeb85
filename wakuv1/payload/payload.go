// Package payload encodes and decodes the 7/WAKU-DATA `data` field of a Waku v1 envelope:
// flags, little-endian payload size, payload, padding and an optional secp256k1 signature,
// encrypted with AES-256-GCM (symmetric) or go-ethereum's ECIES (asymmetric).
//
// The same bytes are the payload of a version-1 WakuMessage (26/WAKU2-PAYLOAD), which is
// what a Waku v1 ⇄ v2 bridge carries unchanged.
package payload

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/crypto"
)

// Layout constants (status-go waku/common).
const (
	flagsLength     = 1
	sizeMask        = 0x03 // bits 0-1 of flags: length of the payload-size field
	signatureFlag   = 0x04 // bit 2 of flags: a signature is appended
	SignatureLength = 65   // R ‖ S ‖ V
	padSizeLimit    = 256  // plaintext is padded to a multiple of this
)

// Errors a decoder returns; wrapped with detail.
var (
	ErrTooShort     = errors.New("7/WAKU-DATA: too short")
	ErrSizeField    = errors.New("7/WAKU-DATA: payload size exceeds the data")
	ErrBadSignature = errors.New("7/WAKU-DATA: signature does not recover a public key")
	ErrTooLarge     = errors.New("7/WAKU-DATA: payload larger than a 3-byte size field allows")
)

// maxPayload is what a size field of at most 3 bytes (the 2-bit mask) can describe.
const maxPayload = 1<<24 - 1

// Message is a decoded plaintext.
type Message struct {
	Payload []byte
	Padding []byte
	// Signature is the 65-byte signature, nil when unsigned; Signer is the key it recovers.
	Signature []byte
	Signer    *ecdsa.PublicKey
}

// Options control encoding. The zero value gives an unsigned message with random padding.
type Options struct {
	// Signer signs the message when set.
	Signer *ecdsa.PrivateKey
	// Padding replaces the random padding when non-nil (tests and vectors).
	Padding []byte
	// ZeroPadding pads to the usual length with zero bytes instead of random ones, so the
	// encoding is a function of the payload (a bridge that must produce the same envelope as
	// another bridge; the data is not encrypted then anyway).
	ZeroPadding bool
	// Rand is the randomness for padding and encryption; nil is crypto/rand.
	Rand io.Reader
}

func (o Options) rand() io.Reader {
	if o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

// sizeFieldLen is the minimal number of little-endian bytes that hold n (at least 1).
func sizeFieldLen(n int) int {
	s := 1
	for ; n >= 256; n /= 256 {
		s++
	}
	return s
}

// Encode builds the plaintext layout: flags ‖ size ‖ payload ‖ padding [‖ signature].
// Without explicit padding the unsigned-and-signature-included length is padded to a multiple
// of 256 with 1..256 random bytes, as status-go does.
func Encode(payload []byte, o Options) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(payload))
	}
	sl := sizeFieldLen(len(payload))
	raw := make([]byte, 0, flagsLength+sl+len(payload)+padSizeLimit+SignatureLength)
	raw = append(raw, byte(sl))
	for i, n := 0, len(payload); i < sl; i, n = i+1, n>>8 {
		raw = append(raw, byte(n))
	}
	raw = append(raw, payload...)
	if o.Padding != nil {
		raw = append(raw, o.Padding...)
	} else {
		size := len(raw)
		if o.Signer != nil {
			size += SignatureLength
		}
		pad := make([]byte, padSizeLimit-size%padSizeLimit)
		if !o.ZeroPadding {
			if _, err := io.ReadFull(o.rand(), pad); err != nil {
				return nil, fmt.Errorf("7/WAKU-DATA padding: %w", err)
			}
		}
		raw = append(raw, pad...)
	}
	if o.Signer != nil {
		raw[0] |= signatureFlag // the flag is part of what is signed
		sig, err := crypto.Sign(crypto.Keccak256(raw), o.Signer)
		if err != nil {
			return nil, fmt.Errorf("7/WAKU-DATA sign: %w", err)
		}
		raw = append(raw, sig...)
	}
	return raw, nil
}

// Decode parses a plaintext. Payload, Padding and Signature alias raw. A signature whose V is
// 27/28 (the spec's form) is accepted as well as go-ethereum's 0/1.
func Decode(raw []byte) (*Message, error) {
	if len(raw) < flagsLength {
		return nil, ErrTooShort
	}
	end := len(raw)
	m := &Message{}
	if raw[0]&signatureFlag != 0 {
		end -= SignatureLength
		if end < flagsLength {
			return nil, fmt.Errorf("%w for its signature (%d bytes)", ErrTooShort, len(raw))
		}
		m.Signature = raw[end:]
		sig := append([]byte(nil), m.Signature...)
		if sig[64] >= 27 {
			sig[64] -= 27
		}
		pub, err := crypto.SigToPub(crypto.Keccak256(raw[:end]), sig)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		m.Signer = pub
	}
	beg := flagsLength
	if sl := int(raw[0] & sizeMask); sl > 0 {
		if beg+sl > end {
			return nil, fmt.Errorf("%w: %d-byte size field in %d bytes", ErrSizeField, sl, end)
		}
		n := 0
		for i := sl - 1; i >= 0; i-- {
			n = n<<8 | int(raw[beg+i])
		}
		beg += sl
		if n > end-beg {
			return nil, fmt.Errorf("%w: size %d, %d bytes left", ErrSizeField, n, end-beg)
		}
		m.Payload = raw[beg : beg+n]
		beg += n
	}
	m.Padding = raw[beg:end]
	return m, nil
}
