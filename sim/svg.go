package sim

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Series is one named line of a Plot.
type Series struct {
	Name   string
	Points []CDFPoint // X, Y (P) pairs, drawn in order
}

// Plot is a small line chart rendered as standalone SVG; enough for results pages, no deps.
type Plot struct {
	Title, XLabel, YLabel string
	Series                []Series
	// YMin fixes the lower y bound (default: 0, or the data minimum if negative).
	YMin float64
}

const (
	plotW, plotH           = 640, 400
	padL, padR, padT, padB = 70, 170, 40, 50
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// WriteSVG renders the plot.
func (p Plot) WriteSVG(w io.Writer) error {
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := p.YMin, math.Inf(-1)
	for _, s := range p.Series {
		for _, pt := range s.Points {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			ymin, ymax = math.Min(ymin, pt.P), math.Max(ymax, pt.P)
		}
	}
	if math.IsInf(xmin, 1) { // no data
		xmin, xmax, ymax = 0, 1, 1
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	xt, yt := ticks(xmin, xmax), ticks(ymin, ymax)
	xmin, xmax = math.Min(xmin, xt[0]), math.Max(xmax, xt[len(xt)-1])
	ymin, ymax = math.Min(ymin, yt[0]), math.Max(ymax, yt[len(yt)-1])
	iw, ih := float64(plotW-padL-padR), float64(plotH-padT-padB)
	sx := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*iw }
	sy := func(y float64) float64 { return padT + ih - (y-ymin)/(ymax-ymin)*ih }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", padL, esc(p.Title))
	for _, x := range xt {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", sx(x), padT, sx(x), padT+ih)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", sx(x), padT+ih+16, num(x))
	}
	for _, y := range yt {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padL, sy(y), padL+iw, sy(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, sy(y)+4, num(y))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="black"/>`+"\n", padL, padT, iw, ih)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", padL+iw/2, plotH-10, esc(p.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", padT+ih/2, esc(p.YLabel))
	for i, s := range p.Series {
		color := palette[i%len(palette)]
		var pts []string
		for _, pt := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(pt.X), sy(pt.P)))
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.Join(pts, " "))
		}
		if len(s.Points) <= 20 {
			for _, pt := range s.Points {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", sx(pt.X), sy(pt.P), color)
			}
		}
		ly := padT + 10 + 18*i
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", padL+iw+10, ly, padL+iw+28, ly, color)
		fmt.Fprintf(&b, `<text x="%.0f" y="%d">%s</text>`+"\n", padL+iw+33, ly+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ticks returns 4-8 round tick values covering [lo, hi].
func ticks(lo, hi float64) []float64 {
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= 8 {
			step *= m
			break
		}
	}
	var out []float64
	for i := 0; i < 100; i++ {
		v := (math.Floor(lo/step) + float64(i)) * step
		out = append(out, v)
		if v >= hi-step*1e-9 && len(out) >= 2 {
			break
		}
	}
	return out
}

func num(v float64) string {
	if math.Abs(v) >= 1000 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func esc(s string) string { return html.EscapeString(s) }
