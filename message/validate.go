package message

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wakunode/wakunode/message/pb"
)

// Defaults from 14/WAKU2-MESSAGE and 64/WAKU2-NETWORK.
const (
	DefaultMaxMessageSize = 150 * 1024
	MaxMetaSize           = 64
	// DefaultMaxTimeDrift is nwaku's archive rule (a stored message's timestamp must be within
	// 20 s of the clock). It is archive policy, not a relay rule: nwaku's relay (without RLN)
	// forwards messages whatever their timestamp, so ours does too and gossipsub scores agree.
	DefaultMaxTimeDrift = 20 * time.Second
)

// Sentinels for errors.Is; every validation failure is a *ValidationError wrapping one of them.
var (
	ErrTooLarge         = errors.New("message size exceeded maximum")
	ErrMetaTooLarge     = errors.New("meta exceeds 64 bytes")
	ErrEmptyContent     = errors.New("content topic is empty")
	ErrEmptyPayload     = errors.New("payload is empty")
	ErrUndecodable      = errors.New("not a WakuMessage")
	ErrNoPubsubTopic    = errors.New("pubsub topic is required (autosharding is off)")
	ErrWrongCluster     = errors.New("pubsub topic is on another cluster")
	ErrUnservedShard    = errors.New("pubsub topic is not served by this node")
	ErrInvalidTopicSpec = errors.New("invalid topic")
	// ErrDuplicate: relay already carried a message with this hash within gossipsub's seen
	// window, so publishing it again reaches no peer (nwaku: not_published_to_any_peer).
	ErrDuplicate = errors.New("not_published_to_any_peer: duplicate message")
)

// Reason is why a message was refused: the metrics label every door counts it under, and what
// chooses the status code a door answers (ValidationError.StatusCode).
type Reason string

// The reasons. The strings are metrics label values; keep them stable.
const (
	ReasonDecode            Reason = "decode"
	ReasonTooLarge          Reason = "too_large"
	ReasonMetaTooLarge      Reason = "meta_too_large"
	ReasonEmptyContentTopic Reason = "empty_content_topic"
	ReasonEmptyPayload      Reason = "empty_payload"
	ReasonContentTopic      Reason = "invalid_content_topic"
	ReasonPubsubTopic       Reason = "invalid_pubsub_topic"
	ReasonNoPubsubTopic     Reason = "no_pubsub_topic"
	ReasonWrongCluster      Reason = "wrong_cluster"
	ReasonUnservedShard     Reason = "unserved_shard"
)

// Status codes a refused message is answered with. They are lightpush v3's (nwaku's numbers),
// which REST answers as HTTP statuses too.
const (
	StatusBadRequest             uint32 = 400
	StatusPayloadTooLarge        uint32 = 413
	StatusInvalidMessage         uint32 = 420
	StatusUnsupportedPubsubTopic uint32 = 421
)

// ValidationError is the one error type of the validation path, whatever the door. Read it
// with errors.As: Reason for metrics labels, StatusCode for lightpush and REST, Text (also
// Error()) for the status description, in nwaku's wording where clients match it.
type ValidationError struct {
	Reason Reason
	Text   string
	err    error // the sentinel (Err*) and, when there is one, the cause
}

func (e *ValidationError) Error() string { return e.Text }

// Unwrap exposes the sentinel, so errors.Is(err, ErrTooLarge) keeps working.
func (e *ValidationError) Unwrap() error { return e.err }

// StatusCode is the lightpush v3 / REST status for this refusal.
func (e *ValidationError) StatusCode() uint32 {
	switch e.Reason {
	case ReasonTooLarge:
		return StatusPayloadTooLarge
	case ReasonDecode, ReasonNoPubsubTopic:
		return StatusBadRequest
	case ReasonPubsubTopic, ReasonWrongCluster, ReasonUnservedShard:
		return StatusUnsupportedPubsubTopic
	default:
		return StatusInvalidMessage
	}
}

func refuse(r Reason, sentinel error, text string) *ValidationError {
	return &ValidationError{Reason: r, Text: text, err: sentinel}
}

// AsValidationError returns err's *ValidationError, if it has one.
func AsValidationError(err error) (*ValidationError, bool) {
	var ve *ValidationError
	ok := errors.As(err, &ve)
	return ve, ok
}

// TooLargeText is nwaku's refusal text for an oversized message.
func TooLargeText(maxSize int) string {
	return "Message size exceeded maximum of " + strconv.Itoa(maxSize) + " bytes"
}

// Rules are the checks nwaku's relay applies to the message itself: encoded size, meta size,
// and the two fields nwaku's decoder requires (payload and content topic). Gossip applies
// exactly these, so we accept and reject what nwaku's relay does.
type Rules struct {
	// MaxSize bounds the encoded WakuMessage; 0 means DefaultMaxMessageSize.
	MaxSize int
	// Now is the clock used for receive times; nil means time.Now. It is no validation rule.
	Now func() time.Time
}

// Limit is the effective maximum encoded size.
func (r Rules) Limit() int {
	if r.MaxSize <= 0 {
		return DefaultMaxMessageSize
	}
	return r.MaxSize
}

// CheckSize refuses raw message bytes over the limit, before anything decodes them.
func (r Rules) CheckSize(n int) error {
	if n > r.Limit() {
		return refuse(ReasonTooLarge, ErrTooLarge, TooLargeText(r.Limit()))
	}
	return nil
}

// Check validates an envelope; it never mutates it. A failure is a *ValidationError.
func (r Rules) Check(e *Envelope) error {
	if err := r.CheckSize(len(e.Raw)); err != nil {
		return err
	}
	m := e.Message
	if n := len(m.GetMeta()); n > MaxMetaSize {
		return refuse(ReasonMetaTooLarge, ErrMetaTooLarge, fmt.Sprintf("meta exceeds %d bytes (%d bytes)", MaxMetaSize, n))
	}
	if m.GetContentTopic() == "" {
		return refuse(ReasonEmptyContentTopic, ErrEmptyContent, "content topic is empty")
	}
	if len(m.GetPayload()) == 0 {
		return refuse(ReasonEmptyPayload, ErrEmptyPayload, "missing Payload field")
	}
	return nil
}

// DecodeChecked decodes gossip bytes and applies r: the relay door. Failures are
// *ValidationError (ReasonDecode for bytes that are not a WakuMessage).
func (r Rules) DecodeChecked(pubsubTopic string, raw []byte, receivedAt int64) (*Envelope, error) {
	if err := r.CheckSize(len(raw)); err != nil {
		return nil, err
	}
	e, err := Decode(pubsubTopic, raw, receivedAt)
	if err != nil {
		return nil, &ValidationError{Reason: ReasonDecode, Text: err.Error(), err: errors.Join(ErrUndecodable, err)}
	}
	if err := r.Check(e); err != nil {
		return nil, err
	}
	return e, nil
}

// Validator is the validation path of every door other than gossip: lightpush, REST, the Go
// API's Publish, store resume and store sync. It resolves the pubsub topic (autosharding when
// none is given), checks the topic rules (static-shard syntax, our cluster, a served shard),
// builds the envelope (encoded and hashed once) and applies Rules. Gossip needs only Rules:
// pubsub delivers only the topics we joined.
type Validator struct {
	Rules Rules
	// Cluster is our cluster; a static-shard topic of another cluster is refused.
	Cluster uint16
	// Served reports whether we relay a pubsub topic; nil accepts every topic that passes
	// the other rules.
	Served func(pubsubTopic string) bool
	// Autoshard derives the shard of a content topic (sharding.Autosharding.Shard); nil means
	// autosharding is off and every message must name its pubsub topic. Content-topic syntax
	// is checked only here, where the shard depends on it, as nwaku does.
	Autoshard func(contentTopic string) (Shard, error)
}

// Route returns the pubsub topic a message for pubsubTopic ("" = derive it from
// contentTopic) goes to, or a *ValidationError.
func (v Validator) Route(pubsubTopic, contentTopic string) (string, error) {
	if pubsubTopic == "" {
		if v.Autoshard == nil {
			return "", refuse(ReasonNoPubsubTopic, ErrNoPubsubTopic, ErrNoPubsubTopic.Error())
		}
		if contentTopic == "" {
			return "", refuse(ReasonEmptyContentTopic, ErrEmptyContent, "content topic is empty")
		}
		s, err := v.Autoshard(contentTopic)
		if err != nil {
			return "", &ValidationError{Reason: ReasonContentTopic, Text: "Invalid content-topic: " + err.Error(),
				err: errors.Join(ErrInvalidTopicSpec, err)}
		}
		pubsubTopic = s.PubsubTopic()
	}
	s, err := ParseShard(pubsubTopic)
	switch {
	case err != nil:
		return "", &ValidationError{Reason: ReasonPubsubTopic, Text: "invalid pubsub topic: " + err.Error(),
			err: errors.Join(ErrInvalidTopicSpec, err)}
	case v.Served != nil && v.Served(pubsubTopic):
		return pubsubTopic, nil // a shard we relay, possibly another cluster's joined by request
	case s.Cluster != v.Cluster:
		return "", refuse(ReasonWrongCluster, ErrWrongCluster,
			fmt.Sprintf("pubsub topic %s is on cluster %d, ours is %d", pubsubTopic, s.Cluster, v.Cluster))
	}
	if v.Served != nil && !v.Served(pubsubTopic) {
		return "", refuse(ReasonUnservedShard, ErrUnservedShard, fmt.Sprintf("pubsub topic %s is not served by this node", pubsubTopic))
	}
	return pubsubTopic, nil
}

// Validate runs the whole path for a message entering by a door other than gossip and returns
// its envelope. m must not be modified afterwards.
func (v Validator) Validate(pubsubTopic string, m *pb.WakuMessage, receivedAt int64) (*Envelope, error) {
	if m == nil {
		return nil, refuse(ReasonDecode, ErrUndecodable, "message is missing")
	}
	topic, err := v.Route(pubsubTopic, m.GetContentTopic())
	if err != nil {
		return nil, err
	}
	e, err := NewEnvelope(topic, m, receivedAt)
	if err != nil {
		return nil, &ValidationError{Reason: ReasonDecode, Text: err.Error(), err: errors.Join(ErrUndecodable, err)}
	}
	if err := v.Rules.Check(e); err != nil {
		return nil, err
	}
	return e, nil
}

// CheckEnvelope runs the path for a message that arrives already enveloped under a named
// pubsub topic (store sync's transfer): the topic's cluster and shard, then the rules.
func (v Validator) CheckEnvelope(e *Envelope) error {
	if e.PubsubTopic == "" {
		return refuse(ReasonNoPubsubTopic, ErrNoPubsubTopic, ErrNoPubsubTopic.Error())
	}
	if _, err := v.Route(e.PubsubTopic, e.Message.GetContentTopic()); err != nil {
		return err
	}
	return v.Rules.Check(e)
}
