package cli

import (
	"flag"
	"fmt"
)

// nwakuOnly holds the flags nwaku 0.3x accepts for capabilities wakunode does not build
// (RLN, circuit relay, rendezvous, ...). They are parsed and type-checked like every other
// flag, so an nwaku command line or TOML file is read unchanged; see unbuilt for what each
// value is allowed to ask.
type nwakuOnly struct {
	RLNRelay                   bool
	RLNRelayCredPath           string
	RLNRelayEthClientAddress   []string
	RLNRelayEthContractAddress string
	RLNRelayChainID            uint
	RLNRelayCredPassword       string
	RLNRelayEthPrivateKey      string
	RLNRelayUserMessageLimit   uint
	RLNRelayEpochSec           uint
	RLNRelayMembershipIndex    *int
	RLNRelayDynamic            bool
	RLNRelayTreePath           string
	RLNRelayIDKey              string
	RLNRelayIDCommitmentKey    string
	RLNRelayBandwidthThreshold int

	AgentString       string
	ExtMultiaddrOnly  bool
	DNSAddrs          bool
	RelayClient       bool
	RelayShardManager bool
	ProtectedShards   []string
	ProtectedTopics   []string
	Preset            string
	LegacyStore       bool
	Reliability       bool
	Rendezvous        bool
	Discv5BitsPerHop  int
}

func nwakuOnlyDefaults() nwakuOnly {
	return nwakuOnly{
		RLNRelayUserMessageLimit: 1,
		RLNRelayEpochSec:         1,
		AgentString:              "nwaku",
		DNSAddrs:                 true,
		Rendezvous:               true,
		Discv5BitsPerHop:         1,
	}
}

// unbuiltFlag says what a value of an nwaku-only flag may ask for.
type unbuiltFlag struct {
	name string
	// gate, when set, is the boolean flag that turns the capability on: while it is off, the
	// flag configures nothing and any value is accepted (nwaku ignores it too).
	gate string
	// reason is why a non-default value is refused; empty when every value is accepted
	// because wakunode already behaves one fixed way (note says which).
	reason string
	note   string
}

const (
	noRLN = "RLN relay (rate-limiting proofs on relay) is not built into wakunode; run without it (--rln-relay=false)"
)

// unbuilt is the table behind checkUnbuilt, --help and docs/flags.md.
var unbuilt = []unbuiltFlag{
	{name: "rln-relay", reason: noRLN},
	{name: "rln-relay-cred-path", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-eth-client-address", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-eth-contract-address", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-chain-id", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-cred-password", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-eth-private-key", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-user-message-limit", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-epoch-sec", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-membership-index", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-dynamic", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-tree-path", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-id-key", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-id-commitment-key", gate: "rln-relay", reason: noRLN},
	{name: "rln-relay-bandwidth-threshold", gate: "rln-relay", reason: noRLN},
	{name: "protected-shard", reason: "signed (protected) shards are not built: wakunode does not check message signatures"},
	{name: "protected-topic", reason: "signed (protected) topics are not built: wakunode does not check message signatures"},
	{name: "preset", reason: "presets are not built: 'twn' (The Waku Network) needs RLN; set --cluster-id=1 --num-shards-in-network=8 yourself"},
	{name: "agent-string", reason: "the identify agent is fixed to wakunode/<version>"},
	{name: "ext-multiaddr-only", reason: "announcing only --ext-multiaddr is not built; the listen addresses are always announced too"},
	{name: "dns-addrs", reason: "dns4/dns6/dnsaddr multiaddrs are always resolved"},
	{name: "relay-client", reason: "circuit relay (relay-client) is not built"},
	{name: "reliability", reason: "the p2p reliability layer (store-checked delivery) is not built"},
	{name: "discv5-bits-per-hop", reason: "only 1 is supported (fixed in go-ethereum's discv5)"},
	{name: "relay-shard-manager", note: "the peer manager is always shard-aware, whatever the value"},
	{name: "legacy-store", note: "with --store, legacy store v2 is always served next to store v3, whatever the value"},
	{name: "rendezvous", note: "rendezvous is not built: no rendezvous server runs, whatever the value"},
}

// declareNwakuOnly adds the flags of unbuilt to fs.
func declareNwakuOnly(fs *flag.FlagSet, o *nwakuOnly) {
	str := func(p *string, name, usage string) { fs.StringVar(p, name, *p, usage) }
	boolean := func(p *bool, name, usage string) { fs.BoolVar(p, name, *p, usage) }
	un := func(p *uint, name, usage string) { fs.Var(uintValue[uint]{p}, name, usage) }
	list := func(p *[]string, name, usage string) { fs.Var(stringList{p, nil}, name, usage) }

	boolean(&o.RLNRelay, "rln-relay", "Enable spam protection through rln-relay")
	str(&o.RLNRelayCredPath, "rln-relay-cred-path", "The path for persisting rln-relay credential")
	list(&o.RLNRelayEthClientAddress, "rln-relay-eth-client-address", "HTTP address of an Ethereum client. Argument may be repeated")
	str(&o.RLNRelayEthContractAddress, "rln-relay-eth-contract-address", "Address of the RLN membership contract")
	un(&o.RLNRelayChainID, "rln-relay-chain-id", "Chain ID of the RLN membership contract")
	str(&o.RLNRelayCredPassword, "rln-relay-cred-password", "Password for encrypting RLN credentials")
	str(&o.RLNRelayEthPrivateKey, "rln-relay-eth-private-key", "Private key for broadcasting transactions")
	un(&o.RLNRelayUserMessageLimit, "rln-relay-user-message-limit", "User message limit of the RLN membership")
	un(&o.RLNRelayEpochSec, "rln-relay-epoch-sec", "Epoch size in seconds of RLN rate limiting")
	fs.Var(optInt{&o.RLNRelayMembershipIndex}, "rln-relay-membership-index", "The index of the onchain commitment to use")
	boolean(&o.RLNRelayDynamic, "rln-relay-dynamic", "Enable rln-relay with on-chain dynamic group management")
	str(&o.RLNRelayTreePath, "rln-relay-tree-path", "Path to the RLN merkle tree db")
	str(&o.RLNRelayIDKey, "rln-relay-id-key", "RLN identity secret key as hex")
	str(&o.RLNRelayIDCommitmentKey, "rln-relay-id-commitment-key", "RLN identity commitment key as hex")
	fs.IntVar(&o.RLNRelayBandwidthThreshold, "rln-relay-bandwidth-threshold", o.RLNRelayBandwidthThreshold, "Message rate in bytes/s above which RLN proofs are verified")

	str(&o.AgentString, "agent-string", "Node agent string announced by identify")
	boolean(&o.ExtMultiaddrOnly, "ext-multiaddr-only", "Only announce the --ext-multiaddr addresses")
	boolean(&o.DNSAddrs, "dns-addrs", "Resolve dnsaddr, dns4 and dns6 multiaddrs")
	boolean(&o.RelayClient, "relay-client", "Run as a circuit-relay client (behind NAT)")
	boolean(&o.RelayShardManager, "relay-shard-manager", "Shard-aware relay peer management")
	list(&o.ProtectedShards, "protected-shard", "shard:pubkey of a shard whose messages must be signed. Argument may be repeated")
	list(&o.ProtectedTopics, "protected-topic", "Deprecated in nwaku: topic:pubkey of a signed topic. Argument may be repeated")
	str(&o.Preset, "preset", "Network preset ('twn' is The Waku Network)")
	boolean(&o.LegacyStore, "legacy-store", "Serve legacy store v2")
	boolean(&o.Reliability, "reliability", "Store-checked delivery and reception")
	boolean(&o.Rendezvous, "rendezvous", "Run a rendezvous discovery server")
	fs.IntVar(&o.Discv5BitsPerHop, "discv5-bits-per-hop", o.Discv5BitsPerHop, "Kademlia's b: bits resolved per discv5 lookup hop")
}

// checkUnbuilt fails on the first nwaku-only flag whose value asks for a capability we do not
// build. It returns the notes to log for values accepted but configuring nothing.
func checkUnbuilt(fs *flag.FlagSet) ([]string, error) {
	var notes []string
	for _, u := range unbuilt {
		f := fs.Lookup(u.name)
		if f == nil {
			panic("unbuilt names an undeclared flag: " + u.name)
		}
		v := f.Value.String()
		if v == f.DefValue {
			continue
		}
		switch {
		case u.reason == "":
			notes = append(notes, fmt.Sprintf("--%s=%s accepted: %s", u.name, v, u.note))
		case u.gate != "" && fs.Lookup(u.gate).Value.String() == "false":
			notes = append(notes, fmt.Sprintf("--%s ignored: --%s is off", u.name, u.gate))
		default:
			return notes, fmt.Errorf("--%s: not supported: %s", u.name, u.reason)
		}
	}
	return notes, nil
}

// unbuiltNote is the --help remark of an nwaku-only flag.
func unbuiltNote(name string) string {
	for _, u := range unbuilt {
		if u.name != name {
			continue
		}
		if u.reason == "" {
			return "[nwaku compatibility: " + u.note + "]"
		}
		if u.gate != "" {
			return "[not built: ignored while --" + u.gate + " is off]"
		}
		return "[not built: accepted at its default only]"
	}
	return ""
}
