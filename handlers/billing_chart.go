package handlers

import (
	"html"
	"regexp"
	"strings"

	"github.com/go-analyze/charts"
)

// chartSeries is one category's values, one per day (display only: the
// exact amounts are in the table beside the chart).
type chartSeries struct {
	Name   string
	Values []float64
}

// stackedBarSVG renders a stacked bar chart as an inline SVG that is an
// accessible image: role="img", named by its <title> and described by its
// <desc> (the page carries the same figures as a table). The library's
// style attributes become presentation attributes, which the page's
// Content-Security-Policy (style-src 'self') allows.
func stackedBarSVG(id, title, desc string, labels []string, series []chartSeries, format func(float64) string) (string, error) {
	values := make([][]float64, len(series))
	names := make([]string, len(series))
	for i, s := range series {
		values[i], names[i] = s.Values, s.Name
	}
	opt := charts.NewBarChartOptionWithData(values)
	opt.StackSeries = charts.Ptr(true)
	opt.CategoryAxis.Labels = labels
	opt.Legend = charts.LegendOption{SeriesNames: names}
	opt.Padding = charts.Box{Top: 20, Right: 20, Bottom: 10, Left: 10}
	if format != nil {
		opt.ValueFormatter = format
	}
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: 760, Height: 320})
	if err := p.BarChart(opt); err != nil {
		return "", err
	}
	b, err := p.Bytes()
	if err != nil {
		return "", err
	}
	return accessibleSVG(string(b), id, title, desc), nil
}

var styleAttr = regexp.MustCompile(`style="([^"]*)"`)

// accessibleSVG names the chart and turns style="a:b;c:d" into a="b" c="d".
func accessibleSVG(svg, id, title, desc string) string {
	svg = styleAttr.ReplaceAllStringFunc(svg, func(m string) string {
		decls := styleAttr.FindStringSubmatch(m)[1]
		var b strings.Builder
		for i, d := range strings.Split(decls, ";") {
			k, v, ok := strings.Cut(d, ":")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, `"<>= `) {
				continue
			}
			if i > 0 && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + `="` + html.EscapeString(strings.TrimSpace(v)) + `"`)
		}
		return b.String()
	})
	head := `<svg role="img" aria-labelledby="` + id + `-title ` + id + `-desc" id="` + id + `" class="chart"`
	svg = strings.Replace(svg, "<svg", head, 1)
	i := strings.Index(svg, ">")
	return svg[:i+1] + `<title id="` + id + `-title">` + html.EscapeString(title) + `</title><desc id="` + id + `-desc">` +
		html.EscapeString(desc) + `</desc>` + svg[i+1:]
}
