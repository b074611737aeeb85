package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
)

// FilterNode answers /filter/v2/... (the node as filter client of --filternode or a selected
// peer) and /admin/v1/filter/subscriptions (the node's filter service; nil when not mounted).
type FilterNode interface {
	Subscribe(ctx context.Context, pubsubTopic string, contentTopics []string) (*filter.Subscription, error)
	Unsubscribe(ctx context.Context, sub *filter.Subscription) error
	UnsubscribeAll(ctx context.Context) error
	Ping(ctx context.Context) error
	Served() []filter.PeerSubscription // what the node's filter service serves
}

// FilterSubscribeRequest is the body of POST/PUT/DELETE /filter/v2/subscriptions;
// DELETE /filter/v2/subscriptions/all reads only requestId.
type FilterSubscribeRequest struct {
	RequestID      string   `json:"requestId"`
	PubsubTopic    string   `json:"pubsubTopic,omitempty"` // "" = autosharding
	ContentFilters []string `json:"contentFilters"`
}

// FilterSubscriptionResponse answers every subscription call and the ping (rest-api.md §7).
type FilterSubscriptionResponse struct {
	RequestID  string `json:"requestId"`
	StatusDesc string `json:"statusDesc"`
}

// FilterWakuMessage is a pushed message as GET /filter/v2/messages returns it: no proof.
type FilterWakuMessage = MessageJSON

func toFilterMessages(es []*message.Envelope) []FilterWakuMessage {
	out := make([]FilterWakuMessage, 0, len(es))
	for _, e := range es {
		out = append(out, toMessageJSON(e.Message))
	}
	return out
}

// unknownRequestID is the requestId answered when the body cannot be read (nwaku's).
const unknownRequestID = "unknown"

func (s *Server) filterRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /filter/v2/subscriptions", s.handleFilterSubscribe)
	mux.HandleFunc("PUT /filter/v2/subscriptions", s.handleFilterSubscribe)
	mux.HandleFunc("DELETE /filter/v2/subscriptions", s.handleFilterUnsubscribe)
	mux.HandleFunc("DELETE /filter/v2/subscriptions/all", s.handleFilterUnsubscribeAll)
	mux.HandleFunc("GET /filter/v2/subscriptions/{requestId}", s.handleFilterPing)
	mux.HandleFunc("GET /filter/v2/messages/{contentTopic}", s.handleFilterMessages)
}

func writeFilter(w http.ResponseWriter, status int, requestID, desc string) {
	writeJSONStatus(w, status, FilterSubscriptionResponse{RequestID: requestID, StatusDesc: desc})
}

// filterStatus maps a filter client error to HTTP (rest-api.md §7).
func filterStatus(err error) int {
	var se *filter.StatusError
	if errors.As(err, &se) {
		switch se.Code {
		case filter.StatusBadRequest, filter.StatusNotFound, filter.StatusTooManyRequests,
			filter.StatusServiceUnavailable, filter.StatusPeerDialFailure, filter.StatusPaymentRequired:
			return int(se.Code)
		case 0: // UNKNOWN
			return http.StatusOK
		}
		return http.StatusInternalServerError // BAD_RESPONSE and codes we do not know
	}
	switch {
	case errors.Is(err, node.ErrNoServicePeer), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, node.ErrNotStarted):
		return http.StatusServiceUnavailable
	case errors.Is(err, node.ErrDialFailure):
		return http.StatusGatewayTimeout // PEER_DIAL_FAILURE
	case errors.Is(err, node.ErrNoAutosharding), errors.Is(err, node.ErrWrongCluster):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// filterFields are the keys of the filter request bodies; requestId is required, as in nwaku.
var filterFields = map[string]bool{"requestId": true, "pubsubTopic": true, "contentFilters": true}

// readFilterRequest decodes the body with exact keys; on failure it has answered 400 with
// requestId "unknown". needTopics requires a non-empty contentFilters.
func (s *Server) readFilterRequest(w http.ResponseWriter, r *http.Request, needTopics bool) (FilterSubscribeRequest, bool) {
	var req FilterSubscribeRequest
	fail := func(status int, id, msg string) (FilterSubscribeRequest, bool) {
		writeFilter(w, status, id, msg)
		return req, false
	}
	body, err := readJSON(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return fail(http.StatusBadRequest, unknownRequestID, err.Error())
	}
	var probe struct {
		RequestID *string `json:"requestId"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.RequestID == nil { // missing or null
		return fail(http.StatusBadRequest, unknownRequestID, textBadRequestID)
	}
	obj, err := decodeObject(body, "filter request", filterFields)
	if err != nil {
		return fail(http.StatusBadRequest, unknownRequestID, err.Error())
	}
	if field(obj, "requestId", &req.RequestID) != nil { // not a string
		return fail(http.StatusBadRequest, unknownRequestID, textBadRequestID)
	}
	if err := field(obj, "pubsubTopic", &req.PubsubTopic); err != nil {
		return fail(http.StatusBadRequest, req.RequestID, err.Error())
	}
	if err := field(obj, "contentFilters", &req.ContentFilters); err != nil {
		return fail(http.StatusBadRequest, req.RequestID, err.Error())
	}
	if !needTopics {
		return req, true
	}
	switch {
	case len(req.ContentFilters) == 0:
		return fail(http.StatusBadRequest, req.RequestID, "contentFilters is empty")
	case len(req.ContentFilters) > filter.MaxContentTopicsPerRequest:
		return fail(http.StatusBadRequest, req.RequestID, tooManyTopicsText())
	}
	for _, ct := range req.ContentFilters {
		if ct == "" {
			return fail(http.StatusBadRequest, req.RequestID, "empty content filter")
		}
		if req.PubsubTopic == "" {
			if _, err := s.n.PubsubTopicFor("", ct); err != nil {
				return fail(http.StatusBadRequest, req.RequestID, fmt.Sprintf("content filter %q: %v", ct, err))
			}
		}
	}
	return req, true
}

func (s *Server) handleFilterSubscribe(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readFilterRequest(w, r, true)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	s.filters.op.Lock()
	defer s.filters.op.Unlock()
	sub, err := s.filter.Subscribe(ctx, req.PubsubTopic, req.ContentFilters)
	if err != nil {
		writeFilter(w, filterStatus(err), req.RequestID, filterText(err))
		return
	}
	if err := s.filters.add(sub); err != nil {
		_ = s.filter.Unsubscribe(ctx, sub)
		writeFilter(w, http.StatusServiceUnavailable, req.RequestID, err.Error())
		return
	}
	// A refresh or a wider subscription makes older ones redundant: retire them so repeated
	// subscribes do not pile up. The node's client sends no UNSUBSCRIBE for content topics
	// sub still wants.
	for _, old := range s.filters.list() {
		if old != sub && old.Peer == sub.Peer && old.PubsubTopic == sub.PubsubTopic && covers(sub.ContentTopics, old.ContentTopics) {
			s.filters.remove(old)
			_ = s.filter.Unsubscribe(ctx, old)
		}
	}
	writeFilter(w, http.StatusOK, req.RequestID, "OK")
}

// covers reports whether every content topic of b is in a.
func covers(a, b []string) bool {
	for _, ct := range b {
		if !slices.Contains(a, ct) {
			return false
		}
	}
	return true
}

// handleFilterUnsubscribe drops the given (pubsub topic, content topic) pairs from the
// subscriptions made through REST. A subscription that keeps other content topics is
// replaced by one for those (subscribed first, so their pushes never stop).
func (s *Server) handleFilterUnsubscribe(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readFilterRequest(w, r, true)
	if !ok {
		return
	}
	drop := map[filter.Criterion]bool{}
	for _, ct := range req.ContentFilters {
		t, err := s.n.PubsubTopicFor(req.PubsubTopic, ct)
		if err != nil {
			writeFilter(w, http.StatusBadRequest, req.RequestID, err.Error())
			return
		}
		drop[filter.Criterion{PubsubTopic: t, ContentTopic: ct}] = true
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	s.filters.op.Lock()
	defer s.filters.op.Unlock()
	matched := false
	for _, sub := range s.filters.list() {
		var keep []string
		hit := false
		for _, ct := range sub.ContentTopics {
			if drop[filter.Criterion{PubsubTopic: sub.PubsubTopic, ContentTopic: ct}] {
				hit = true
			} else {
				keep = append(keep, ct)
			}
		}
		if !hit {
			continue
		}
		matched = true
		if len(keep) > 0 {
			repl, err := s.filter.Subscribe(ctx, sub.PubsubTopic, keep)
			if err != nil {
				writeFilter(w, filterStatus(err), req.RequestID, filterText(err))
				return
			}
			if err := s.filters.add(repl); err != nil {
				_ = s.filter.Unsubscribe(ctx, repl)
				writeFilter(w, http.StatusServiceUnavailable, req.RequestID, err.Error())
				return
			}
		}
		s.filters.remove(sub)
		if err := s.filter.Unsubscribe(ctx, sub); err != nil {
			writeFilter(w, filterStatus(err), req.RequestID, filterText(err))
			return
		}
	}
	if !matched {
		writeFilter(w, http.StatusNotFound, req.RequestID, "Not subscribed to the given content filters")
		return
	}
	writeFilter(w, http.StatusOK, req.RequestID, "OK")
}

func (s *Server) handleFilterUnsubscribeAll(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readFilterRequest(w, r, false)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	s.filters.op.Lock()
	defer s.filters.op.Unlock()
	if err := s.filter.UnsubscribeAll(ctx); err != nil {
		writeFilter(w, filterStatus(err), req.RequestID, filterText(err))
		return
	}
	for _, sub := range s.filters.list() {
		s.filters.remove(sub)
	}
	writeFilter(w, http.StatusOK, req.RequestID, "OK")
}

func (s *Server) handleFilterPing(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("requestId")
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	if err := s.filter.Ping(ctx); err != nil {
		writeFilter(w, filterStatus(err), id, filterText(err))
		return
	}
	writeFilter(w, http.StatusOK, id, "OK")
}

// handleFilterMessages returns, and forgets, what was pushed for the content topic.
func (s *Server) handleFilterMessages(w http.ResponseWriter, r *http.Request) {
	ct := r.PathValue("contentTopic")
	msgs, ok := s.filters.cache.take(ct)
	if !ok {
		writeText(w, http.StatusBadRequest, "Not subscribed to topic: "+ct)
		return
	}
	writeJSON(w, toFilterMessages(msgs))
}

// filterSubs holds the filter subscriptions made through REST and, per subscription, a
// goroutine that drains its channel into the per-content-topic cache.
type filterSubs struct {
	op    sync.Mutex // serializes subscription changes (they span network calls)
	cache *msgCache  // by content topic, deduplicated by message hash

	mu     sync.Mutex
	subs   map[*filter.Subscription]chan struct{} // → stop
	closed bool
	wg     sync.WaitGroup
}

func newFilterSubs(capacity int, maxBytes int64) *filterSubs {
	return &filterSubs{cache: newMsgCache(capacity, maxBytes, false, true), subs: map[*filter.Subscription]chan struct{}{}}
}

var errTooManyFilterTopics = fmt.Errorf("REST filter cache holds %d content topics already", maxCachedTopics)

// add starts draining sub into the cache.
func (f *filterSubs) add(sub *filter.Subscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("REST server is closing")
	}
	if len(f.subs) >= maxCachedTopics {
		return fmt.Errorf("REST holds %d filter subscriptions already", maxCachedTopics)
	}
	for _, ct := range sub.ContentTopics {
		if !f.cache.track(ct) {
			f.retrackLocked()
			return errTooManyFilterTopics
		}
	}
	stop := make(chan struct{})
	f.subs[sub] = stop
	f.wg.Add(1)
	go f.drain(sub, stop)
	return nil
}

func (f *filterSubs) drain(sub *filter.Subscription, stop chan struct{}) {
	defer f.wg.Done()
	for {
		select {
		case <-stop:
			return
		case e, ok := <-sub.C:
			if !ok { // unsubscribed elsewhere, or the node's client closed
				f.mu.Lock()
				if f.subs[sub] == stop {
					delete(f.subs, sub)
					f.retrackLocked()
				}
				f.mu.Unlock()
				return
			}
			if e != nil && e.Message != nil {
				f.cache.add(e.Message.GetContentTopic(), e)
			}
		}
	}
}

// remove stops sub's goroutine (without waiting) and forgets content topics no longer used.
func (f *filterSubs) remove(sub *filter.Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if stop, ok := f.subs[sub]; ok {
		close(stop)
		delete(f.subs, sub)
		f.retrackLocked()
	}
}

// retrackLocked untracks the cached content topics no held subscription covers.
func (f *filterSubs) retrackLocked() {
	used := map[string]bool{}
	for sub := range f.subs {
		for _, ct := range sub.ContentTopics {
			used[ct] = true
		}
	}
	for _, ct := range f.cache.trackedTopics() {
		if !used[ct] {
			f.cache.untrack(ct)
		}
	}
}

func (f *filterSubs) list() []*filter.Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*filter.Subscription, 0, len(f.subs))
	for sub := range f.subs {
		out = append(out, sub)
	}
	return out
}

// close unsubscribes what REST subscribed (best effort, bounded by ctx) and waits for every
// goroutine.
func (f *filterSubs) close(ctx context.Context, n FilterNode) {
	f.op.Lock()
	defer f.op.Unlock()
	f.mu.Lock()
	f.closed = true
	subs := make([]*filter.Subscription, 0, len(f.subs))
	for sub, stop := range f.subs {
		close(stop)
		subs = append(subs, sub)
	}
	clear(f.subs)
	f.mu.Unlock()
	f.wg.Wait()
	for _, sub := range subs {
		_ = n.Unsubscribe(ctx, sub)
	}
}
