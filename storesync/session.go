package storesync

import (
	"fmt"
	"sync"
)

// session is one side of a reconciliation exchange (store-sync.md §5.3), free of I/O: handle
// takes each received frame and says what to send back. Both roles use it; the initiator
// first sends initial().
type session struct {
	mu            sync.Locker // guards ix; held while one payload is processed
	ix            *Index
	pubsubTopics  []string // our own configured scope, sent in every header
	contentTopics []string
	threshold     int
	partitions    int
	maxRanges     int
	replyBudget   int // bytes per reply; 0 = unbounded

	diff     Diff
	received int // frames received (nwaku's roundtrips)
}

// initial is the initiator's first payload: one Fingerprint over the window [start, end],
// inclusive with end's hash all 0xff, filtered by our own topics.
func (s *session) initial(start, end int64) []byte {
	lower, upper := ID{Time: start}, ID{Time: end}
	for i := range upper.Hash {
		upper.Hash[i] = 0xff
	}
	s.mu.Lock()
	f := s.ix.newFilter(s.pubsubTopics, s.contentTopics)
	fp := s.ix.fingerprint(s.ix.lowerBound(lower), s.ix.upperBound(upper), f)
	s.mu.Unlock()
	p := Payload{PubsubTopics: s.pubsubTopics, ContentTopics: s.contentTopics,
		Ranges: []Range{{Lower: lower, Upper: upper, Type: Fingerprint, Fingerprint: fp}}}
	return p.Encode()
}

// handle processes one received frame. reply is nil when nothing is to be sent; done ends
// the exchange (after sending reply, if any). A frame that does not decode is an error.
func (s *session) handle(frame []byte) (reply []byte, done bool, err error) {
	s.received++
	p, err := Decode(frame, s.maxRanges)
	if err != nil {
		return nil, true, fmt.Errorf("reconciliation payload: %w", err)
	}
	if onlySkips(p.Ranges) {
		return nil, true, nil
	}
	pubsub, okP := scope(s.pubsubTopics, p.PubsubTopics)
	content, okC := scope(s.contentTopics, p.ContentTopics)
	if !okP || !okC {
		return []byte{}, true, nil
	}
	s.mu.Lock()
	proc := processor{ix: s.ix, f: s.ix.newFilter(pubsub, content), threshold: s.threshold, partitions: s.partitions}
	out := capReply(proc.process(p.Ranges, &s.diff), s.replyBudget)
	s.mu.Unlock()
	r := Payload{PubsubTopics: s.pubsubTopics, ContentTopics: s.contentTopics, Ranges: out}
	return r.Encode(), len(out) == 0, nil
}

// scope is nwaku's topic rule (§9): both lists set gives their intersection (false when it is
// empty), one list set gives that list, none gives no filter.
func scope(mine, theirs []string) ([]string, bool) {
	switch {
	case len(mine) == 0:
		return theirs, true
	case len(theirs) == 0:
		return mine, true
	}
	set := make(map[string]bool, len(theirs))
	for _, t := range theirs {
		set[t] = true
	}
	var out []string
	for _, t := range mine {
		if set[t] {
			out = append(out, t)
		}
	}
	return out, len(out) > 0
}
