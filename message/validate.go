package message

import (
	"errors"
	"fmt"
	"time"
)

// Defaults from 14/WAKU2-MESSAGE and 64/WAKU2-NETWORK.
const (
	DefaultMaxMessageSize = 150 * 1024
	MaxMetaSize           = 64
	DefaultMaxTimeDrift   = 20 * time.Second
)

// Validation failures. Every door (relay, lightpush, REST, Go API) reports these same errors.
var (
	ErrTooLarge         = errors.New("message size exceeded maximum")
	ErrMetaTooLarge     = errors.New("meta exceeds 64 bytes")
	ErrEmptyContent     = errors.New("content topic is empty")
	ErrEmptyPayload     = errors.New("payload is empty")
	ErrTimestampMissing = errors.New("timestamp is missing")
	ErrTimestampDrift   = errors.New("timestamp differs from local clock by more than the allowed drift")
)

// Rules are the validation rules the node applies once to every message, whatever its door.
type Rules struct {
	// MaxSize bounds the encoded WakuMessage; 0 means DefaultMaxMessageSize.
	MaxSize int
	// MaxTimeDrift is the accepted |timestamp - now|; 0 disables the check (messages
	// without a timestamp are then accepted as well).
	MaxTimeDrift time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (r Rules) maxSize() int {
	if r.MaxSize <= 0 {
		return DefaultMaxMessageSize
	}
	return r.MaxSize
}

// Check validates an envelope. It never mutates it.
func (r Rules) Check(e *Envelope) error {
	if n := len(e.Raw); n > r.maxSize() {
		return fmt.Errorf("%w of %d bytes (message is %d bytes)", ErrTooLarge, r.maxSize(), n)
	}
	m := e.Message
	if len(m.GetMeta()) > MaxMetaSize {
		return fmt.Errorf("%w (%d bytes)", ErrMetaTooLarge, len(m.GetMeta()))
	}
	if m.GetContentTopic() == "" {
		return ErrEmptyContent
	}
	if len(m.GetPayload()) == 0 {
		return ErrEmptyPayload
	}
	if r.MaxTimeDrift > 0 {
		if m.Timestamp == nil || m.GetTimestamp() == 0 {
			return ErrTimestampMissing
		}
		now := time.Now
		if r.Now != nil {
			now = r.Now
		}
		d := time.Duration(now().UnixNano() - m.GetTimestamp())
		if d < 0 {
			d = -d
		}
		if d > r.MaxTimeDrift {
			return fmt.Errorf("%w (%s)", ErrTimestampDrift, d.Round(time.Millisecond))
		}
	}
	return nil
}
