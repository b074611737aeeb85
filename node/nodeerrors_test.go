package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A peers file the node cannot read is logged, skipped and counted in waku_node_errors_total.
func TestNodeErrorsCountsPeerPersistenceFailure(t *testing.T) {
	cfg := testConfig(t)
	cfg.PeerPersistence = true
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if err := os.WriteFile(filepath.Join(cfg.DataDir, peersFile), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	startNode(t, cfg)
	want := `
# HELP waku_node_errors_total Node errors by type.
# TYPE waku_node_errors_total counter
waku_node_errors_total{type="peer_persistence_load_failure"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "waku_node_errors_total"); err != nil {
		t.Error(err)
	}
}
