package hostile

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/filter"
	fpb "github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/ratelimit"
)

// TestProtoRateLimitRefillsPerPeriod: --rate-limit means what it means in nwaku. At filter's
// default 30/1m, 31 subscribes in a burst see the 31st refused; and the volume comes back
// whole at the period boundary, not trickled back in continuously.
func TestProtoRateLimitRefillsPerPeriod(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	testhost.Connect(t, client, server)
	subscribe := func(t *testing.T) uint32 {
		t.Helper()
		pt := "/waku/2/rs/1/0"
		req := &fpb.FilterSubscribeRequest{RequestId: rpc.NewRequestID(), PubsubTopic: proto.String(pt),
			FilterSubscribeType: fpb.FilterSubscribeRequest_SUBSCRIBE, ContentTopics: []string{"/a/1/x/proto"}}
		resp := &fpb.FilterSubscribeResponse{}
		if err := rpc.Request(context.Background(), client, server.ID(), req, resp, filter.MaxResponseSize, filter.SubscribeProtocol); err != nil {
			t.Fatal(err)
		}
		return resp.GetStatusCode()
	}
	mount := func(t *testing.T, s ratelimit.Setting) {
		svc := filter.NewService(server, filter.Config{RateLimiter: ratelimit.NewLimiter(s, nil)})
		svc.Start()
		t.Cleanup(svc.Stop)
	}

	t.Run("31 in a burst at 30/1m", func(t *testing.T) {
		mount(t, ratelimit.DefaultFilter)
		for i := 0; i < 30; i++ {
			if code := subscribe(t); code != 200 {
				t.Fatalf("subscribe %d: %d", i, code)
			}
		}
		if code := subscribe(t); code != filter.StatusTooManyRequests {
			t.Fatalf("31st subscribe: %d, want 429", code)
		}
	})

	t.Run("whole volume back at the boundary", func(t *testing.T) {
		s := ratelimit.Setting{Volume: 3, Period: 2 * time.Second}
		mount(t, s)
		burst := func() {
			for i := 0; i < 3; i++ {
				if code := subscribe(t); code != 200 {
					t.Fatalf("request %d of the burst: %d", i, code)
				}
			}
			if code := subscribe(t); code != filter.StatusTooManyRequests {
				t.Fatalf("4th request: %d, want 429", code)
			}
		}
		burst()
		// Wait for the period to end: the first request through opens a new period, and the
		// rest of the burst must pass with it (a continuous refill would let one through).
		deadline := time.Now().Add(5 * time.Second)
		for subscribe(t) != 200 {
			if time.Now().After(deadline) {
				t.Fatal("never refilled")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for i := 0; i < 2; i++ {
			if code := subscribe(t); code != 200 {
				t.Fatalf("request %d after the refill: %d", i+1, code)
			}
		}
		if code := subscribe(t); code != filter.StatusTooManyRequests {
			t.Fatalf("4th request after the refill: %d, want 429", code)
		}
	})
}
