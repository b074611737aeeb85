// Package sds is Scalable Data Sync (end-to-end reliability) wire-compatible with js-waku's
// @waku/sds 0.0.8: the SdsMessage envelope inside WakuMessage.payload, a Lamport clock, causal
// history, the bloom filter with js's exact bits, acknowledgements, sync messages and buffering
// of messages whose dependencies are missing. Channel is the participant; transport and store
// are functions the application passes in.
package sds

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/sds/pb"
)

// Class is what a decoded message is (sds.md §2.3).
type Class int

// Message classes.
const (
	Invalid   Class = iota // no lamport timestamp and no content
	Content                // lamport and content: logged, acked, buffered
	Ephemeral              // content without lamport: delivered at once, nothing else
	Sync                   // lamport without content: history and bloom filter only
)

// MaxMessageSize bounds a decoded SDS payload (a WakuMessage payload is at most 150 KiB).
const MaxMessageSize = 150 * 1024

// ClassOf classifies m.
func ClassOf(m *pb.SdsMessage) Class {
	hasContent := len(m.GetContent()) > 0
	switch {
	case m.LamportTimestamp != nil && hasContent:
		return Content
	case m.LamportTimestamp == nil && hasContent:
		return Ephemeral
	case m.LamportTimestamp != nil:
		return Sync
	}
	return Invalid
}

// Encode serializes m in field-number order, as js does.
func Encode(m *pb.SdsMessage) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("sds encode: %w", err)
	}
	return b, nil
}

// Decode parses an SDS payload.
func Decode(b []byte) (*pb.SdsMessage, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("sds decode: %d bytes, limit %d", len(b), MaxMessageSize)
	}
	m := &pb.SdsMessage{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("sds decode: %w", err)
	}
	if ClassOf(m) == Invalid {
		return nil, errors.New("sds decode: message has neither lamport timestamp nor content")
	}
	return m, nil
}

// MessageID is js's messageId: lowercase hex SHA-256 of the application payload.
func MessageID(payload []byte) string {
	h := sha256.Sum256(payload)
	return hex.EncodeToString(h[:])
}

// Message and HistoryEntry are the wire types (generated).
type (
	Message      = pb.SdsMessage
	HistoryEntry = pb.HistoryEntry
)
