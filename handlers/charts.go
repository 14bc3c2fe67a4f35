package handlers

import (
	"html"
	"regexp"
	"strings"

	"github.com/go-analyze/charts"
)

// Charts are drawn on the server by github.com/go-analyze/charts as SVG
// and put into the page inline. renderChart draws one and finishes it
// with chartSVG.
func renderChart(draw func(*charts.Painter) error, w, h int, id, class, title, desc string) (string, error) {
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: w, Height: h})
	if err := draw(p); err != nil {
		return "", err
	}
	b, err := p.Bytes()
	if err != nil {
		return "", err
	}
	return chartSVG(string(b), id, class, title, desc), nil
}

var (
	chartStyleAttr = regexp.MustCompile(`style="([^"]*)"`)
	chartCSSProp   = regexp.MustCompile(`^[a-z-]+$`)
)

// chartSVG makes the library's SVG fit a page: role="img" named by a
// <title> and described by a <desc> (the page carries the same figures
// as a table), and its inline style attributes turned into presentation
// attributes (style="a:b;c:d" → a="b" c="d"): the portal's
// Content-Security-Policy (style-src 'self') allows no inline styles, and
// presentation attributes are not styles.
func chartSVG(svg, id, class, title, desc string) string {
	svg = chartStyleAttr.ReplaceAllStringFunc(svg, func(m string) string {
		decl := chartStyleAttr.FindStringSubmatch(m)[1]
		var out []string
		for _, d := range strings.Split(html.UnescapeString(decl), ";") {
			k, v, ok := strings.Cut(d, ":")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || !chartCSSProp.MatchString(k) || v == "" {
				continue
			}
			out = append(out, k+`="`+html.EscapeString(v)+`"`)
		}
		return strings.Join(out, " ")
	})
	head := `<svg role="img" aria-labelledby="` + id + `-title ` + id + `-desc" id="` + id + `" class="` + class + `" focusable="false"`
	svg = strings.Replace(svg, "<svg", head, 1)
	if i := strings.Index(svg, ">"); i >= 0 {
		svg = svg[:i+1] + `<title id="` + id + `-title">` + html.EscapeString(title) + `</title><desc id="` + id + `-desc">` +
			html.EscapeString(desc) + `</desc>` + svg[i+1:]
	}
	return svg
}
