package storesync

import (
	"bytes"
	"testing"
)

// FuzzDecode: no input crashes the decoder, and whatever decodes re-encodes to bytes that
// decode to the same ranges.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0})
	f.Add(unhex(f, "010e2f77616b752f322f72732f312f30008080a8b1e39fe7cb1780c0e285e36801f4b46904ca22e480c94b7ed6fec26d792c3b95f89ca8623872f3992b7a724826"))
	f.Add(unhex(f, "00008080a8b1e39fe7cb170001ca00"))
	f.Add((&Payload{Ranges: []Range{{Upper: ID{Time: 5}, Type: ItemSet, Items: []ID{{Time: 1}}}}}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, 1000)
		if err != nil || len(p.Ranges) == 0 {
			return
		}
		again, err := Decode(p.Encode(), 1000)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !equalRanges(again.Ranges, p.Ranges) && !bytes.Equal(again.Encode(), p.Encode()) {
			t.Fatalf("round trip changed ranges")
		}
	})
}
