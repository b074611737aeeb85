package message

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ContentTopic is a parsed 23/WAKU2-TOPICS content topic:
// /{generation}/{application}/{version}/{name}/{encoding} with the generation optional.
type ContentTopic struct {
	Generation  int
	Application string
	Version     string
	Name        string
	Encoding    string
}

// Errors returned by the topic parsers; wrapped with the offending topic.
var (
	ErrContentTopicSlash     = errors.New("invalid format: topic must start with slash")
	ErrContentTopicStructure = errors.New("invalid content topic structure")
	ErrGeneration            = errors.New("generation > 0 are not supported yet")
	ErrPubsubTopicPrefix     = errors.New("invalid format: must start with /waku/2")
	ErrPubsubTopicRS         = errors.New("invalid format: must start with /waku/2/rs")
	ErrMissingClusterID      = errors.New("invalid format: missing cluster_id")
	ErrMissingShard          = errors.New("invalid format: missing shard_number")
	ErrPubsubTopicStructure  = errors.New("invalid format: unexpected segments after shard_number")
	ErrShardOutOfRange       = errors.New("shard_number exceeds 1023")
)

// ParseContentTopic parses s following nwaku's NsContentTopic.parse.
func ParseContentTopic(s string) (ContentTopic, error) {
	var ct ContentTopic
	if !strings.HasPrefix(s, "/") {
		return ct, fmt.Errorf("content topic %q: %w", s, ErrContentTopicSlash)
	}
	parts := strings.Split(s[1:], "/")
	switch len(parts) {
	case 4:
	case 5:
		g, err := strconv.Atoi(parts[0])
		if err != nil || g < 0 {
			return ct, fmt.Errorf("content topic %q: generation %q is not a number: %w", s, parts[0], ErrContentTopicStructure)
		}
		ct.Generation = g
		parts = parts[1:]
	default:
		return ct, fmt.Errorf("content topic %q: want 4 or 5 segments, got %d: %w", s, len(parts), ErrContentTopicStructure)
	}
	for i, p := range parts {
		if p == "" {
			return ct, fmt.Errorf("content topic %q: segment %d is empty: %w", s, i+1, ErrContentTopicStructure)
		}
	}
	ct.Application, ct.Version, ct.Name, ct.Encoding = parts[0], parts[1], parts[2], parts[3]
	return ct, nil
}

// String renders the short form, or the long form when a generation is set.
func (c ContentTopic) String() string {
	base := "/" + c.Application + "/" + c.Version + "/" + c.Name + "/" + c.Encoding
	if c.Generation > 0 {
		return "/" + strconv.Itoa(c.Generation) + base
	}
	return base
}

// Shard identifies a static shard: the pubsub topic /waku/2/rs/<cluster>/<shard>.
type Shard struct {
	Cluster uint16
	Index   uint16
}

// MaxShardIndex is the highest shard index in a cluster.
const MaxShardIndex = 1023

const shardPrefix = "/waku/2/rs/"

// LegacyDefaultPubsubTopic is the historic default topic, still known to go-waku.
const LegacyDefaultPubsubTopic = "/waku/2/default-waku/proto"

// PubsubTopic renders the shard as its pubsub topic.
func (s Shard) PubsubTopic() string {
	return shardPrefix + strconv.Itoa(int(s.Cluster)) + "/" + strconv.Itoa(int(s.Index))
}

func (s Shard) String() string { return s.PubsubTopic() }

// ParseShard parses a static-sharding pubsub topic the way nwaku does.
func ParseShard(topic string) (Shard, error) {
	var s Shard
	if !strings.HasPrefix(topic, "/waku/2") {
		return s, fmt.Errorf("pubsub topic %q: %w", topic, ErrPubsubTopicPrefix)
	}
	if !strings.HasPrefix(topic, shardPrefix) {
		return s, fmt.Errorf("pubsub topic %q: %w", topic, ErrPubsubTopicRS)
	}
	parts := strings.Split(topic[len(shardPrefix):], "/")
	if len(parts) < 1 || parts[0] == "" {
		return s, fmt.Errorf("pubsub topic %q: %w", topic, ErrMissingClusterID)
	}
	if len(parts) < 2 || parts[1] == "" {
		return s, fmt.Errorf("pubsub topic %q: %w", topic, ErrMissingShard)
	}
	if len(parts) > 2 {
		return s, fmt.Errorf("pubsub topic %q: %w", topic, ErrPubsubTopicStructure)
	}
	c, err := strconv.ParseUint(parts[0], 10, 16)
	if err != nil {
		return s, fmt.Errorf("pubsub topic %q: cluster_id %q: %w", topic, parts[0], err)
	}
	i, err := strconv.ParseUint(parts[1], 10, 16)
	if err != nil {
		return s, fmt.Errorf("pubsub topic %q: shard_number %q: %w", topic, parts[1], err)
	}
	if i > MaxShardIndex {
		return s, fmt.Errorf("pubsub topic %q: shard %d: %w", topic, i, ErrShardOutOfRange)
	}
	return Shard{Cluster: uint16(c), Index: uint16(i)}, nil
}
