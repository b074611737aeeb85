package relay

// Metrics receives relay events. Implementations must be safe for concurrent use and fast: most
// methods are called from the pubsub event loop. A nil Metrics in Config means no metrics.
//
// Topic is the pubsub topic (shard), always one relay serves or was asked to publish on, so the set of
// topics is bounded; "" when an event is not tied to one topic (control-only RPC frames, RPC
// overhead). Implementations may keep per-topic state.
type Metrics interface {
	// MessageAccepted is called once per message accepted for the first time (local publish or
	// forwarded), with the size of its serialized WakuMessage.
	MessageAccepted(topic string, bytes int)
	// MessageRejected is called when a message fails validation or the signature policy. The
	// reason is one of the Reason* constants.
	MessageRejected(topic, reason string)
	// MessageDropped is called when a message (or an outbound RPC) is lost to back-pressure:
	// a full validation queue, a slow local subscriber, or a peer's full outbound queue. The
	// reason is one of the Drop* constants.
	MessageDropped(topic, reason string)
	// RPCBytes counts the bytes of gossip RPC frames per topic and direction (DirIn/DirOut),
	// gross: duplicates included. Control messages, framing and inbound messages on topics
	// relay does not serve count under topic "", so a peer cannot add label values at will.
	RPCBytes(topic, direction string, bytes int)
	// TopicPeers reports, every Config.PeerStatsInterval, the number of connected peers
	// subscribed to the topic and the size of our mesh for it.
	TopicPeers(topic string, subscribed, mesh int)
}

// Directions for Metrics.RPCBytes.
const (
	DirIn  = "in"
	DirOut = "out"
)

// Rejection reasons for Metrics.MessageRejected.
const (
	ReasonDecode            = "decode"
	ReasonTooLarge          = "too_large"
	ReasonMetaTooLarge      = "meta_too_large"
	ReasonEmptyContentTopic = "empty_content_topic"
	ReasonEmptyPayload      = "empty_payload"
	ReasonInvalid           = "invalid"
	ReasonSignature         = "signature" // from/seqno/signature/key present (StrictNoSign)
	ReasonOther             = "other"     // blacklist, self-origin, ignored
)

// Drop reasons for Metrics.MessageDropped.
const (
	DropValidationQueue = "validation_queue_full"
	DropValidationBusy  = "validation_throttled"
	DropSlowSubscriber  = "slow_subscriber"
	DropOutboundQueue   = "outbound_queue_full"
)

type nopMetrics struct{}

func (nopMetrics) MessageAccepted(string, int)    {}
func (nopMetrics) MessageRejected(string, string) {}
func (nopMetrics) MessageDropped(string, string)  {}
func (nopMetrics) RPCBytes(string, string, int)   {}
func (nopMetrics) TopicPeers(string, int, int)    {}
