package message

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

// WakuMessage field numbers (14/WAKU2-MESSAGE; message/pb/message.proto).
const (
	fieldPayload        protowire.Number = 1
	fieldContentTopic   protowire.Number = 2
	fieldVersion        protowire.Number = 3
	fieldTimestamp      protowire.Number = 10
	fieldMeta           protowire.Number = 11
	fieldRateLimitProof protowire.Number = 21
	fieldEphemeral      protowire.Number = 31
)

// unmarshal decodes raw into a new WakuMessage as proto.Unmarshal does, except that the
// bytes fields (payload, meta, rate_limit_proof) are views of raw instead of copies:
// protobuf-go copies every bytes field whatever its options (UnmarshalAliasBuffer is not
// honoured for them), and at 10 KB that copy was 39 % of the node's allocated bytes under
// load (issue 14). The views have cap == len, so an append never writes into raw, and raw is
// never modified. Fields, presence, last-one-wins, unknown fields (kept, for re-encoding)
// and the UTF-8 rule for content_topic follow proto.Unmarshal; FuzzUnmarshalMatchesProto
// holds the two to the same result. Input this fast path does not accept is handed to
// proto.Unmarshal, so malformed bytes get protobuf's own error.
func unmarshal(raw []byte) (*pb.WakuMessage, error) {
	m := &pb.WakuMessage{}
	if unmarshalAliased(raw, m) {
		return m, nil
	}
	m = &pb.WakuMessage{}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, err
	}
	return m, nil
}

// unmarshalAliased fills m from raw and reports success; false leaves m in an undefined state.
func unmarshalAliased(raw []byte, m *pb.WakuMessage) bool {
	var unknown []byte
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber || typ == protowire.EndGroupType {
			return false
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType && (num == fieldPayload || num == fieldContentTopic ||
			num == fieldMeta || num == fieldRateLimitProof):
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			v = v[:len(v):len(v)]
			switch num {
			case fieldPayload:
				if len(v) == 0 {
					v = nil // proto3 bytes without presence: empty is unset
				}
				m.Payload = v
			case fieldContentTopic:
				if !utf8.Valid(v) {
					return false
				}
				m.ContentTopic = string(v)
			case fieldMeta:
				m.Meta = present(v)
			case fieldRateLimitProof:
				m.RateLimitProof = present(v)
			}
		case typ == protowire.VarintType && (num == fieldVersion || num == fieldTimestamp || num == fieldEphemeral):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			switch num {
			case fieldVersion:
				x := uint32(v)
				m.Version = &x
			case fieldTimestamp:
				x := protowire.DecodeZigZag(v)
				m.Timestamp = &x
			case fieldEphemeral:
				x := protowire.DecodeBool(v)
				m.Ephemeral = &x
			}
		default: // an unknown field, or a known one with another wire type: kept as unknown
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			unknown = protowire.AppendTag(unknown, num, typ)
			unknown = append(unknown, b[:n]...)
			b = b[n:]
		}
	}
	if unknown != nil {
		m.ProtoReflect().SetUnknown(unknown)
	}
	return true
}

// present keeps an empty optional bytes field set (non-nil), as proto.Unmarshal does.
func present(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
