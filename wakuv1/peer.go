package wakuv1

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/time/rate"
)

// Packet codes (6/WAKU1 §packet codes).
const (
	statusCode          = 0
	messagesCode        = 1
	batchAckCode        = 11
	messageResponseCode = 12
	statusUpdateCode    = 22
)

// sendBatchBytes keeps one Messages packet under status-go's default max message size, which
// it applies to whole packets.
const sendBatchBytes = DefaultMaxEnvelope

// peer is one connected v1 peer after the handshake.
type peer struct {
	n    *Node
	p    *p2p.Peer
	rw   p2p.MsgReadWriter
	id   enode.ID
	log  *slog.Logger
	kick func()

	mu      sync.Mutex
	remote  StatusOptions // merged with updates; read through filter()
	version uint64        // bumped by each status update, so filter() rebuilds only then

	inEnvelopes, inBytes *rate.Limiter // what the peer may send us
	sentCount, recvCount atomic.Uint64
	connected            time.Time
}

// remoteFilter is a snapshot of what the peer asked for.
type remoteFilter struct {
	version     uint64
	pow         float64
	bloom       *Bloom
	topics      map[Topic]struct{}
	confirm     bool
	outPackets  *rate.Limiter // nil: no limit advertised
	outBytes    *rate.Limiter
	packetLimit uint64
	byteLimit   uint64
}

func (f *remoteFilter) wants(e *entry) bool {
	if e.env.PoW() < f.pow {
		return false
	}
	if f.topics != nil {
		_, ok := f.topics[e.env.Topic]
		return ok
	}
	return f.bloom == nil || f.bloom.Contains(&e.bloom)
}

// withDefaults fills absent options with status-go's defaults.
func withDefaults(o StatusOptions) StatusOptions {
	if o.PoWRequirement == nil {
		p := peerDefaultPoW
		o.PoWRequirement = &p
	}
	if o.BloomFilter == nil && o.TopicInterest == nil {
		full := FullBloom()
		o.BloomFilter = &full
	}
	return o
}

// runPeer is the protocol's Run: handshake, then the read loop; the sender runs beside it.
func (n *Node) runPeer(p2pPeer *p2p.Peer, rw p2p.MsgReadWriter) error {
	log := n.log.With("v1peer", p2pPeer.ID().TerminalString(), "addr", p2pPeer.RemoteAddr().String())
	remote, err := n.handshake(p2pPeer, rw)
	if err != nil {
		log.Debug("v1 handshake failed", "err", err)
		return err
	}
	p := &peer{n: n, p: p2pPeer, rw: rw, id: p2pPeer.ID(), log: log, remote: withDefaults(*remote), connected: time.Now(),
		inEnvelopes: rate.NewLimiter(rate.Limit(n.cfg.PeerEnvelopeRate), int(2*n.cfg.PeerEnvelopeRate)),
		inBytes:     rate.NewLimiter(rate.Limit(n.cfg.PeerByteRate), int(2*n.cfg.PeerByteRate)+n.cfg.MaxPacketSize)}
	own := n.ownOptions()
	if *own.LightNode && p.remote.LightNode != nil && *p.remote.LightNode {
		return fmt.Errorf("both peers are light nodes: %w", p2p.DiscUselessPeer)
	}
	kick := make(chan struct{}, 1)
	p.kick = func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	n.mu.Lock()
	if !n.running {
		n.mu.Unlock()
		return p2p.DiscQuitting
	}
	n.peers[p.id] = p
	n.mu.Unlock()
	n.metrics.peers.Inc()
	log.Info("Waku v1 peer connected", "name", p2pPeer.Fullname(), "inbound", p2pPeer.Inbound())

	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		p.sendLoop(kick, stop)
	}()
	err = p.readLoop()
	close(stop)
	<-senderDone
	n.mu.Lock()
	delete(n.peers, p.id)
	n.mu.Unlock()
	n.metrics.peers.Dec()
	log.Info("Waku v1 peer disconnected", "err", err, "sent", p.sentCount.Load(), "received", p.recvCount.Load())
	return err
}

// handshake sends our Status and waits for the peer's, which must be its first packet.
func (n *Node) handshake(p2pPeer *p2p.Peer, rw p2p.MsgReadWriter) (*StatusOptions, error) {
	own := n.ownOptions()
	raw, err := own.EncodeRLP()
	if err != nil {
		return nil, err
	}
	sent := make(chan error, 1)
	go func() { sent <- p2p.Send(rw, statusCode, rlp.RawValue(raw)) }()
	timer := time.AfterFunc(handshakeTimeout, func() { p2pPeer.Disconnect(p2p.DiscReadTimeout) })
	defer timer.Stop()
	msg, err := rw.ReadMsg()
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	defer msg.Discard()
	if msg.Code != statusCode {
		return nil, fmt.Errorf("first packet has code %d, want status: %w", msg.Code, p2p.DiscProtocolError)
	}
	if int(msg.Size) > n.cfg.MaxPacketSize {
		return nil, fmt.Errorf("status of %d bytes: %w", msg.Size, p2p.DiscProtocolError)
	}
	payload, err := io.ReadAll(msg.Payload)
	if err != nil {
		return nil, err
	}
	remote, err := DecodeStatusOptions(payload)
	if err != nil {
		n.metrics.disconnects.WithLabelValues("bad_status").Inc()
		return nil, fmt.Errorf("%w: %w", err, p2p.DiscProtocolError)
	}
	if err := <-sent; err != nil {
		return nil, fmt.Errorf("send status: %w", err)
	}
	return remote, nil
}

func (p *peer) sendRaw(code uint64, payload []byte) error {
	return p2p.Send(p.rw, code, rlp.RawValue(payload))
}

// filter snapshots the peer's wishes.
func (p *peer) filter(lim *remoteFilter) *remoteFilter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lim != nil && lim.version == p.version {
		return lim
	}
	o := p.remote
	f := &remoteFilter{version: p.version, pow: *o.PoWRequirement, bloom: o.BloomFilter}
	if o.TopicInterest != nil {
		f.topics = make(map[Topic]struct{}, len(o.TopicInterest))
		for _, t := range o.TopicInterest {
			f.topics[t] = struct{}{}
		}
	}
	f.confirm = o.ConfirmationsEnabled != nil && *o.ConfirmationsEnabled
	// Keep the outgoing limiters across snapshots while the advertised limits are unchanged.
	if l := peerLimit(o.PacketRateLimits); l > 0 {
		f.packetLimit = l
		if lim != nil && lim.packetLimit == f.packetLimit {
			f.outPackets = lim.outPackets
		} else {
			f.outPackets = rate.NewLimiter(rate.Limit(f.packetLimit), int(f.packetLimit))
		}
	}
	if l := peerLimit(o.BytesRateLimits); l > 0 {
		f.byteLimit = l
		if lim != nil && lim.byteLimit == f.byteLimit {
			f.outBytes = lim.outBytes
		} else {
			f.outBytes = rate.NewLimiter(rate.Limit(f.byteLimit), int(max(f.byteLimit, uint64(sendBatchBytes))))
		}
	}
	return f
}

// peerLimit is what a peer's advertised limits allow us, one peer on one IP: the smaller
// non-zero of its per-IP and per-peer limits (0: none).
func peerLimit(l *RateLimits) uint64 {
	if l == nil {
		return 0
	}
	switch {
	case l.IP == 0:
		return l.PeerID
	case l.PeerID == 0:
		return l.IP
	default:
		return min(l.IP, l.PeerID)
	}
}

// sendLoop sends the peer, in pool order, every envelope it wants and did not send us:
// at once when the pool grows, and every transmission cycle for what rate limits deferred.
func (p *peer) sendLoop(kick <-chan struct{}, stop <-chan struct{}) {
	t := time.NewTicker(p.n.cfg.TransmissionCycle)
	defer t.Stop()
	var cursor uint64
	var f *remoteFilter
	p.kick() // what the pool already holds
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-kick:
		}
		f = p.filter(f)
		var err error
		if cursor, err = p.sendPending(cursor, f); err != nil {
			p.log.Debug("v1 send failed", "err", err)
			return // the read loop ends too: the connection is gone
		}
	}
}

func (p *peer) sendPending(cursor uint64, f *remoteFilter) (uint64, error) {
	now := p.n.cfg.Now().Unix()
	for {
		entries, last := p.n.pool.since(cursor, p.id, 512)
		if len(entries) == 0 {
			return last, nil
		}
		var batch []rlp.RawValue
		size := 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if err := p2p.Send(p.rw, messagesCode, batch); err != nil {
				return err
			}
			p.sentCount.Add(uint64(len(batch)))
			p.n.metrics.sent.Add(float64(len(batch)))
			batch, size = nil, 0
			return nil
		}
		for _, e := range entries {
			if int64(e.env.Expiry) < now || !f.wants(e) {
				cursor = e.seq
				continue
			}
			if size+len(e.raw) > sendBatchBytes {
				if err := flush(); err != nil {
					return cursor, err
				}
			}
			if len(batch) == 0 && f.outPackets != nil && !f.outPackets.Allow() {
				return cursor, flush() // the peer's advertised packet rate: resume next cycle
			}
			if f.outBytes != nil && !f.outBytes.AllowN(time.Now(), len(e.raw)) {
				return cursor, flush()
			}
			batch = append(batch, e.raw)
			size += len(e.raw)
			cursor = e.seq
		}
		if err := flush(); err != nil {
			return cursor, err
		}
		cursor = max(cursor, last)
	}
}

// errDisconnect marks read-loop errors that end the connection for misbehaviour.
var errDisconnect = errors.New("v1 peer misbehaved")

func (p *peer) readLoop() error {
	for {
		msg, err := p.rw.ReadMsg()
		if err != nil {
			return err
		}
		if int(msg.Size) > p.n.cfg.MaxPacketSize {
			msg.Discard()
			p.n.metrics.drop(DropTooLarge, "peer", p.id.TerminalString(), "packet", msg.Size)
			return p.misbehaved("packet_too_large", fmt.Errorf("packet of %d bytes exceeds %d", msg.Size, p.n.cfg.MaxPacketSize))
		}
		err = p.handle(msg)
		msg.Discard()
		if err != nil {
			return err
		}
	}
}

func (p *peer) misbehaved(reason string, err error) error {
	p.n.metrics.disconnects.WithLabelValues(reason).Inc()
	return fmt.Errorf("%w (%s): %w", errDisconnect, reason, err)
}

func (p *peer) handle(msg p2p.Msg) error {
	switch msg.Code {
	case statusCode: // a second Status is ignored
		return nil
	case messagesCode:
		if !p.inBytes.AllowN(time.Now(), int(msg.Size)) {
			p.n.metrics.drop(DropRateLimited, "peer", p.id.TerminalString())
			return p.misbehaved("rate_limited", fmt.Errorf("more than %.0f bytes/s", p.n.cfg.PeerByteRate))
		}
		data, err := io.ReadAll(msg.Payload)
		if err != nil {
			return err
		}
		return p.handleMessages(data)
	case statusUpdateCode:
		data, err := io.ReadAll(msg.Payload)
		if err != nil {
			return err
		}
		u, err := DecodeStatusOptions(data)
		if err != nil {
			return p.misbehaved("bad_status", err)
		}
		p.mu.Lock()
		p.remote.merge(u)
		p.version++
		p.mu.Unlock()
		p.kick() // a wider filter may let pooled envelopes through
		return nil
	case batchAckCode, messageResponseCode:
		return nil // confirmations of what we sent: nothing depends on them
	default: // unknown codes are ignored (forward compatibility)
		return nil
	}
}

// handleMessages validates a Messages packet envelope by envelope.
func (p *peer) handleMessages(data []byte) error {
	items, _, err := rlp.SplitList(data)
	if err != nil {
		p.n.metrics.drop(DropInvalid, "peer", p.id.TerminalString())
		return p.misbehaved("bad_rlp", err)
	}
	var rejected []envelopeError
	for len(items) > 0 {
		_, _, rest, err := rlp.Split(items)
		if err != nil {
			p.n.metrics.drop(DropInvalid, "peer", p.id.TerminalString())
			return p.misbehaved("bad_rlp", err)
		}
		raw := items[:len(items)-len(rest)]
		items = rest
		if !p.inEnvelopes.Allow() {
			p.n.metrics.drop(DropRateLimited, "peer", p.id.TerminalString())
			return p.misbehaved("rate_limited", fmt.Errorf("more than %.0f envelopes/s", p.n.cfg.PeerEnvelopeRate))
		}
		env, err := DecodeEnvelope(raw)
		if err != nil {
			p.n.metrics.drop(DropInvalid, "peer", p.id.TerminalString(), "err", err)
			return p.misbehaved("bad_rlp", err)
		}
		p.recvCount.Add(1)
		if cause, err := p.n.check(env); err != nil {
			p.n.metrics.drop(cause, "peer", p.id.TerminalString(), "err", err)
			if cause == DropTooLarge {
				return p.misbehaved("envelope_too_large", err)
			}
			rejected = append(rejected, envelopeError{Hash: env.Hash(), Code: confirmationCode(cause), Description: err.Error()})
			continue
		}
		switch err := p.n.pool.add(env, raw, p.id); {
		case errors.Is(err, ErrDuplicate):
			p.n.metrics.dropped.WithLabelValues(DropDuplicate).Inc() // routine in gossip: not logged
		case errors.Is(err, ErrPoolFull):
			p.n.metrics.drop(DropPoolFull, "peer", p.id.TerminalString())
			rejected = append(rejected, envelopeError{Hash: env.Hash(), Code: 2, Description: err.Error()})
		case err == nil:
			p.n.metrics.valid.Inc()
			p.n.deliver(env)
			p.n.kickPeers()
		}
	}
	if p.wantsConfirmations() {
		return p.confirm(data, rejected)
	}
	return nil
}

func (p *peer) wantsConfirmations() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remote.ConfirmationsEnabled != nil && *p.remote.ConfirmationsEnabled
}

// envelopeError is one entry of a Message Response.
type envelopeError struct {
	Hash        common.Hash
	Code        uint
	Description string
}

// confirmationCode maps a drop cause to the Message Response codes: 1 = time sync, 2 = other.
func confirmationCode(cause string) uint {
	if cause == DropExpired || cause == DropFuture {
		return 1
	}
	return 2
}

// confirm sends a Batch Ack (code 11) and a Message Response (code 12) for a Messages packet:
// the batch hash is Keccak-256 of the packet's raw payload.
func (p *peer) confirm(data []byte, rejected []envelopeError) error {
	batch := crypto.Keccak256Hash(data)
	if err := p2p.Send(p.rw, batchAckCode, batch); err != nil {
		return err
	}
	if rejected == nil {
		rejected = []envelopeError{}
	}
	resp, err := rlp.EncodeToBytes([]any{batch, rejected})
	if err != nil {
		return err
	}
	return p2p.Send(p.rw, messageResponseCode, []any{uint(1), rlp.RawValue(resp)})
}
