package node

// Health statuses as nwaku reports them (spec/rest-api.md §4).
const (
	HealthInitializing = "INITIALIZING"
	HealthReady        = "READY"
	HealthNotReady     = "NOT_READY"
	HealthNotMounted   = "NOT_MOUNTED"
	HealthShuttingDown = "SHUTTING_DOWN"
)

// ProtocolHealth is one protocol's state, e.g. {"Relay", "READY", ""}.
type ProtocolHealth struct {
	Protocol string
	Status   string
	Desc     string
}

// HealthReport is what GET /health returns.
type HealthReport struct {
	NodeHealth string
	Protocols  []ProtocolHealth
}

// Peer origins (spec/rest-api.md §5).
const (
	OriginUnknown      = "UnknownOrigin"
	OriginDiscv5       = "Discv5"
	OriginStatic       = "Static"
	OriginPeerExchange = "PeerExchange"
	OriginDNS          = "Dns"
)

// Connectedness values of WakuPeer.connected.
const (
	NotConnected  = "NotConnected"
	CannotConnect = "CannotConnect"
	CanConnect    = "CanConnect"
	Connected     = "Connected"
)

// PeerInfo is one known peer as the admin API shows it.
type PeerInfo struct {
	ID        string
	Multiaddr string // first known address, with /p2p/<id>
	Protocols []string
	Shards    []uint16
	Connected string
	Agent     string
	Origin    string
	Score     *float64
}
