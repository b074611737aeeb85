// Package rpc carries the framing every Waku request/response protocol shares: one
// unsigned-varint-length-prefixed protobuf in each direction on a fresh stream.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio/pbio"
	"google.golang.org/protobuf/proto"
)

// DefaultTimeout bounds one exchange: a client's when its context has no deadline, a
// server's when its config leaves the timeout 0. The one definition for every protocol.
const DefaultTimeout = 10 * time.Second

// ErrDial is wrapped by Request when no stream could be opened to the peer.
var ErrDial = errors.New("dial failure")

// Read reads one length-prefixed message of at most maxSize bytes.
func Read(s network.Stream, maxSize int, m proto.Message) error {
	if err := pbio.NewDelimitedReader(s, maxSize).ReadMsg(m); err != nil {
		return fmt.Errorf("read %s from %s: %w", s.Protocol(), s.Conn().RemotePeer(), err)
	}
	return nil
}

// Write writes one length-prefixed message.
func Write(s network.Stream, m proto.Message) error {
	if err := pbio.NewDelimitedWriter(s).WriteMsg(m); err != nil {
		return fmt.Errorf("write %s to %s: %w", s.Protocol(), s.Conn().RemotePeer(), err)
	}
	return nil
}

// Request opens a stream to p on one of protos, writes req, reads one response of at most
// maxResp bytes into resp and closes the stream.
func Request(ctx context.Context, h host.Host, p peer.ID, req, resp proto.Message, maxResp int, protos ...protocol.ID) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	s, err := h.NewStream(ctx, p, protos...)
	if err != nil {
		return fmt.Errorf("open %v stream to %s: %w: %w", protos, p, ErrDial, err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if err := Write(s, req); err != nil {
		_ = s.Reset()
		return err
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return fmt.Errorf("close write %s: %w", s.Protocol(), err)
	}
	if err := Read(s, maxResp, resp); err != nil {
		_ = s.Reset()
		return err
	}
	return nil
}
