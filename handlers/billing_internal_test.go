package handlers

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzCardAmount: an accepted price is a number ≥ 0, below 1000, with at
// most six decimals; anything else has a message.
func FuzzCardAmount(f *testing.F) {
	for _, s := range []string{"0.0456", "0,1131", "-1", "1e3", "abc", "0.1234567", "999.999999", "", " 1", "1.50000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, key := parseAmount(s)
		if key != "" {
			return
		}
		if d.IsNegative() || d.GreaterThanOrEqual(decimal.NewFromInt(1000)) || !d.Equal(d.Round(6)) {
			t.Fatalf("%q accepted as %s", s, d)
		}
	})
}

func TestAccessibleSVG(t *testing.T) {
	svg, err := stackedBarSVG("c1", `Spend <March>`, "desc & more", []string{"1", "2"},
		[]chartSeries{{Name: "Marketing", Values: []float64{1, 2}}, {Name: `Util"ity`, Values: []float64{0.5, 0}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svg, `<svg role="img" aria-labelledby="c1-title c1-desc" id="c1" class="chart"`) {
		t.Errorf("head %q", svg[:120])
	}
	if !strings.Contains(svg, `<title id="c1-title">Spend &lt;March&gt;</title><desc id="c1-desc">desc &amp; more</desc>`) {
		t.Errorf("title/desc missing or unescaped")
	}
	if strings.Contains(svg, `style="`) {
		t.Errorf("style attributes left (blocked by the CSP)")
	}
	if !strings.Contains(svg, `fill="`) {
		t.Errorf("no presentation attributes")
	}
}
