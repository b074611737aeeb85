package metrics

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/internal/testmetrics"
)

// A node's service streams are counted byte for byte in each direction under the protocol ID;
// relay streams are not (they have their own metric).
func TestServiceBytesCountsServiceStreams(t *testing.T) {
	const store, relay = protocol.ID("/vac/waku/store-query/3.0.0"), protocol.ID("/vac/waku/relay/2.0.0")
	reg := prometheus.NewRegistry()
	r := New(reg, "test")
	server := testhost.New(t, libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.BandwidthReporter(r.ServiceBytes()))
	client := testhost.New(t)

	// Each handler reads the request to its end and answers with a fixed number of bytes.
	answer := func(n int) network.StreamHandler {
		return func(s network.Stream) {
			defer s.Close()
			if _, err := io.Copy(io.Discard, s); err != nil {
				s.Reset()
				return
			}
			_, _ = s.Write(bytes.Repeat([]byte{7}, n))
		}
	}
	server.SetStreamHandler(store, answer(1000))
	server.SetStreamHandler(relay, answer(5000))
	testhost.Connect(t, client, server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ask := func(p protocol.ID, n, want int) {
		s, err := client.NewStream(ctx, server.ID(), p)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Write(bytes.Repeat([]byte{1}, n)); err != nil {
			t.Fatal(err)
		}
		if err := s.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil || len(got) != want {
			t.Fatalf("%s: read %d bytes (%v), want %d", p, len(got), err, want)
		}
	}
	ask(store, 300, 1000)
	ask(store, 20, 1000)
	ask(relay, 4000, 5000)

	bytes := func(dir string) float64 {
		return testmetrics.Counter(t, reg, "waku_service_network_bytes_total", map[string]string{"service": string(store), "direction": dir})
	}
	in, out := bytes("in"), bytes("out")
	if in != 320 || out != 2000 {
		t.Fatalf("store bytes in %v out %v, want 320 and 2000", in, out)
	}
	for _, svc := range serviceLabels(t, reg) {
		if svc == string(relay) {
			t.Fatal("relay's streams counted as a service")
		}
	}
}

// serviceLabels lists the service label values of waku_service_network_bytes_total.
func serviceLabels(t *testing.T, reg *prometheus.Registry) []string {
	var out []string
	for _, labels := range testmetrics.Series(t, reg, "waku_service_network_bytes_total") {
		out = append(out, labels["service"])
	}
	return out
}
