// Package rest serves nwaku's REST API (shared/spec/rest-api.md) over a node: translation between
// HTTP+JSON and the node's Go API, no protocol logic. One file per area registers its routes.
package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/internal/defaults"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// InfoNode answers /debug/v1/info.
type InfoNode interface {
	ID() peer.ID
	ListenAddrs() []multiaddr.Multiaddr // each ends in /p2p/<id>
	ENR() string                        // "enr:..."; "" when there is none
}

// HealthNode answers /health.
type HealthNode interface {
	Health(ctx context.Context) node.HealthReport
}

// AdminNode answers /admin/v1/peers.
type AdminNode interface {
	Peers() []node.PeerInfo
	Connect(ctx context.Context, addr multiaddr.Multiaddr) error
}

// TopicNode resolves topics and carries the message bus the relay and filter caches read.
type TopicNode interface {
	ClusterID() uint16
	// PubsubTopicFor resolves "" to the content topic's autoshard (node.ErrNoAutosharding).
	PubsubTopicFor(pubsubTopic, contentTopic string) (string, error)
	AddConsumer(c node.Consumer) (remove func())
}

// RelayNode answers /relay/v1/... (node.Relay).
type RelayNode interface {
	Publish(ctx context.Context, pubsubTopic string, m *pb.WakuMessage) (*message.Envelope, error)
	Subscribe(topic string) error
	// SubscribeAnyCluster joins a static shard of any cluster (nwaku's REST does).
	SubscribeAnyCluster(topic string) error
	Unsubscribe(topic string) error
	Topics() []string
	IsSubscribed(topic string) bool
	RelayPeersNode
}

// Node is what the server needs of the node itself; *node.Node satisfies it.
type Node interface {
	InfoNode
	HealthNode
	AdminNode
	TopicNode
}

var _ Node = (*node.Node)(nil)

// Backend is everything the server talks to: the node and its protocol objects, each behind
// the small interface its handlers declare. NodeBackend builds it from a *node.Node.
type Backend struct {
	Node      Node
	Relay     RelayNode
	Store     StoreNode
	Lightpush LightpushNode
	Filter    FilterNode
	// Accounting is nil when accounting is off (the /accounting routes answer 404).
	Accounting AccountingNode
}

// NodeBackend is the Backend of a started node: the node and n.Relay(), n.Store(),
// n.Lightpush(), n.Filter(), n.Accounting().
func NodeBackend(n *node.Node) Backend {
	b := Backend{Node: n, Relay: n.Relay(), Store: n.Store(), Lightpush: n.Lightpush(), Filter: n.Filter()}
	if a := n.Accounting(); a != nil { // never a typed nil
		b.Accounting = a
	}
	return b
}

// Config configures the server. Zero values take the documented defaults, except Port, where
// 0 asks the OS for a free port (the command line's default is DefaultPort).
type Config struct {
	Address string // --rest-address; "" = 127.0.0.1
	Port    int    // --rest-port; 0 = any free port
	// AllowOrigins are --rest-allow-origin values: an exact origin ("http://example.com"),
	// a host[:port] without scheme ("example.com", "127.0.0.1:8080"), or a pattern with nwaku's
	// wildcards, "*" (any run of characters) and "?" (one character), e.g. "localhost:*".
	// Empty: no CORS headers are sent.
	AllowOrigins []string
	Admin        bool // --rest-admin: mount /admin/v1/...
	// RelayCacheCapacity is messages kept per topic (relay) or content topic (filter)
	// between two GETs; 0 = DefaultCacheCapacity.
	RelayCacheCapacity int
	Version            string // reported by /debug/v1/version
	// MaxBodyBytes bounds request bodies; 0 = DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// CacheMaxBytes bounds the encoded messages each REST message cache (relay, filter)
	// holds in total; 0 = DefaultCacheMaxBytes.
	CacheMaxBytes int64
	// LogLevel sets the running log level from one of nwaku's level names (TRACE, DEBUG,
	// INFO, NOTICE, WARN, ERROR, FATAL; any case) for POST /admin/v1/log-level/{level}, and
	// returns an error for a name it does not know. nil: that endpoint answers 503.
	LogLevel func(level string) error
	Logger   *slog.Logger // nil = slog.Default()
}

// Defaults of nwaku's command line.
const (
	DefaultAddress = "127.0.0.1"
	DefaultPort    = 8645
)

// requestTimeout bounds each call into the node, as nwaku does (rest-api.md §1).
const requestTimeout = 5 * time.Second

// Server is the REST API server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	n       Node
	relay   RelayNode
	store   StoreNode
	push    LightpushNode
	filter  FilterNode
	acct    AccountingNode
	handler http.Handler
	cache   *relayCache
	auto    *msgCache // content topics subscribed through /relay/v1/auto/subscriptions
	filters *filterSubs
	origins []originPattern

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	served   chan struct{} // closed when Serve returns
	removeFn func()        // detaches the cache from the node's bus
	closed   bool
}

// New builds the server and attaches its message cache to the node's bus; Close detaches it.
func New(cfg Config, b Backend) *Server {
	n := b.Node
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	defaults.Positive(&cfg.RelayCacheCapacity, DefaultCacheCapacity)
	defaults.Positive(&cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	defaults.Positive(&cfg.CacheMaxBytes, DefaultCacheMaxBytes)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "rest"),
		n:       n,
		relay:   b.Relay,
		store:   b.Store,
		push:    b.Lightpush,
		filter:  b.Filter,
		acct:    b.Accounting,
		cache:   newRelayCache(cfg.RelayCacheCapacity, cfg.CacheMaxBytes),
		auto:    newMsgCache(1, 0, false, false), // a bounded set: no message is ever added
		filters: newFilterSubs(cfg.RelayCacheCapacity, cfg.CacheMaxBytes),
		origins: parseOrigins(cfg.AllowOrigins),
	}
	s.removeFn = n.AddConsumer(s.cache)
	mux := http.NewServeMux()
	s.debugRoutes(mux)
	s.healthRoutes(mux)
	if cfg.Admin {
		s.adminRoutes(mux)
		s.adminViewRoutes(mux)
	}
	s.relayRoutes(mux)
	s.storeRoutes(mux)
	s.lightpushRoutes(mux)
	s.filterRoutes(mux)
	s.accountingRoutes(mux)
	s.handler = s.cors(mux)
	return s
}

// Handler serves the API without a listener (tests, embedding in another server).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Address:Port and serves in the background until Close.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("rest: server is closed")
	}
	if s.srv != nil {
		return errors.New("rest: server already started")
	}
	addr := net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rest: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.served = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("REST server stopped", "err", err)
		}
	}(s.srv, s.served)
	s.log.Debug("REST server listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address after Start (with the real port when Port was 0), else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops accepting, lets in-flight requests finish (up to 5 s, then cuts them), waits
// for the serving goroutine, detaches the cache, and unsubscribes the filter subscriptions
// made through REST (up to 5 s) after stopping their goroutines. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, served := s.srv, s.served
	s.mu.Unlock()

	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			err = errors.Join(err, srv.Close())
		}
		<-served
	}
	if s.removeFn != nil {
		s.removeFn()
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	s.filters.close(ctx, s.filter)
	cancel()
	if err != nil {
		return fmt.Errorf("rest: close: %w", err)
	}
	return nil
}

// readBody is readJSON with the configured size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := readJSON(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return b, true
}

func (s *Server) readStrings(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	v, err := readStrings(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return v, true
}
