package sim

import (
	"fmt"
	"strings"
)

// MarkdownHeader is the header of the results table MarkdownRow fills.
func MarkdownHeader() string {
	cols := []string{"router", "params", "N", "deg", "S", "msgs", "size", "rate", "churn", "loss",
		"copies/msg", "ampl in", "ampl out", "ctrl %", "node load", "B in/msg", "B out/msg", "B out/msg max", "wire ctrl %", "kbps in", "delivery", "p50 ms", "p99 ms", "mesh"}
	return "| " + strings.Join(cols, " | ") + " |\n|" + strings.Repeat("---|", len(cols))
}

// MarkdownRow renders one result as a table row.
func MarkdownRow(r *Result) string {
	params := "-"
	if r.Router == RouterGossip {
		params = fmt.Sprintf("%s D%d/%d/%d lazy%d idw=%s fp=%s", r.ParamsName, r.D, r.Dlo, r.Dhi, r.Dlazy, onOff(r.IDontWant), onOff(r.FloodPub))
	}
	return fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %d | %g | %g | %g | %.2f | %.2f | %.2f | %.1f | %.2f | %.0f | %.0f | %.0f | %.1f | %.0f | %.4f | %.0f | %.0f | %.1f |",
		r.Router, params, r.Nodes, r.Degree, r.Shards, r.Published, r.Size, r.Rate, r.Churn, r.Loss,
		r.CopiesPerMessage, r.Amplification, r.AmplificationOut, 100*r.ControlShare, r.NodeLoad,
		r.WireInPerMsg, r.WireOutPerMsg, r.WireOutMaxPerMsg, 100*r.WireControlShare, r.BandwidthIn,
		r.DeliveryRatio, r.LatencyP50, r.LatencyP99, r.MeshMean)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// WireKindsHeader is the header of the table WireKindsRow fills: bytes each node sends per
// published message, by category.
func WireKindsHeader() string {
	cols := append(append([]string{"router", "params", "N", "size"}, WireKinds...), "total", "frames", "on TCP (est.)")
	return "| " + strings.Join(cols, " | ") + " |\n|" + strings.Repeat("---|", len(cols))
}

// WireKindsRow renders one result's per-category bytes out per node per published message,
// their total, the frames written, and the estimate with Noise and yamux (TransportOverhead).
func WireKindsRow(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | %s | %d | %d |", r.Router, r.ParamsName, r.Nodes, r.Size)
	for _, k := range WireKinds {
		fmt.Fprintf(&b, " %.1f |", r.WireByKind[k])
	}
	fmt.Fprintf(&b, " %.0f | %.2f | %.0f |", r.WireOutPerMsg, r.WireFramesOutPerMsg, r.WireTCPOutPerMsg)
	return b.String()
}
