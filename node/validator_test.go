package node

import (
	"context"
	"testing"

	"github.com/wakunode/wakunode/message"
)

// TestPublishTopicRules: the Go API's Publish runs the validation path's topic rules, with the
// same error type (and status code) lightpush and REST answer with.
func TestPublishTopicRules(t *testing.T) {
	cfg := testConfig(t)
	cfg.NumShardsInNetwork = 0 // no autosharding
	n := startNode(t, cfg)
	for _, tc := range []struct {
		topic  string
		reason message.Reason
		status uint32
	}{
		{"/waku/2/rs/99/3", message.ReasonWrongCluster, 421},
		{"/waku/2/rs/16/1000", message.ReasonUnservedShard, 421},
		{"/not/a/shard", message.ReasonPubsubTopic, 421},
		{"", message.ReasonNoPubsubTopic, 400},
	} {
		_, err := n.Publish(context.Background(), tc.topic, testMessage("x"))
		ve, ok := message.AsValidationError(err)
		if !ok || ve.Reason != tc.reason || ve.StatusCode() != tc.status {
			t.Errorf("Publish on %q: %v, want %s (%d)", tc.topic, err, tc.reason, tc.status)
		}
	}
	if _, err := n.Publish(context.Background(), testTopic, testMessage("ok")); err != nil {
		t.Fatalf("publish on a served shard: %v", err)
	}
}
