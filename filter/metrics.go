package filter

import "time"

// Metrics receives the filter service's counters; the node implements it with Prometheus.
// A nil Metrics in Config is replaced by a no-op.
type Metrics interface {
	// Request counts one subscribe-protocol request by type (SUBSCRIBE, SUBSCRIBER_PING, ...,
	// or "invalid") and the status code answered, handled in d.
	Request(kind string, status uint32, d time.Duration)
	// Pushed counts one message delivered to one subscriber.
	Pushed()
	// PushDropped counts one message not delivered to one subscriber: "queue_full" or "failed".
	PushDropped(reason string)
	// SubscriberDropped counts a subscriber removed by the service: "expired" or "push_failures".
	SubscriberDropped(reason string)
	// Subscribers reports the current number of subscribed peers.
	Subscribers(n int)
}

type nopMetrics struct{}

func (nopMetrics) Request(string, uint32, time.Duration) {}
func (nopMetrics) Pushed()                               {}
func (nopMetrics) PushDropped(string)                    {}
func (nopMetrics) SubscriberDropped(string)              {}
func (nopMetrics) Subscribers(int)                       {}
