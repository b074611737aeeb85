package sim

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestPlotSVG(t *testing.T) {
	for name, p := range map[string]Plot{
		"lines": {Title: "a <b> & c", XLabel: "x", YLabel: "y", Series: []Series{
			{Name: "one", Points: []CDFPoint{{1, 2}, {2, 4}, {3, 3}}},
			{Name: "two", Points: []CDFPoint{{1, 1}, {3, 9}}},
		}},
		"empty":  {Title: "nothing"},
		"single": {Series: []Series{{Name: "s", Points: []CDFPoint{{5, 5}}}}},
	} {
		var b bytes.Buffer
		if err := p.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
			t.Fatalf("%s: not XML: %v\n%s", name, err, b.String())
		}
		if got := strings.Count(b.String(), "<polyline"); got != len(p.Series) {
			t.Fatalf("%s: %d polylines for %d series", name, got, len(p.Series))
		}
		if strings.Contains(b.String(), "NaN") || strings.Contains(b.String(), "Inf") {
			t.Fatalf("%s: NaN/Inf in output", name)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, c := range [][2]float64{{0, 1}, {0, 24.3}, {30, 150}, {0.5, 0.51}, {0, 1e6}} {
		ts := ticks(c[0], c[1])
		if len(ts) < 2 || len(ts) > 12 || ts[0] > c[0] || ts[len(ts)-1] < c[1] {
			t.Fatalf("ticks(%v) = %v", c, ts)
		}
	}
}
