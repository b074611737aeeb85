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

// errNoRequest marks a stream on which no whole request arrived: there is nothing to answer.
var errNoRequest = errors.New("no request read")

// maxDrain bounds the bytes of a refused request (oversized, or no memory for it) read and
// discarded in small chunks after the refusal, so that a client that writes its whole request
// before reading still gets the answer.
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
	// Written, when set, is told of each answer written to the stream without error (what
	// accounting books as served).
	Written func(from peer.ID, resp proto.Message)
	Logger  *slog.Logger // nil discards
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
	if errors.Is(err, errNoRequest) {
		// No request arrived (deadline, EOF, truncation): reset, so that a client holding the
		// stream in a pool (js-waku pre-opens them) drops it instead of writing into it.
		_ = s.Reset()
		return
	}
	if resp == nil {
		_ = s.Close()
		return
	}
	if err := Write(s, resp); err != nil {
		_ = s.Reset()
		return
	}
	if sv.Written != nil {
		sv.Written(from, resp)
	}
	_ = s.CloseWrite()
	if drain > 0 {
		_, _ = io.CopyN(io.Discard, s, int64(min(drain, maxDrain)))
	}
	_ = s.Close()
}

// answer reads and handles one request. drain is the number of unread request bytes left on
// the stream (a refused frame).
func (sv *Server[Req, P]) answer(s network.Stream, from peer.ID, timeout time.Duration) (resp proto.Message, drain int, err error) {
	refuse := func(code uint32, err error) (proto.Message, int, error) {
		if sv.Refuse == nil {
			return nil, 0, err
		}
		return sv.Refuse(code, err.Error()), 0, err
	}
	buf, declared, err := readRequest(s, sv.MaxRequest, func(n int) error {
		return s.Scope().ReserveMemory(n, network.ReservationPriorityMedium)
	})
	switch {
	case errors.Is(err, errTooLarge):
		resp, _, err := refuse(StatusPayloadTooLarge, err)
		return resp, int(min(declared, maxDrain)), err
	case errors.Is(err, errNoMemory):
		resp, _, err := refuse(StatusServiceUnavailable, err)
		return resp, int(min(declared, maxDrain)), err
	case err != nil:
		return nil, 0, err
	}
	defer s.Scope().ReleaseMemory(len(buf))
	req := P(new(Req))
	if err := proto.Unmarshal(buf, req); err != nil {
		return refuse(StatusBadRequest, fmt.Errorf("decode request: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return sv.Handle(ctx, from, req), 0, nil
}

var (
	errTooLarge = errors.New("request too large")
	errNoMemory = errors.New("no memory for the request")
)

// readRequest reads one varint-length-prefixed frame of at most max bytes from r, reserving its
// size with reserve before buffering it. declared is the announced length. Errors wrap
// errTooLarge, errNoMemory or errNoRequest (nothing whole arrived).
func readRequest(r io.Reader, max int, reserve func(int) error) (buf []byte, declared uint64, err error) {
	n, err := varint.ReadUvarint(byteReader{r})
	if err != nil {
		return nil, 0, fmt.Errorf("%w: length: %w", errNoRequest, err)
	}
	if n > uint64(max) {
		return nil, n, fmt.Errorf("%w: %d bytes exceed the limit of %d", errTooLarge, n, max)
	}
	if err := reserve(int(n)); err != nil {
		return nil, n, fmt.Errorf("%w: %d bytes: %w", errNoMemory, n, err)
	}
	buf = make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, n, fmt.Errorf("%w: %w", errNoRequest, err)
	}
	return buf, n, nil
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
