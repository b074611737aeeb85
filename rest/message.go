package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// b64 is the payload/meta/proof encoding of rest-api.md §1.1: standard alphabet, padded.
// Strict rejects non-canonical trailing bits so a decoded value re-encodes to the same text.
var b64 = base64.StdEncoding.Strict()

// RelayWakuMessage is the JSON WakuMessage of rest-api.md §1.1 as relay endpoints emit it:
// version, timestamp, ephemeral and proof always present, meta omitted when empty.
type RelayWakuMessage struct {
	MessageJSON
	Proof string `json:"proof"`
}

// MessageJSON is a WakuMessage's fields as every endpoint writes them (spec/rest-api.md §1.1);
// the endpoints differ only in how they carry the RLN proof.
type MessageJSON struct {
	Payload      string `json:"payload"`
	ContentTopic string `json:"contentTopic"`
	Version      uint32 `json:"version"`
	Timestamp    int64  `json:"timestamp"`
	Meta         string `json:"meta,omitempty"`
	Ephemeral    bool   `json:"ephemeral"`
}

// toMessageJSON renders a WakuMessage's fields (base64 payload and meta; meta omitted when empty).
func toMessageJSON(m *pb.WakuMessage) MessageJSON {
	out := MessageJSON{
		Payload:      b64.EncodeToString(m.GetPayload()),
		ContentTopic: m.GetContentTopic(),
		Version:      m.GetVersion(),
		Timestamp:    m.GetTimestamp(),
		Ephemeral:    m.GetEphemeral(),
	}
	if len(m.GetMeta()) > 0 {
		out.Meta = b64.EncodeToString(m.GetMeta())
	}
	return out
}

// toRelayMessage renders a WakuMessage for relay output: proof always present, maybe "".
func toRelayMessage(m *pb.WakuMessage) RelayWakuMessage {
	return RelayWakuMessage{MessageJSON: toMessageJSON(m), Proof: b64.EncodeToString(m.GetRateLimitProof())}
}

func toRelayMessages(es []*message.Envelope) []RelayWakuMessage {
	out := make([]RelayWakuMessage, 0, len(es)) // "[]", never "null"
	for _, e := range es {
		out = append(out, toRelayMessage(e.Message))
	}
	return out
}

var (
	errMissingPayload      = errors.New("missing or empty payload")
	errMissingContentTopic = errors.New("missing or empty contentTopic")
)

// knownFields are the JSON keys of a WakuMessage. Any other key, and null for any of these,
// is refused with 400, as nwaku's reader does (an unknown key there aborts the decode).
var knownFields = map[string]bool{
	"payload": true, "contentTopic": true, "version": true, "timestamp": true,
	"meta": true, "ephemeral": true, "proof": true,
}

// decodeObject parses a JSON object of the given keys: an unknown key or a null value is an
// error (strict readers of nwaku's request bodies).
func decodeObject(body []byte, what string, known map[string]bool) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("invalid JSON: want a %s object", what)
	}
	for k, v := range obj {
		if !known[k] {
			return nil, fmt.Errorf("%w %q in %s", errUnknownField, k, what)
		}
		if string(v) == "null" {
			return nil, fmt.Errorf("invalid %s: null", k)
		}
	}
	return obj, nil
}

var errUnknownField = errors.New("unknown field")

// decodeMessage parses a JSON WakuMessage from body, which checkJSON has already vetted
// (one value, no duplicate keys). Keys match exactly, as in nwaku (encoding/json would also
// accept "Payload"). A zero or absent timestamp is set to now, as nwaku's REST does for every
// door (relay and lightpush).
func decodeMessage(body []byte) (*pb.WakuMessage, error) {
	obj, err := decodeObject(body, "WakuMessage", knownFields)
	if err != nil {
		return nil, err
	}
	m := &pb.WakuMessage{}
	if m.Payload, err = b64Field(obj, "payload"); err != nil {
		return nil, err
	}
	if len(m.Payload) == 0 {
		return nil, errMissingPayload
	}
	if err := field(obj, "contentTopic", &m.ContentTopic); err != nil {
		return nil, err
	}
	if m.ContentTopic == "" {
		return nil, errMissingContentTopic
	}
	var version uint32
	if err := field(obj, "version", &version); err != nil {
		return nil, err
	}
	if version != 0 {
		m.Version = &version
	}
	var ts int64
	if err := field(obj, "timestamp", &ts); err != nil {
		return nil, err
	}
	if ts == 0 {
		ts = time.Now().UnixNano()
	}
	m.Timestamp = &ts
	if m.Meta, err = b64Field(obj, "meta"); err != nil {
		return nil, err
	}
	if len(m.Meta) == 0 {
		m.Meta = nil
	}
	if m.RateLimitProof, err = b64Field(obj, "proof"); err != nil {
		return nil, err
	}
	if len(m.RateLimitProof) == 0 {
		m.RateLimitProof = nil
	}
	var eph bool
	if err := field(obj, "ephemeral", &eph); err != nil {
		return nil, err
	}
	if eph {
		m.Ephemeral = &eph
	}
	return m, nil
}

// field decodes obj[name] into v when present (decodeObject has refused nulls).
func field(obj map[string]json.RawMessage, name string, v any) error {
	raw, ok := obj[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("invalid %s: %s", name, jsonErr(err))
	}
	return nil
}

func b64Field(obj map[string]json.RawMessage, name string) ([]byte, error) {
	var s string
	if err := field(obj, name, &s); err != nil {
		return nil, err
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid %s: not padded standard base64: %w", name, err)
	}
	return b, nil
}

// jsonErr shortens encoding/json's type errors ("json: cannot unmarshal number -1 into Go
// value of type uint32") to what a REST caller needs.
func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)
	}
	return err.Error()
}
