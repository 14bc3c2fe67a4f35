package static

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestColourContrast checks the palette in css/app.css against WCAG 2.x
// AA: 4.5:1 for text. The pairs are the ones the stylesheet puts together
// (text on page and card, links, buttons, flashes, state badges).
func TestColourContrast(t *testing.T) {
	css, err := files.ReadFile("css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b`).FindAllStringSubmatch(string(css), -1) {
		h := m[2]
		if len(h) == 3 {
			h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
		}
		vars[m[1]] = "#" + h
	}
	col := func(s string) string {
		if strings.HasPrefix(s, "--") {
			v, ok := vars[s[2:]]
			if !ok {
				t.Fatalf("no CSS variable %s", s)
			}
			return v
		}
		return s
	}
	pairs := [][2]string{
		{"--fg", "--bg"}, {"--fg", "--card"}, {"--muted", "--bg"}, {"--muted", "--card"},
		{"--focus", "--card"}, {"--focus", "--bg"}, {"#ffffff", "--brand"}, {"#ffffff", "--danger"},
		{"--danger", "--card"}, {"#084d37", "#e6f4ee"}, {"#8c1d18", "#fcebea"}, {"#163f7a", "#e8f0fb"},
		{"#6b4500", "#fff4d6"}, {"--fg", "#f0f2f4"}, {"#0b5cad", "--card"},
	}
	for _, p := range pairs {
		fg, bg := col(p[0]), col(p[1])
		for _, lit := range []string{p[0], p[1]} {
			if !strings.HasPrefix(lit, "--") && lit != "#ffffff" && !strings.Contains(strings.ToLower(string(css)), strings.ToLower(lit)) {
				t.Errorf("%s is no longer in app.css; update this test", lit)
			}
		}
		if r := contrast(fg, bg); r < 4.5 {
			t.Errorf("%s on %s: contrast %.2f:1, want at least 4.5:1", p[0], p[1], r)
		}
	}
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := 0; i < 3; i++ {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		s := float64(v) / 255
		if s <= 0.03928 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrastFormula(t *testing.T) {
	if got := fmt.Sprintf("%.1f", contrast("#000000", "#ffffff")); got != "21.0" {
		t.Fatalf("black on white = %s", got)
	}
}
