package message

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func benchMsg(size int) *pb.WakuMessage {
	return &pb.WakuMessage{
		Payload: make([]byte, size), ContentTopic: "/toychat/2/huilong/proto",
		Timestamp: proto.Int64(0x175789bfa23f8400), Meta: []byte("super-secret"),
	}
}

var benchSizes = []int{1 << 10, 10 << 10}

func BenchmarkEncode(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKB", n>>10), func(b *testing.B) {
			m := benchMsg(n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := proto.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKB", n>>10), func(b *testing.B) {
			raw, err := proto.Marshal(benchMsg(n))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode("/waku/2/rs/1/3", raw, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkComputeHash(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKB", n>>10), func(b *testing.B) {
			m := benchMsg(n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				_ = ComputeHash("/waku/2/rs/1/3", m)
			}
		})
	}
}
