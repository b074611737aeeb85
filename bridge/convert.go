package bridge

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/wakuv1"
	"github.com/wakunode/wakunode/wakuv1/payload"
)

// ErrValue reports a v2 message on a Waku v1 content topic that cannot become an envelope.
var ErrValue = errors.New("not convertible to a Waku v1 envelope")

// ContentTopic maps a v1 topic to its v2 content topic: /waku/1/0x<8 hex>/rfc26.
func ContentTopic(t wakuv1.Topic) string { return "/waku/1/" + t.String() + "/rfc26" }

// V1Topic maps a v2 content topic back. bridgeable is false for content topics of other
// applications or versions (ignored, as nwaku did); err is set when a /waku/1/ topic does not
// name 4 bytes of hex.
func V1Topic(contentTopic string) (t wakuv1.Topic, bridgeable bool, err error) {
	ct, err := message.ParseContentTopic(contentTopic)
	if err != nil || ct.Application != "waku" || ct.Version != "1" {
		return t, false, nil
	}
	name, ok := strings.CutPrefix(ct.Name, "0x")
	b, herr := hex.DecodeString(name)
	if !ok || herr != nil || len(b) != wakuv1.TopicLength {
		return t, true, fmt.Errorf("%w: content topic %q: name must be 0x and 8 hex digits", ErrValue, contentTopic)
	}
	copy(t[:], b)
	return t, true, nil
}

// ToV2 builds the WakuMessage for a v1 envelope: data unchanged as payload (still 7/WAKU-DATA,
// hence version 1), timestamp = the envelope's sent time in nanoseconds.
func ToV2(e *wakuv1.Envelope) *pb.WakuMessage {
	ts := e.Sent() * 1e9
	version := uint32(1)
	return &pb.WakuMessage{Payload: e.Data, ContentTopic: ContentTopic(e.Topic), Version: &version, Timestamp: &ts}
}

// v1Data is what a v2 message carries into the envelope: a version-1 payload as it is
// (already 7/WAKU-DATA), any other wrapped unencrypted in the 7/WAKU-DATA layout with zero
// padding, so that every bridge produces the same bytes.
func v1Data(m *pb.WakuMessage) ([]byte, error) {
	if m.GetVersion() == 1 {
		return m.GetPayload(), nil
	}
	d, err := payload.Encode(m.GetPayload(), payload.Options{ZeroPadding: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrValue, err)
	}
	return d, nil
}

// sentTime picks the envelope's sent time (Unix seconds) for a v2 message: the message's own
// timestamp when that leaves the envelope at least a second to live, so that two bridges
// converting the same message seal the same envelope; otherwise now.
func sentTime(m *pb.WakuMessage, ttl uint32, now int64) int64 {
	ts := m.GetTimestamp() / 1e9
	if ts > 0 && ts <= now+1 && ts+int64(ttl) > now+1 {
		return ts
	}
	return now
}
