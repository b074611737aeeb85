package rest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wakunode/wakunode/node"
)

func TestInfo(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	for _, path := range []string{"/debug/v1/info", "/info"} {
		r := do(t, h, "GET", path, "", "")
		r.want(t, 200, "application/json")
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		addrs, _ := got["listenAddresses"].([]any)
		if len(addrs) != 2 {
			t.Fatalf("%s: listenAddresses %v", path, got["listenAddresses"])
		}
		for _, a := range addrs {
			if !strings.HasSuffix(a.(string), "/p2p/"+f.id.String()) {
				t.Errorf("%s: address %v lacks /p2p/<id>", path, a)
			}
		}
		if got["enrUri"] != "enr:-test" {
			t.Errorf("%s: enrUri %v", path, got["enrUri"])
		}
	}
	f.enr = ""
	r := do(t, h, "GET", "/debug/v1/info", "", "")
	if strings.Contains(r.body, "enrUri") {
		t.Errorf("empty ENR should be omitted: %s", r.body)
	}
}

func TestVersion(t *testing.T) {
	h := newTestServer(t, newFakeNode(t), nil).Handler()
	for _, path := range []string{"/debug/v1/version", "/version"} {
		r := do(t, h, "GET", path, "", "")
		r.want(t, 200, "text/plain")
		if r.body != "v0.1.0-test" {
			t.Errorf("%s: body %q", path, r.body)
		}
	}
	do(t, h, "POST", "/version", "", "").want(t, 405, "text/plain")
}

func TestHealth(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	tests := []struct {
		rep  node.HealthReport
		want string
	}{
		{node.HealthReport{NodeHealth: node.HealthInitializing}, `{"nodeHealth":"INITIALIZING","protocolsHealth":[]}`},
		{node.HealthReport{NodeHealth: node.HealthReady, Protocols: []node.ProtocolHealth{
			{Protocol: "Relay", Status: node.HealthReady},
			{Protocol: "Store", Status: node.HealthNotMounted},
			{Protocol: "Rln Relay", Status: node.HealthNotReady, Desc: "syncing \"tree\""},
		}}, `{"nodeHealth":"READY","protocolsHealth":[{"Relay":"READY"},{"Store":"NOT_MOUNTED"},{"Rln Relay":"NOT_READY","desc":"syncing \"tree\""}]}`},
	}
	for _, tc := range tests {
		f.health = tc.rep
		r := do(t, h, "GET", "/health", "", "")
		r.want(t, 200, "application/json") // never 501, whatever the status
		if r.body != tc.want {
			t.Errorf("got  %s\nwant %s", r.body, tc.want)
		}
	}

	// The node did not answer within the deadline.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/health", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Body.String() != "Health check timed out" {
		t.Errorf("timeout: %d %q", rec.Code, rec.Body.String())
	}
}

func TestAdminDisabled(t *testing.T) {
	h := newTestServer(t, newFakeNode(t), nil).Handler()
	do(t, h, "GET", "/admin/v1/peers", "", "").want(t, 404, "text/plain")
	do(t, h, "POST", "/admin/v1/peers", jsonCT, `[]`).want(t, 404, "text/plain")
}

func TestAdminGetPeers(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, func(c *Config) { c.Admin = true }).Handler()

	r := do(t, h, "GET", "/admin/v1/peers", "", "")
	r.want(t, 200, "application/json")
	if r.body != "[]" {
		t.Errorf("no peers: %s", r.body)
	}

	score := 1.5
	other := newFakeNode(t).id
	f.peers = []node.PeerInfo{
		{ID: other.String(), Multiaddr: "/ip4/127.0.0.1/tcp/1/p2p/" + other.String(), Protocols: []string{"/vac/waku/relay/2.0.0"},
			Shards: []uint16{0, 3}, Connected: node.Connected, Agent: "nwaku", Origin: node.OriginStatic, Score: &score},
		{ID: f.id.String()}, // zero fields: lists stay lists, enums get their "unknown" values
	}
	r = do(t, h, "GET", "/admin/v1/peers", "", "")
	want := `[{"multiaddr":"/ip4/127.0.0.1/tcp/1/p2p/` + other.String() + `","protocols":["/vac/waku/relay/2.0.0"],"shards":[0,3],"connected":"Connected","agent":"nwaku","origin":"Static","score":1.5},` +
		`{"multiaddr":"","protocols":[],"shards":[],"connected":"NotConnected","agent":"","origin":"UnknownOrigin","score":null}]`
	if r.body != want {
		t.Errorf("got  %s\nwant %s", r.body, want)
	}

	r = do(t, h, "GET", "/admin/v1/peer/"+other.String(), "", "")
	r.want(t, 200, "application/json")
	if !strings.Contains(r.body, `"agent":"nwaku"`) {
		t.Errorf("peer: %s", r.body)
	}
	do(t, h, "GET", "/admin/v1/peer/notapeerid", "", "").want(t, 400, "text/plain")
	do(t, h, "GET", "/admin/v1/peer/"+newFakeNode(t).id.String(), "", "").want(t, 404, "text/plain")
}

func TestAdminPostPeers(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, func(c *Config) { c.Admin = true }).Handler()
	good := "/ip4/127.0.0.1/tcp/60001/p2p/" + newFakeNode(t).id.String()
	good2 := "/ip4/127.0.0.1/tcp/60002/p2p/" + newFakeNode(t).id.String()

	r := do(t, h, "POST", "/admin/v1/peers", jsonCT, `["`+good+`","`+good2+`"]`)
	r.want(t, 200, "text/plain")
	if r.body != "OK" || len(f.connected) != 2 || f.connected[0] != good || f.connected[1] != good2 {
		t.Fatalf("body %q connected %v", r.body, f.connected)
	}

	tests := []struct {
		name, ctype, body, wantPrefix string
	}{
		{"not json", jsonCT, `[`, "invalid JSON"},
		{"not array", jsonCT, `{"a":1}`, "invalid JSON"},
		{"wrong content type", "text/plain", `["` + good + `"]`, "Wrong Content-Type"},
		{"unparsable", jsonCT, `["` + good + `","nonsense"]`, "Failed to connect to peer at index: 1 - nonsense"},
		{"no peer id", jsonCT, `["/ip4/127.0.0.1/tcp/1"]`, "Failed to connect to peer at index: 0 - /ip4/127.0.0.1/tcp/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, "POST", "/admin/v1/peers", tc.ctype, tc.body)
			r.want(t, 400, "text/plain")
			if !strings.HasPrefix(r.body, tc.wantPrefix) {
				t.Errorf("body %q, want prefix %q", r.body, tc.wantPrefix)
			}
		})
	}

	f.connectErr = context.DeadlineExceeded
	r = do(t, h, "POST", "/admin/v1/peers", jsonCT, `["`+good+`"]`)
	r.want(t, 400, "text/plain")
	if !strings.HasPrefix(r.body, "Failed to connect to peer at index: 0 - "+good) {
		t.Errorf("body %q", r.body)
	}
}

func TestCORS(t *testing.T) {
	origins := []string{"localhost:*", "https://app.example.com", "waku-org.github.io", "10.0.0.?:8080"}
	tests := []struct {
		origin string
		allow  bool
	}{
		{"http://localhost:3000", true},
		{"https://localhost", false}, // "localhost:*" needs a port
		{"https://app.example.com", true},
		{"http://app.example.com", false}, // the scheme was given
		{"https://waku-org.github.io", true},
		{"https://evil.github.io", false},
		{"http://10.0.0.7:8080", true},
		{"http://10.0.0.77:8080", false},
		{"HTTP://LOCALHOST:1", true},
	}
	h := newTestServer(t, newFakeNode(t), func(c *Config) { c.AllowOrigins = origins }).Handler()
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			for _, method := range []string{"GET", "OPTIONS"} {
				req := httptest.NewRequest(method, "/relay/v1/messages/%2Fwaku%2F2%2Frs%2F1%2F0", nil)
				req.Header.Set("Origin", tc.origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				got := rec.Header().Get("Access-Control-Allow-Origin")
				if (got == tc.origin) != tc.allow || (!tc.allow && got != "") {
					t.Errorf("%s: Access-Control-Allow-Origin %q, allow=%v", method, got, tc.allow)
				}
				if method == "OPTIONS" {
					if rec.Code != 200 {
						t.Errorf("preflight status %d", rec.Code)
					}
					if tc.allow && !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") {
						t.Errorf("preflight methods %q", rec.Header().Get("Access-Control-Allow-Methods"))
					}
				}
			}
		})
	}

	star := newTestServer(t, newFakeNode(t), func(c *Config) { c.AllowOrigins = []string{"*"} }).Handler()
	req := httptest.NewRequest("GET", "/version", nil)
	req.Header.Set("Origin", "https://anything.example")
	rec := httptest.NewRecorder()
	star.ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://anything.example" {
		t.Errorf("* did not allow: %v", rec.Header())
	}

	none := newTestServer(t, newFakeNode(t), nil).Handler()
	rec = httptest.NewRecorder()
	none.ServeHTTP(rec, req)
	if v := rec.Header().Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("no --rest-allow-origin but header %q", v)
	}
	r := do(t, none, "OPTIONS", "/relay/v1/subscriptions", "", "")
	if r.code != 200 {
		t.Errorf("OPTIONS without CORS config: %d", r.code)
	}
}

func TestStartClose(t *testing.T) {
	f := newFakeNode(t)
	s := New(Config{Port: 0, Version: "v9"}, backendOf(f))
	if f.numConsumers() != 1 {
		t.Fatalf("cache not attached: %d consumers", f.numConsumers())
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	addr := s.Addr().String()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("bound address %s", addr)
	}
	res, err := http.Get("http://" + addr + "/debug/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "v9" {
		t.Errorf("version over TCP: %q", b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if f.numConsumers() != 0 {
		t.Error("cache still attached after Close")
	}
	if _, err := http.Get("http://" + addr + "/version"); err == nil {
		t.Error("server still answering after Close")
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestStartListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := New(Config{Port: ln.Addr().(*net.TCPAddr).Port}, backendOf(newFakeNode(t)))
	defer s.Close()
	if err := s.Start(); err == nil {
		t.Fatal("Start on a port in use succeeded")
	}
}
