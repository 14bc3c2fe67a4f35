package handlers

import (
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
	return renderChart(func(p *charts.Painter) error { return p.BarChart(opt) }, 760, 320, id, "chart", title, desc)
}
