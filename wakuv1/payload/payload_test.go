package payload

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/ecies"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Vectors derived by hand from the layout in 7/WAKU-DATA: flags (size-field length in bits
// 0-1), little-endian minimal size, payload, padding.
func TestEncodeLayoutVectors(t *testing.T) {
	big300 := bytes.Repeat([]byte{0x11}, 300)
	big70000 := bytes.Repeat([]byte{0x22}, 70000)
	for _, tc := range []struct {
		name    string
		payload []byte
		padding []byte
		head    string // expected flags ‖ size
	}{
		{"empty", nil, []byte{0xee}, "01 00"},
		{"hello", []byte("hello"), []byte{0xaa, 0xbb}, "01 05"},
		{"255", bytes.Repeat([]byte{1}, 255), []byte{0}, "01 ff"},
		{"256", bytes.Repeat([]byte{1}, 256), []byte{0}, "02 00 01"},
		{"300", big300, []byte{0}, "02 2c 01"},
		{"70000", big70000, []byte{0}, "03 70 11 01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.payload, Options{Padding: tc.padding})
			if err != nil {
				t.Fatal(err)
			}
			want := append(append(unhex(t, tc.head), tc.payload...), tc.padding...)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode: got %x…, want %x…", got[:min(8, len(got))], want[:min(8, len(want))])
			}
			m, err := Decode(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Payload, tc.payload) || !bytes.Equal(m.Padding, tc.padding) || m.Signature != nil {
				t.Fatalf("decode: payload %d bytes, padding %x, sig %x", len(m.Payload), m.Padding, m.Signature)
			}
		})
	}
	// A literal vector: "hello" with padding aabb.
	if got, _ := Encode([]byte("hello"), Options{Padding: unhex(t, "aabb")}); !bytes.Equal(got, unhex(t, "0105 68656c6c6f aabb")) {
		t.Fatalf("literal vector: %x", got)
	}
}

func TestRandomPaddingReachesMultipleOf256(t *testing.T) {
	key, _ := crypto.GenerateKey()
	for _, tc := range []struct {
		n      int
		signed bool
		total  int
	}{
		{5, false, 256},   // 1+1+5 = 7 → 249 bytes of padding
		{5, true, 256},    // 7+65 = 72 → 184 bytes of padding
		{254, false, 512}, // 256 exactly → a full 256 of padding (1..256)
		{1000, false, 1024},
	} {
		o := Options{}
		if tc.signed {
			o.Signer = key
		}
		raw, err := Encode(bytes.Repeat([]byte{7}, tc.n), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != tc.total {
			t.Errorf("payload %d signed=%v: %d bytes, want %d", tc.n, tc.signed, len(raw), tc.total)
		}
	}
}

func TestZeroPaddingIsDeterministic(t *testing.T) {
	a, _ := Encode([]byte("same"), Options{ZeroPadding: true})
	b, _ := Encode([]byte("same"), Options{ZeroPadding: true})
	if !bytes.Equal(a, b) || len(a) != 256 || a[255] != 0 {
		t.Fatalf("zero padding: %d bytes, equal %v", len(a), bytes.Equal(a, b))
	}
}

func TestSignature(t *testing.T) {
	key, _ := crypto.GenerateKey()
	raw, err := Encode([]byte("signed"), Options{Signer: key, Padding: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if raw[0] != 0x01|0x04 {
		t.Fatalf("flags %#x, want 0x05", raw[0])
	}
	body, sig := raw[:len(raw)-65], raw[len(raw)-65:]
	// The signature covers flags ‖ size ‖ payload ‖ padding with the signature flag set.
	pub, err := crypto.SigToPub(crypto.Keccak256(body), sig)
	if err != nil || !pub.Equal(&key.PublicKey) {
		t.Fatalf("independent recovery failed: %v", err)
	}
	m, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Payload) != "signed" || !bytes.Equal(m.Padding, []byte{1, 2, 3}) || !m.Signer.Equal(&key.PublicKey) {
		t.Fatalf("decoded %q padding %x signer ok=%v", m.Payload, m.Padding, m.Signer.Equal(&key.PublicKey))
	}
	// The spec's V = 27/28 form recovers the same key.
	alt := append([]byte(nil), raw...)
	alt[len(alt)-1] += 27
	if m2, err := Decode(alt); err != nil || !m2.Signer.Equal(&key.PublicKey) {
		t.Fatalf("V+27: %v", err)
	}
	// A tampered body recovers a different key (or none): never the signer.
	bad := append([]byte(nil), raw...)
	bad[2] ^= 0xff
	if m3, err := Decode(bad); err == nil && m3.Signer.Equal(&key.PublicKey) {
		t.Fatal("tampered message still verifies")
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		err  error
	}{
		{"empty", "", ErrTooShort},
		{"size beyond data", "01 09 6869", ErrSizeField},
		{"size field beyond data", "03 01", ErrSizeField},
		{"signed but short", "05 00", ErrTooShort},
	} {
		if _, err := Decode(unhex(t, tc.raw)); !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		}
	}
	// Flags 0: no size field, everything is padding.
	m, err := Decode(unhex(t, "00 0102"))
	if err != nil || len(m.Payload) != 0 || !bytes.Equal(m.Padding, []byte{1, 2}) {
		t.Fatalf("flags 0: %v %+v", err, m)
	}
}

func TestSymmetricLayout(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 32)
	nonce := unhex(t, "000102030405060708090a0b")
	pt, _ := Encode([]byte("hello"), Options{Padding: []byte{9}})
	data, err := EncryptSymmetric(pt, key, bytes.NewReader(nonce))
	if err != nil {
		t.Fatal(err)
	}
	// Independently: AES-256-GCM, no additional data, nonce appended after ciphertext‖tag.
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	want := append(aead.Seal(nil, nonce, pt, nil), nonce...)
	if !bytes.Equal(data, want) {
		t.Fatalf("got %x\nwant %x", data, want)
	}
	if len(data) != len(pt)+16+12 {
		t.Fatalf("length %d", len(data))
	}
	m, err := OpenSymmetric(data, key)
	if err != nil || string(m.Payload) != "hello" {
		t.Fatalf("open: %v", err)
	}
	if _, err := OpenSymmetric(data, bytes.Repeat([]byte{0x43}, 32)); err == nil {
		t.Fatal("wrong key decrypted")
	}
	if _, err := EncryptSymmetric(pt, key[:16], bytes.NewReader(nonce)); !errors.Is(err, ErrKeyLength) {
		t.Fatalf("16-byte key: %v", err)
	}
}

func TestKeyFromPasswordUses65356Iterations(t *testing.T) {
	got, err := KeyFromPassword("status")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pbkdf2.Key(sha256.New, "status", nil, 65356, 32)
	not, _ := pbkdf2.Key(sha256.New, "status", nil, 65536, 32)
	if !bytes.Equal(got, want) || bytes.Equal(got, not) {
		t.Fatalf("key %x", got)
	}
}

// Round trip with go-ethereum's crypto/ecies: our ciphertext opens with ecies directly and
// ecies output opens with ours.
func TestAsymmetricWithGethECIES(t *testing.T) {
	recipient, _ := crypto.GenerateKey()
	signer, _ := crypto.GenerateKey()
	data, err := SealAsymmetric([]byte("to you"), &recipient.PublicKey, Options{Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != 0x04 || len(data) != 65+16+256+32 {
		t.Fatalf("layout: first byte %#x, %d bytes", data[0], len(data))
	}
	pt, err := ecies.ImportECDSA(recipient).Decrypt(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(pt)
	if err != nil || string(m.Payload) != "to you" || !m.Signer.Equal(&signer.PublicKey) {
		t.Fatalf("decode: %v", err)
	}
	plain, _ := Encode([]byte("from ecies"), Options{})
	ct, err := ecies.Encrypt(rand.Reader, ecies.ImportECDSAPublic(&recipient.PublicKey), plain, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err = OpenAsymmetric(ct, recipient)
	if err != nil || string(m.Payload) != "from ecies" {
		t.Fatalf("open: %v", err)
	}
	other, _ := crypto.GenerateKey()
	if _, err := OpenAsymmetric(ct, other); err == nil {
		t.Fatal("wrong key decrypted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x01, 0x05, 'h', 'e', 'l', 'l', 'o', 0xaa})
	f.Add([]byte{0x07, 0xff, 0xff, 0xff})
	f.Add(append([]byte{0x05, 0x00}, make([]byte, 65)...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Decode(raw)
		if err != nil {
			return
		}
		if m.Signature != nil {
			return
		}
		// An unsigned message re-encodes to the same bytes when the size field was minimal.
		again, err := Encode(m.Payload, Options{Padding: m.Padding})
		if err != nil {
			t.Fatal(err)
		}
		if raw[0]&sizeMask == byte(sizeFieldLen(len(m.Payload))) && raw[0]&^sizeMask == 0 && !bytes.Equal(again, raw) {
			t.Fatalf("re-encode %x != %x", again, raw)
		}
	})
}
