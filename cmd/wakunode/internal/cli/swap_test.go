package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/wakunode/wakunode/accounting"
)

// swapConfig parses args and translates them: accounting on, the Parse error, the NodeConfig error.
func swapConfig(t *testing.T, args ...string) (on bool, parseErr, cfgErr error) {
	t.Helper()
	o, err := Parse(args)
	if err != nil {
		return false, err, nil
	}
	cfg, cerr := o.NodeConfig(nil, "v")
	return cfg.Accounting.Enabled, nil, cerr
}

func TestSwapFlags(t *testing.T) {
	const cb = "0x00000000000000000000000000000000000000c1"
	o, err := Parse([]string{"--swap", "--swap-mode=2", "--swap-payment-threshold=50", "--swap-disconnect-threshold=-70",
		"--swap-free-units-per-second=0", "--swap-price-store=3", "--swap-eth-client-address=http://127.0.0.1:8545",
		"--swap-chequebook-address=" + cb, "--swap-private-key=" + strings.Repeat("11", 32), "--swap-cash-interval=60"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.NodeConfig(nil, "v")
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounting
	if !a.Enabled || a.Mode != accounting.Hard || a.PaymentThreshold != 50 || a.DisconnectThreshold != -70 ||
		a.Allowance.PerSecond != 0 || a.Prices.Store != 3 || a.Prices.Filter != 1 ||
		a.EthClientAddress != "http://127.0.0.1:8545" || a.Chequebook != common.HexToAddress(cb) || a.SettlementKey == nil || a.CashInterval != time.Minute {
		t.Fatalf("accounting config %+v", a)
	}
	for _, name := range []string{"soft", "MOCK", "1"} {
		if _, err := Parse([]string{"--swap-mode=" + name}); err != nil {
			t.Errorf("--swap-mode=%s: %v", name, err)
		}
	}
}

func TestSwapFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--swap-mode=3"},
		{"--swap-mode=bogus"},
	} {
		if _, err, _ := swapConfig(t, args...); err == nil {
			t.Errorf("%v parsed", args)
		}
	}
	for _, args := range [][]string{
		{"--swap", "--swap-payment-threshold=0"},
		{"--swap", "--swap-disconnect-threshold=5"},
		{"--swap", "--swap-mode=hard"}, // no endpoint
		{"--swap", "--swap-mode=mock", "--swap-eth-client-address=http://127.0.0.1:1"},
		{"--swap", "--swap-mode=hard", "--swap-eth-client-address=http://127.0.0.1:1", "--swap-chequebook-address=0x12"},
		{"--swap", "--swap-private-key=zz"},
		{"--swap", "--swap-relay-bytes-per-unit=0"},
		{"--swap", "--swap-free-units-burst=-1"},
	} {
		if _, err, cerr := swapConfig(t, args...); err != nil || cerr == nil {
			t.Errorf("%v: parse %v, config %v: want a config error", args, err, cerr)
		}
	}
	// Without --swap the other flags configure nothing (go-waku ignored them too).
	if on, err, cerr := swapConfig(t, "--swap-mode=hard"); on || err != nil || cerr != nil {
		t.Fatalf("--swap-mode without --swap: on=%v %v %v", on, err, cerr)
	}
}

// go-waku's environment variables: the command line wins over them, they win over the file.
func TestSwapEnv(t *testing.T) {
	t.Setenv("WAKUNODE2_SWAP", "true")
	t.Setenv("WAKUNODE2_SWAP_MODE", "1")
	t.Setenv("WAKUNODE2_SWAP_PAYMENT_THRESHOLD", "42")
	path := writeFile(t, "swap-payment-threshold = 7\nswap-disconnect-threshold = -9\n")
	o, err := Parse([]string{"--config-file=" + path, "--swap-mode=soft"})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Swap
	if !s.Enabled || s.Mode != accounting.Soft || s.PaymentThreshold != 42 || s.DisconnectThreshold != -9 {
		t.Fatalf("swap options %+v", s)
	}
	t.Setenv("WAKUNODE2_SWAP_MODE", "7")
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "WAKUNODE2_SWAP_MODE") {
		t.Fatalf("bad env value: %v", err)
	}
}
