package archive_test

import (
	"context"
	"testing"
	"time"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/store"
	"github.com/wakunode/wakunode/store/pb"
)

// BenchmarkLegacyWalk pages through the store with legacy store v2 queries answered by the
// real store service (its cursor is resolved from digest + timestamp + pubsub topic, then the
// page seeks by index): µs per 100-message page, which must not grow with the store
// (compare WAKU_BENCH_MESSAGES=100000 with 1000000).
func BenchmarkLegacyWalk(b *testing.B) {
	for _, drv := range []string{"sqlite", "postgres"} {
		for _, scope := range []string{"topic", "content", "store"} {
			b.Run(drv+"/"+scope, func(b *testing.B) {
				a, n, _ := archive.BenchStore(b, drv)
				svc := store.NewService(nil, a, store.ServiceConfig{Legacy: true})
				size, fwd := uint64(100), pb.PagingInfo_FORWARD
				hq := &pb.HistoryQuery{PagingInfo: &pb.PagingInfo{PageSize: &size, Direction: &fwd}}
				switch scope {
				case "topic":
					topic := "/waku/2/rs/1/0"
					hq.PubsubTopic = &topic
					hq.ContentFilters = []*pb.ContentFilter{{ContentTopic: archive.BenchTopic}}
				case "content":
					hq.ContentFilters = []*pb.ContentFilter{{ContentTopic: archive.BenchTopic}}
				}
				pages := 0
				b.ResetTimer()
				start := time.Now()
				for b.Loop() {
					resp, code := svc.AnswerLegacy(context.Background(), "", &pb.HistoryRPC{RequestId: "b", Query: hq})
					if code != store.StatusOK || len(resp.GetResponse().GetMessages()) == 0 {
						b.Fatalf("status %d, %d messages, error %v", code, len(resp.GetResponse().GetMessages()), resp.GetResponse().GetError())
					}
					pages++
					hq.PagingInfo.Cursor = resp.GetResponse().GetPagingInfo().GetCursor() // nil at the end: start over
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/float64(pages), "µs/page")
				b.ReportMetric(float64(n), "stored")
			})
		}
	}
}
