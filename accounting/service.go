// Package accounting keeps a pairwise, local ledger of the service this node renders to and
// receives from each peer (store, filter, lightpush, relay), in units priced by a table. It is
// the accounting half of SWAP: settlement (cheques) lives in package swap and only moves
// balances back toward zero.
//
// Sign convention (nwaku's): Debit(peer) raises the peer's balance (we served it, it owes us);
// Credit(peer) lowers it (it served us, we owe it). A positive balance is the peer's debt to us.
package accounting

import "fmt"

// Service is an accounted protocol.
type Service uint8

// The accounted services. Relay is mutual: bytes forwarded to a mesh peer are debited, bytes
// received from it are credited, so a balanced mesh link nets to zero.
const (
	Store Service = iota
	Filter
	Lightpush
	Relay
	numServices
)

// Services lists every accounted service in order.
var Services = [numServices]Service{Store, Filter, Lightpush, Relay}

func (s Service) String() string {
	switch s {
	case Store:
		return "store"
	case Filter:
		return "filter"
	case Lightpush:
		return "lightpush"
	case Relay:
		return "relay"
	}
	return fmt.Sprintf("service(%d)", uint8(s))
}

// ParseService is the inverse of String.
func ParseService(name string) (Service, error) {
	for _, s := range Services {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown accounted service %q", name)
}

// Prices is the price table. Store, filter and lightpush are priced per message (store: per
// message returned in a response; filter: per message pushed to a subscriber; lightpush: per
// message published on a client's behalf). Relay is priced per RelayBytesPerUnit bytes.
type Prices struct {
	Store, Filter, Lightpush int64
	RelayBytesPerUnit        int64
}

// DefaultPrices is 18/WAKU2-SWAP's one unit ("karma") per message, and one unit per KiB relayed.
func DefaultPrices() Prices {
	return Prices{Store: 1, Filter: 1, Lightpush: 1, RelayBytesPerUnit: 1024}
}

// Validate refuses a table that would make accounting meaningless.
func (p Prices) Validate() error {
	if p.Store < 0 || p.Filter < 0 || p.Lightpush < 0 {
		return fmt.Errorf("accounting prices must not be negative: %+v", p)
	}
	if p.RelayBytesPerUnit <= 0 {
		return fmt.Errorf("relay bytes per unit must be positive, got %d", p.RelayBytesPerUnit)
	}
	return nil
}

func (p Prices) perMessage(s Service) int64 {
	switch s {
	case Store:
		return p.Store
	case Filter:
		return p.Filter
	case Lightpush:
		return p.Lightpush
	}
	return 0
}
