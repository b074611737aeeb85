package relay

import (
	"math"

	"github.com/libp2p/go-libp2p/core/peer"
)

// setScores stores a score snapshot and signals GraylistChanged when a peer is below the
// graylist threshold that was not in the previous snapshot. gossipsub keeps a disconnected
// peer's score for RetainScore (10 min), so a banned peer stays below it in every snapshot.
func (r *Relay) setScores(s map[peer.ID]float64) {
	var prev map[peer.ID]float64
	if p := r.scores.Swap(&s); p != nil {
		prev = *p
	}
	for id, v := range s {
		if old, ok := prev[id]; v < GraylistThreshold && (!ok || old >= GraylistThreshold) {
			r.notifyGraylist()
			return
		}
	}
}

// GraylistChanged is signalled when Graylisted may have grown (a peer newly below the
// threshold in a score snapshot, a peer flagged), so that the peer manager acts on it at once rather
// than at its next pass.
func (r *Relay) GraylistChanged() <-chan struct{} { return r.graylistCh }

func (r *Relay) notifyGraylist() {
	select {
	case r.graylistCh <- struct{}{}:
	default:
	}
}

// Graylisted lists the peers whose gossipsub score was below GraylistThreshold in the last
// snapshot (Config.ScoreInterval), with their scores. The peer manager disconnects and bans them.
// Peers flagged for announcing too many topics we do not serve (topicFilter) are reported with
// a score of -Inf.
func (r *Relay) Graylisted() map[peer.ID]float64 {
	var out map[peer.ID]float64
	for _, p := range r.filter.flaggedPeers() {
		if out == nil {
			out = map[peer.ID]float64{}
		}
		out[p] = math.Inf(-1)
	}
	s := r.scores.Load()
	if s == nil {
		return out
	}
	for p, v := range *s {
		if v < GraylistThreshold {
			if out == nil {
				out = map[peer.ID]float64{}
			}
			out[p] = v
		}
	}
	return out
}

// SuppressedLogLines is the number of pubsub log lines dropped as repeats of a cause already
// logged within the interval.
func (r *Relay) SuppressedLogLines() uint64 { return r.pubsubLog.Dropped() }

// PeerScore is the peer's gossipsub score as of the last snapshot (Config.ScoreInterval).
func (r *Relay) PeerScore(p peer.ID) (float64, bool) {
	s := r.scores.Load()
	if s == nil {
		return 0, false
	}
	v, ok := (*s)[p]
	return v, ok
}
