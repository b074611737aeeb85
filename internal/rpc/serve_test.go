package rpc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/multiformats/go-varint"
)

func frame(body []byte) []byte { return append(varint.ToUvarint(uint64(len(body))), body...) }

func TestReadRequest(t *testing.T) {
	ok := func(int) error { return nil }
	full := errors.New("no memory")
	for _, tc := range []struct {
		name    string
		in      []byte
		reserve func(int) error
		want    error
		body    []byte
	}{
		{"whole frame", frame([]byte("abc")), ok, nil, []byte("abc")},
		{"at the limit", frame(make([]byte, 8)), ok, nil, make([]byte, 8)},
		{"over the limit", frame(make([]byte, 9)), ok, errTooLarge, nil},
		{"huge declared length", varint.ToUvarint(1 << 62), ok, errTooLarge, nil},
		{"memory refused", frame([]byte("abc")), func(int) error { return full }, errNoMemory, nil},
		{"truncated body", frame([]byte("abc"))[:3], ok, errNoRequest, nil},
		{"empty stream", nil, ok, errNoRequest, nil},
		{"bad varint", bytes.Repeat([]byte{0xff}, 11), ok, errNoRequest, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := readRequest(bytes.NewReader(tc.in), 8, tc.reserve)
			if !errors.Is(err, tc.want) || (tc.want == nil && !bytes.Equal(got, tc.body)) {
				t.Fatalf("readRequest = %q, %v; want %q, %v", got, err, tc.body, tc.want)
			}
		})
	}
}

// FuzzReadRequest: any bytes give either a frame within the limit, whose reservation matched
// its size, or an error; never a panic or an allocation over the limit.
func FuzzReadRequest(f *testing.F) {
	f.Add(frame([]byte("hello")))
	f.Add(varint.ToUvarint(1 << 40))
	f.Add([]byte{0x80})
	f.Add([]byte{})
	const limit = 1024
	f.Fuzz(func(t *testing.T, in []byte) {
		reserved := -1
		got, declared, err := readRequest(bytes.NewReader(in), limit, func(n int) error {
			if n > limit {
				t.Fatalf("reserved %d > limit", n)
			}
			reserved = n
			return nil
		})
		if err != nil {
			return
		}
		if len(got) > limit || uint64(len(got)) != declared || reserved != len(got) {
			t.Fatalf("frame of %d bytes, declared %d, reserved %d", len(got), declared, reserved)
		}
	})
}
