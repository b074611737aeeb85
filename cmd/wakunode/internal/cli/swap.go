package cli

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/node"
)

// swapOptions are the accounting and settlement flags: go-waku's historic --swap,
// --swap-mode, --swap-payment-threshold and --swap-disconnect-threshold, plus the price
// table, the free tier and what hard mode needs (docs/accounting.md). None is an nwaku flag.
type swapOptions struct {
	Enabled             bool
	Mode                accounting.Mode
	PaymentThreshold    int64
	DisconnectThreshold int64
	FreePerSecond       int64
	FreeBurst           int64
	PriceStore          int64
	PriceFilter         int64
	PriceLightpush      int64
	RelayBytesPerUnit   int64
	EthClientAddress    string
	ChequebookAddress   string
	PrivateKey          string // hex settlement key; empty = the node key
	CashInterval        uint32 // seconds; 0 = never
}

func swapDefaults() swapOptions {
	d := node.DefaultAccountingConfig()
	return swapOptions{Mode: d.Mode, PaymentThreshold: d.PaymentThreshold, DisconnectThreshold: d.DisconnectThreshold,
		FreePerSecond: d.Allowance.PerSecond, FreeBurst: d.Allowance.Burst, PriceStore: d.Prices.Store,
		PriceFilter: d.Prices.Filter, PriceLightpush: d.Prices.Lightpush, RelayBytesPerUnit: d.Prices.RelayBytesPerUnit,
		CashInterval: uint32(d.CashInterval / time.Second)}
}

// declareSwap declares the --swap* flags on fs.
func declareSwap(fs *flag.FlagSet, o *swapOptions) {
	i64 := func(p *int64, name, usage string) { fs.Int64Var(p, name, *p, usage) }
	fs.BoolVar(&o.Enabled, "swap", o.Enabled, "Enable pairwise accounting and SWAP settlement (go-waku's flag)")
	fs.Var(modeValue{&o.Mode}, "swap-mode", "SWAP mode: 0|soft (account only), 1|mock (cheques, no chain), 2|hard (cheques on a chain)")
	i64(&o.PaymentThreshold, "swap-payment-threshold", "Units owed to a peer at which a cheque is sent")
	i64(&o.DisconnectThreshold, "swap-disconnect-threshold", "Balance (negative) past which a debtor is refused service and disconnected (mock, hard)")
	i64(&o.FreePerSecond, "swap-free-units-per-second", "Free tier: units per second each balance moves toward zero without a cheque (0 = none)")
	i64(&o.FreeBurst, "swap-free-units-burst", "Free tier: most units of free service banked per peer")
	i64(&o.PriceStore, "swap-price-store", "Units charged per message returned by store")
	i64(&o.PriceFilter, "swap-price-filter", "Units charged per message pushed by filter")
	i64(&o.PriceLightpush, "swap-price-lightpush", "Units charged per message published by lightpush")
	i64(&o.RelayBytesPerUnit, "swap-relay-bytes-per-unit", "Relayed bytes per unit (relay is accounted both ways)")
	fs.StringVar(&o.EthClientAddress, "swap-eth-client-address", o.EthClientAddress, "Ethereum JSON-RPC endpoint of hard mode (http://, ws:// or IPC path); the chain id is read from it")
	fs.StringVar(&o.ChequebookAddress, "swap-chequebook-address", o.ChequebookAddress, "Address of our chequebook contract (hard mode, to pay)")
	fs.StringVar(&o.PrivateKey, "swap-private-key", o.PrivateKey, "Settlement key as 64 hex characters (signs cheques, pays gas in hard mode); default: the node key")
	fs.Var(uintValue[uint32]{&o.CashInterval}, "swap-cash-interval", "Seconds between hard mode's cashing of the cheques received (0 = never)")
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "swap") {
			f.Usage += " (env " + swapEnv(f.Name) + ")"
		}
	})
}

// swapEnvPrefix: go-waku read each --swap* flag from WAKUNODE2_<NAME> (dashes as underscores).
const swapEnvPrefix = "WAKUNODE2_"

// swapEnv names the environment variable of flag name.
func swapEnv(name string) string {
	return swapEnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applySwapEnv sets every --swap* flag not given on the command line from its WAKUNODE2_*
// variable (go-waku's precedence: command line, then environment, then config file) and
// marks it given.
func applySwapEnv(fs *flag.FlagSet, given map[string]bool, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || !strings.HasPrefix(f.Name, "swap") {
			return
		}
		v, ok := lookup(swapEnv(f.Name))
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q (--%s): %w", swapEnv(f.Name), v, f.Name, serr)
			return
		}
		given[f.Name] = true
	})
	return err
}

// accountingConfig translates the flags (ignored without --swap, as go-waku did).
func (o swapOptions) accountingConfig() (node.AccountingConfig, error) {
	c := node.DefaultAccountingConfig()
	if !o.Enabled {
		return c, nil
	}
	c.Enabled, c.Mode = true, o.Mode
	c.PaymentThreshold, c.DisconnectThreshold = o.PaymentThreshold, o.DisconnectThreshold
	if c.PaymentThreshold <= 0 {
		return c, fmt.Errorf("--swap-payment-threshold=%d: must be positive", c.PaymentThreshold)
	}
	if c.DisconnectThreshold >= 0 {
		return c, fmt.Errorf("--swap-disconnect-threshold=%d: must be negative", c.DisconnectThreshold)
	}
	c.Allowance = accounting.Allowance{PerSecond: o.FreePerSecond, Burst: o.FreeBurst}
	if o.FreePerSecond < 0 || o.FreeBurst < 0 {
		return c, errors.New("--swap-free-units-per-second and --swap-free-units-burst must not be negative")
	}
	c.Prices = accounting.Prices{Store: o.PriceStore, Filter: o.PriceFilter, Lightpush: o.PriceLightpush, RelayBytesPerUnit: o.RelayBytesPerUnit}
	if err := c.Prices.Validate(); err != nil {
		return c, fmt.Errorf("--swap-price-*: %w", err)
	}
	if o.PrivateKey != "" {
		k, err := node.ParseNodeKey(o.PrivateKey)
		if err != nil {
			return c, fmt.Errorf("--swap-private-key: %w", err)
		}
		c.SettlementKey = k
	}
	if o.ChequebookAddress != "" {
		if !common.IsHexAddress(o.ChequebookAddress) {
			return c, fmt.Errorf("--swap-chequebook-address %q: not an Ethereum address", o.ChequebookAddress)
		}
		c.Chequebook = common.HexToAddress(o.ChequebookAddress)
	}
	c.EthClientAddress = o.EthClientAddress
	c.CashInterval = time.Duration(o.CashInterval) * time.Second
	switch {
	case c.Mode == accounting.Hard && c.EthClientAddress == "":
		return c, errors.New("--swap-mode=hard needs --swap-eth-client-address")
	case c.Mode != accounting.Hard && (c.EthClientAddress != "" || o.ChequebookAddress != ""):
		return c, fmt.Errorf("--swap-eth-client-address and --swap-chequebook-address are for --swap-mode=hard, not %s", c.Mode)
	}
	return c, nil
}

// modeValue is --swap-mode: go-waku's 0/1/2 or the spec's names.
type modeValue struct{ m *accounting.Mode }

func (v modeValue) String() string {
	if v.m == nil {
		return ""
	}
	return v.m.String()
}

func (v modeValue) Set(s string) error {
	for _, m := range []accounting.Mode{accounting.Soft, accounting.Mock, accounting.Hard} {
		if strings.EqualFold(s, m.String()) || s == strconv.Itoa(int(m)) {
			*v.m = m
			return nil
		}
	}
	return fmt.Errorf("%q: want 0|soft, 1|mock or 2|hard", s)
}

// TypeName is shown by --help.
func (modeValue) TypeName() string { return "mode" }
