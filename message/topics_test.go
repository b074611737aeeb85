package message

import (
	"errors"
	"strconv"
	"testing"
)

func TestParseContentTopic(t *testing.T) {
	valid := []struct {
		in   string
		want ContentTopic
	}{
		{"/toychat/2/huilong/proto", ContentTopic{0, "toychat", "2", "huilong", "proto"}},
		{"/myapp/1/mytopic/cbor", ContentTopic{0, "myapp", "1", "mytopic", "cbor"}},
		{"/0/toychat/2/huilong/proto", ContentTopic{0, "toychat", "2", "huilong", "proto"}},
		{"/1/toychat/2/huilong/proto", ContentTopic{1, "toychat", "2", "huilong", "proto"}},
		{"/waku/2/default-content/proto", ContentTopic{0, "waku", "2", "default-content", "proto"}},
		{"/waku/1/0x007f80ff/rfc26", ContentTopic{0, "waku", "1", "0x007f80ff", "rfc26"}},
	}
	for _, c := range valid {
		got, err := ParseContentTopic(c.in)
		if err != nil {
			t.Fatalf("ParseContentTopic(%q): %v", c.in, err)
		}
		if got != c.want {
			t.Fatalf("ParseContentTopic(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}

	invalid := []struct {
		in   string
		want error
	}{
		{"invalid", ErrContentTopicSlash},
		{"", ErrContentTopicSlash},
		{"toychat/2/huilong/proto", ErrContentTopicSlash},
		{"/", ErrContentTopicStructure},
		{"/toychat/2/huilong", ErrContentTopicStructure},
		{"/a/b/c/d/e/f", ErrContentTopicStructure},
		{"/x/toychat/2/huilong/proto", ErrContentTopicStructure}, // generation not a number
		{"/-1/toychat/2/huilong/proto", ErrContentTopicStructure},
		{"/toychat//huilong/proto", ErrContentTopicStructure},
		{"/toychat/2/huilong/", ErrContentTopicStructure},
		{"//toychat/2/huilong/proto", ErrContentTopicStructure}, // empty generation
		{"/0//2/huilong/proto", ErrContentTopicStructure},
	}
	for _, c := range invalid {
		_, err := ParseContentTopic(c.in)
		if !errors.Is(err, c.want) {
			t.Fatalf("ParseContentTopic(%q) error = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestContentTopicString(t *testing.T) {
	for in, want := range map[string]string{
		"/toychat/2/huilong/proto":   "/toychat/2/huilong/proto",
		"/0/toychat/2/huilong/proto": "/toychat/2/huilong/proto",
		"/3/toychat/2/huilong/proto": "/3/toychat/2/huilong/proto",
	} {
		ct, err := ParseContentTopic(in)
		if err != nil {
			t.Fatal(err)
		}
		if ct.String() != want {
			t.Fatalf("%q: String() = %q, want %q", in, ct.String(), want)
		}
	}
}

func TestParseShard(t *testing.T) {
	valid := []struct {
		in   string
		want Shard
	}{
		{"/waku/2/rs/1/4", Shard{1, 4}},
		{"/waku/2/rs/0/0", Shard{0, 0}},
		{"/waku/2/rs/16/1023", Shard{16, 1023}},
		{"/waku/2/rs/65535/7", Shard{65535, 7}},
	}
	for _, c := range valid {
		got, err := ParseShard(c.in)
		if err != nil {
			t.Fatalf("ParseShard(%q): %v", c.in, err)
		}
		if got != c.want {
			t.Fatalf("ParseShard(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.PubsubTopic() != c.in || got.String() != c.in {
			t.Fatalf("round trip %q -> %q", c.in, got.PubsubTopic())
		}
	}

	invalid := []struct {
		in   string
		want error
	}{
		{"invalid", ErrPubsubTopicPrefix},
		{"", ErrPubsubTopicPrefix},
		{"/waku/1/rs/1/1", ErrPubsubTopicPrefix},
		{LegacyDefaultPubsubTopic, ErrPubsubTopicRS},
		{"/waku/2/rs", ErrPubsubTopicRS},
		{"/waku/2/rsv/1/1", ErrPubsubTopicRS},
		{"/waku/2/rs/", ErrMissingClusterID},
		{"/waku/2/rs//1", ErrMissingClusterID},
		{"/waku/2/rs/1", ErrMissingShard},
		{"/waku/2/rs/1/", ErrMissingShard},
		{"/waku/2/rs/1/2/3", ErrPubsubTopicStructure},
		{"/waku/2/rs/1/2/", ErrPubsubTopicStructure},
		{"/waku/2/rs/x/1", strconv.ErrSyntax},
		{"/waku/2/rs/1/x", strconv.ErrSyntax},
		{"/waku/2/rs/-1/1", strconv.ErrSyntax},
		{"/waku/2/rs/65536/1", strconv.ErrRange},
		{"/waku/2/rs/1/65536", strconv.ErrRange},
		{"/waku/2/rs/1/1024", ErrShardOutOfRange},
	}
	for _, c := range invalid {
		_, err := ParseShard(c.in)
		if !errors.Is(err, c.want) {
			t.Fatalf("ParseShard(%q) error = %v, want %v", c.in, err, c.want)
		}
	}
}
