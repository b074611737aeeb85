package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// relayRoutes mounts rest-api.md §6. Topics in paths are URL-encoded ("%2Fwaku%2F2%2Frs%2F1%2F0");
// ServeMux matches on the escaped path and PathValue unescapes, so an encoded '/' stays inside
// its segment.
func (s *Server) relayRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /relay/v1/subscriptions", s.handleRelayTopics(true))
	mux.HandleFunc("DELETE /relay/v1/subscriptions", s.handleRelayTopics(false))
	mux.HandleFunc("GET /relay/v1/messages/{pubsubTopic}", s.handleRelayGet)
	mux.HandleFunc("POST /relay/v1/messages/{pubsubTopic}", s.handleRelayPost)
	mux.HandleFunc("POST /relay/v1/auto/subscriptions", s.handleAutoSubscribe)
	mux.HandleFunc("DELETE /relay/v1/auto/subscriptions", s.handleAutoUnsubscribe)
	mux.HandleFunc("GET /relay/v1/auto/messages/{contentTopic}", s.handleAutoGet)
	mux.HandleFunc("POST /relay/v1/auto/messages", s.handleAutoPost)
}

// checkPubsubTopics accepts static-sharding topics of any cluster: nwaku's REST relays
// another cluster's shard on request.
func (s *Server) checkPubsubTopics(topics []string) error {
	var bad []string
	for _, t := range topics {
		if _, err := message.ParseShard(t); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("Invalid pubsub topic(s): %s", strings.Join(bad, "; "))
	}
	return nil
}

// handleRelayTopics serves POST (join) and DELETE (leave) /relay/v1/subscriptions: a JSON array
// of static-shard pubsub topics, all checked before any is applied.
func (s *Server) handleRelayTopics(join bool) http.HandlerFunc {
	verb, apply, cache := "subscribe", s.subscribe, func(t string) { s.cache.byPubsub.track(t) }
	if !join {
		verb, apply, cache = "unsubscribe", s.unsubscribe, s.cache.byPubsub.untrack
	}
	return func(w http.ResponseWriter, r *http.Request) {
		topics, ok := s.readStrings(w, r)
		if !ok {
			return
		}
		if err := s.checkPubsubTopics(topics); err != nil {
			writeText(w, http.StatusBadRequest, err.Error())
			return
		}
		for _, t := range topics {
			if err := apply(t); err != nil {
				writeText(w, statusOf(err, http.StatusInternalServerError), "Failed to "+verb+": "+err.Error())
				return
			}
			cache(t)
		}
		writeOK(w)
	}
}

// subscribe joins topic unless the node already relays it.
func (s *Server) subscribe(topic string) error {
	if s.relay.IsSubscribed(topic) {
		return nil
	}
	return s.relay.SubscribeAnyCluster(topic)
}

func (s *Server) unsubscribe(topic string) error {
	if !s.relay.IsSubscribed(topic) {
		return nil
	}
	return s.relay.Unsubscribe(topic)
}

// handleRelayGet returns, and forgets, the messages received on the topic since the last call.
func (s *Server) handleRelayGet(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("pubsubTopic")
	if !s.relay.IsSubscribed(topic) {
		writeText(w, http.StatusNotFound, "Not subscribed to topic: "+topic)
		return
	}
	msgs, _ := s.cache.byPubsub.take(topic) // none yet: an empty list
	writeJSON(w, toRelayMessages(msgs))
}

func (s *Server) handleRelayPost(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("pubsubTopic")
	m, ok := s.readMessage(w, r)
	if !ok {
		return
	}
	if !s.relay.IsSubscribed(topic) {
		writeText(w, http.StatusBadRequest, "Failed to publish: Node not subscribed to topic: "+topic)
		return
	}
	s.publish(w, r, topic, m)
}

func (s *Server) handleAutoSubscribe(w http.ResponseWriter, r *http.Request) {
	cts, ok := s.readStrings(w, r)
	if !ok {
		return
	}
	shards, err := s.autoShards(cts)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	for i, ct := range cts {
		if err := s.subscribe(shards[i]); err != nil {
			writeText(w, statusOf(err, http.StatusInternalServerError), "Failed to subscribe: "+err.Error())
			return
		}
		s.cache.byPubsub.track(shards[i])
		if !s.auto.track(ct) {
			writeText(w, http.StatusInternalServerError, fmt.Sprintf("Failed to subscribe: more than %d content topics or %d bytes of them", maxCachedTopics, maxTopicBytes))
			return
		}
	}
	writeOK(w)
}

// handleAutoUnsubscribe forgets the content topics and leaves each shard no remaining
// REST content topic maps to.
func (s *Server) handleAutoUnsubscribe(w http.ResponseWriter, r *http.Request) {
	cts, ok := s.readStrings(w, r)
	if !ok {
		return
	}
	shards, err := s.autoShards(cts)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, ct := range cts {
		s.auto.untrack(ct)
	}
	inUse := map[string]bool{}
	for _, ct := range s.auto.trackedTopics() {
		if t, err := s.n.PubsubTopicFor("", ct); err == nil {
			inUse[t] = true
		}
	}
	for _, t := range shards {
		if inUse[t] {
			continue
		}
		if err := s.unsubscribe(t); err != nil {
			writeText(w, statusOf(err, http.StatusInternalServerError), "Failed to unsubscribe: "+err.Error())
			return
		}
		s.cache.byPubsub.untrack(t)
	}
	writeOK(w)
}

// autoShards parses content topics and maps each to its autoshard's pubsub topic.
func (s *Server) autoShards(cts []string) ([]string, error) {
	out := make([]string, len(cts))
	for i, ct := range cts {
		if _, err := message.ParseContentTopic(ct); err != nil {
			return nil, fmt.Errorf("Invalid content topic: %w", err)
		}
		t, err := s.n.PubsubTopicFor("", ct)
		if err != nil {
			return nil, fmt.Errorf("Invalid content topic %q: %w", ct, err)
		}
		out[i] = t
	}
	return out, nil
}

// handleAutoGet returns, and forgets, the messages of a content topic received on its
// autoshard since the last read: the shard's traffic as cached by pubsub topic, whether the
// content topic was subscribed through REST or not (e.g. --content-topic). 404 unless the
// node relays that shard.
func (s *Server) handleAutoGet(w http.ResponseWriter, r *http.Request) {
	ct := r.PathValue("contentTopic")
	t, err := s.n.PubsubTopicFor("", ct)
	if err != nil || !s.relay.IsSubscribed(t) {
		writeText(w, http.StatusNotFound, "Not subscribed to topic: "+ct)
		return
	}
	msgs, _ := s.cache.byPubsub.takeMatching(t, func(e *message.Envelope) bool { return e.Message.GetContentTopic() == ct })
	writeJSON(w, toRelayMessages(msgs))
}

func (s *Server) handleAutoPost(w http.ResponseWriter, r *http.Request) {
	m, ok := s.readMessage(w, r)
	if !ok {
		return
	}
	if _, err := message.ParseContentTopic(m.ContentTopic); err != nil {
		writeText(w, http.StatusBadRequest, "Failed to publish: "+err.Error())
		return
	}
	topic, err := s.n.PubsubTopicFor("", m.ContentTopic)
	if err != nil {
		writeText(w, http.StatusBadRequest, "Failed to publish: "+err.Error())
		return
	}
	s.publish(w, r, topic, m)
}

// readMessage reads a JSON WakuMessage body; on failure it has answered 400.
func (s *Server) readMessage(w http.ResponseWriter, r *http.Request) (*pb.WakuMessage, bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return nil, false
	}
	m, err := decodeMessage(body)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return m, true
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request, topic string, m *pb.WakuMessage) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	if _, err := s.relay.Publish(ctx, topic, m); err != nil {
		writeText(w, statusOf(err, http.StatusBadRequest), "Failed to publish: "+validationText(err))
		return
	}
	writeOK(w)
}

// statusOf maps node errors to HTTP: a timeout is 500 (nwaku), a node without relay or not
// yet started 503, anything else def (validation failures are 400 on publish).
func statusOf(err error, def int) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusInternalServerError
	case errors.Is(err, node.ErrNotStarted), errors.Is(err, node.ErrRelayDisabled):
		return http.StatusServiceUnavailable
	case errors.Is(err, node.ErrNoAutosharding), errors.Is(err, node.ErrWrongCluster):
		return http.StatusBadRequest
	}
	return def
}
