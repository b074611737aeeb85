package storesync

// Metrics receives store-sync events. Implementations export them under nwaku's names, given
// per method; a nil Metrics in Config is a no-op.
type Metrics interface {
	// Roundtrips observes the frames one side received in a finished session
	// (histogram reconciliation_roundtrips, buckets 1, 2, 3, 5, 8, 13).
	Roundtrips(frames int)
	// Differences observes |toSend| + |toRecv| of a finished session
	// (histogram reconciliation_differences, buckets 0, 10, 50, 100, 500, 1000, 5000).
	Differences(n int)
	// Bytes counts frame bytes (counter total_bytes_exchanged{protocol, direction});
	// protocol is "reconciliation" or "transfer", direction "receive" or "sent".
	Bytes(protocol, direction string, n int)
	// TransferMessage counts one message pushed or received
	// (counter total_transfer_messages_exchanged{direction}).
	TransferMessage(direction string)
	// Cached sets the number of IDs in the sync index after a prune (gauge total_messages_cached).
	Cached(n int)
	// Dropped counts what this node refused or could not do, by cause (not an nwaku metric):
	// "frame", "decode", "rounds", "busy", "no_session", "transfer_limit", "invalid",
	// "out_of_scope", "out_of_window", "ephemeral", "queue_full", "index_full", "index_busy", "archive".
	Dropped(reason string)
}

type nopMetrics struct{}

func (nopMetrics) Roundtrips(int)            {}
func (nopMetrics) Differences(int)           {}
func (nopMetrics) Bytes(string, string, int) {}
func (nopMetrics) TransferMessage(string)    {}
func (nopMetrics) Cached(int)                {}
func (nopMetrics) Dropped(string)            {}
