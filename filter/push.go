package filter

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-varint"
)

// pushStream is the one long-lived filter-push stream to a subscriber. nwaku and js-waku carry
// every push to a peer on one stream: js-waku never closes its end of a push stream and refuses
// more than 100 open ones, so a stream per message breaks it after 100 pushes.
type pushStream struct {
	st   network.Stream
	dead atomic.Bool // set when the drain sees the stream end: the next push reopens
}

// openPush opens the stream over an existing connection only: light clients are rarely
// dialable, and a peer that went away should fail fast rather than hold its worker. A drain
// goroutine (owned by wg) reads the stream, consuming the protocol negotiation's echo and
// noticing a remote reset or close.
func (s *Service) openPush(p peer.ID, wg *sync.WaitGroup) (*pushStream, error) {
	ctx, cancel := context.WithTimeout(network.WithNoDial(s.ctx, "filter push"), s.cfg.PushTimeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, PushProtocol)
	if err != nil {
		return nil, err
	}
	ps := &pushStream{st: st}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(io.Discard, st)
		ps.dead.Store(true)
	}()
	return ps, nil
}

// write sends one length-prefixed MessagePush within timeout.
func (ps *pushStream) write(b []byte, timeout time.Duration) error {
	_ = ps.st.SetWriteDeadline(time.Now().Add(timeout))
	_, err := ps.st.Write(append(varint.ToUvarint(uint64(len(b))), b...))
	return err
}

// close ends the stream; Reset also unblocks the drain goroutine's read.
func (ps *pushStream) close() { _ = ps.st.Reset() }
