package peerexchange

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/peerexchange/pb"
)

type sentMetrics struct {
	mu     sync.Mutex
	status []uint32
	sent   int
}

func (m *sentMetrics) Request(status uint32, peersSent int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status = append(m.status, status)
	m.sent += peersSent
}

// Every answer is reported with its status and the number of peers it carried.
func TestServiceMetrics(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	m := &sentMetrics{}
	svc := NewService(server, ServiceConfig{Metrics: m})
	for range 4 {
		svc.Add(record(t, 16, enr.Relay))
	}
	svc.Start()
	defer svc.Stop()
	testhost.Connect(t, client, server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := NewClient(client, 16)
	if got, err := c.Request(ctx, server.ID(), 3); err != nil || len(got) != 3 {
		t.Fatalf("asked 3: %d peers, %v", len(got), err)
	}
	resp := &pb.PeerExchangeRPC{}
	bad := &pb.PeerExchangeRPC{Query: &pb.PeerExchangeQuery{NumPeers: 0}}
	if err := rpc.Request(ctx, client, server.ID(), bad, resp, MaxResponseSize, ProtocolID); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.status) != 2 || m.status[0] != StatusSuccess || m.status[1] != StatusBadRequest || m.sent != 3 {
		t.Fatalf("reported %v with %d peers sent; want [200 400] and 3", m.status, m.sent)
	}
}
