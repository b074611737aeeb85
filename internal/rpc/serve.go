package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-varint"
	"google.golang.org/protobuf/proto"
)

// The codes Serve hands to a protocol's Refuse when a request never reaches the handler. Each
// protocol maps them onto its own status field (a protocol without 413 answers 400).
const (
	StatusBadRequest         uint32 = 400 // the bytes do not decode
	StatusPayloadTooLarge    uint32 = 413 // the frame is over MaxRequest
	StatusServiceUnavailable uint32 = 503 // the resource manager refused the memory
)

// maxDrain bounds the bytes of an oversized request read and discarded after the refusal, so
// that a client that writes its whole request before reading still gets the answer.
const maxDrain = 16 << 20

// Server is the server side of a protocol with one request and one response per stream.
type Server[Req any, P interface {
	*Req
	proto.Message
}] struct {
	// MaxRequest bounds the request frame; larger ones are refused with 413.
	MaxRequest int
	// Timeout bounds the whole exchange; 0 means DefaultTimeout.
	Timeout time.Duration
	// Handle answers a decoded request; a nil answer closes the stream without one.
	Handle func(ctx context.Context, from peer.ID, req P) proto.Message
	// Refuse answers a request that never reached Handle (code is one of the Status* above);
	// nil closes the stream without an answer.
	Refuse func(code uint32, desc string) proto.Message
	Logger *slog.Logger // nil discards
}

// ServeStream is the stream handler: read one request, answer it, close the stream.
func (sv *Server[Req, P]) ServeStream(s network.Stream) {
	timeout := sv.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	_ = s.SetDeadline(time.Now().Add(timeout))
	from := s.Conn().RemotePeer()
	resp, drain, err := sv.answer(s, from, timeout)
	if err != nil && sv.Logger != nil {
		sv.Logger.Debug("request refused", "protocol", s.Protocol(), "peer", from, "err", err)
	}
	if resp == nil {
		_ = s.Close()
		return
	}
	if err := Write(s, resp); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.CloseWrite()
	if drain > 0 {
		_, _ = io.CopyN(io.Discard, s, int64(min(drain, maxDrain)))
	}
	_ = s.Close()
}

// answer reads and handles one request. drain is the number of unread request bytes left on
// the stream (an oversized frame).
func (sv *Server[Req, P]) answer(s network.Stream, from peer.ID, timeout time.Duration) (resp proto.Message, drain int, err error) {
	refuse := func(code uint32, err error) (proto.Message, int, error) {
		if sv.Refuse == nil {
			return nil, 0, err
		}
		return sv.Refuse(code, err.Error()), 0, err
	}
	n, err := varint.ReadUvarint(byteReader{s})
	if err != nil {
		return nil, 0, fmt.Errorf("read request length: %w", err) // nothing to answer
	}
	if n > uint64(sv.MaxRequest) {
		resp, _, err := refuse(StatusPayloadTooLarge, fmt.Errorf("request of %d bytes exceeds the limit of %d", n, sv.MaxRequest))
		return resp, int(min(n, maxDrain)), err
	}
	if err := s.Scope().ReserveMemory(int(n), network.ReservationPriorityMedium); err != nil {
		return refuse(StatusServiceUnavailable, fmt.Errorf("request of %d bytes: %w", n, err))
	}
	defer s.Scope().ReleaseMemory(int(n))
	buf := make([]byte, n)
	if _, err := io.ReadFull(s, buf); err != nil {
		return nil, 0, fmt.Errorf("read request: %w", err) // truncated: the peer is gone
	}
	req := P(new(Req))
	if err := proto.Unmarshal(buf, req); err != nil {
		return refuse(StatusBadRequest, fmt.Errorf("decode request: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return sv.Handle(ctx, from, req), 0, nil
}

// byteReader reads a stream one byte at a time, for the length prefix only (at most 10 bytes),
// so that no request byte is buffered away from the stream.
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.r, c[:])
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return c[0], err
}

// NewRequestID returns a random request id (32 hex digits), as every Waku client sends.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
