package handlers

import (
	"strings"
	"time"

	"github.com/go-analyze/charts"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// The report's charts are drawn on the server by github.com/go-analyze/charts
// as SVG and put into the page inline: role="img" with a <title> and
// <desc>, the figures also in a table beside them.

// reportChartSteps are the funnel steps the chart draws (the table lists
// every step).
var reportChartSteps = map[string]bool{"recipients": true, "accepted": true, "sent": true, "delivered": true, "read": true, "replied": true, "failed": true}

func reportFunnelChart(c echo.Context, rows []views.FunnelRow) (views.CampaignChart, error) {
	l := web.LocaleFrom(c.Request().Context())
	var labels []string
	var values []float64
	var desc []string
	// The library draws the first category at the bottom: the steps go
	// in reversed so the funnel reads from the top.
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if !reportChartSteps[r.Name] {
			continue
		}
		labels = append(labels, r.Label)
		values = append(values, float64(r.Count))
	}
	for _, r := range rows {
		if reportChartSteps[r.Name] {
			desc = append(desc, r.Label+" "+r.N)
		}
	}
	opt := charts.NewBarChartOptionWithData([][]float64{values})
	opt.Horizontal = true
	opt.Padding = charts.Box{Top: 10, Right: 50, Bottom: 10, Left: 10}
	opt.CategoryAxis = charts.CategoryAxisOption{Labels: labels}
	opt.SeriesList[0].Label.Show = charts.Ptr(true)
	opt.SeriesList[0].Label.ValueFormatter = func(v float64) string { return l.Int(int64(v)) }
	opt.ValueFormatter = func(v float64) string { return l.Int(int64(v)) }
	opt.Legend.Show = charts.Ptr(false)
	ch := views.CampaignChart{ID: "funnel-chart", Title: t(c, "report.funnel.chart_title"), Desc: strings.Join(desc, ", ") + "."}
	var err error
	ch.SVG, err = renderChart(func(p *charts.Painter) error { return p.BarChart(opt) }, 640, 300, ch.ID, "cr-svg", ch.Title, ch.Desc)
	if err != nil {
		return views.CampaignChart{}, err
	}
	return ch, nil
}

// reportTimeChart draws sent, delivered and read per bucket, with the buckets'
// times in the campaign's time zone.
func reportTimeChart(c echo.Context, b campaigns.Buckets, loc *time.Location) (views.CampaignChart, []views.TimeRow, error) {
	l := web.LocaleFrom(c.Request().Context())
	multiDay := len(b.Starts) > 0 && b.Starts[0].In(loc).YearDay() != b.Starts[len(b.Starts)-1].In(loc).YearDay()
	label := func(at time.Time) string {
		lt := at.In(loc)
		switch {
		case b.Step >= 24*time.Hour:
			return l.Date(lt, loc)
		case multiDay:
			return lt.Format("2 Jan 15:04")
		}
		return lt.Format("15:04")
	}
	labels := make([]string, len(b.Starts))
	sent, delivered, read := make([]float64, len(b.Starts)), make([]float64, len(b.Starts)), make([]float64, len(b.Starts))
	var rows []views.TimeRow
	var maxN, total [3]int
	for i, at := range b.Starts {
		labels[i] = label(at)
		sent[i], delivered[i], read[i] = float64(b.Sent[i]), float64(b.Delivered[i]), float64(b.Read[i])
		for k, v := range []int{b.Sent[i], b.Delivered[i], b.Read[i]} {
			maxN[k] = max(maxN[k], v)
			total[k] += v
		}
		if b.Sent[i]+b.Delivered[i]+b.Read[i] > 0 {
			rows = append(rows, views.TimeRow{At: l.DateTime(at, loc), Sent: l.Int(int64(b.Sent[i])), Delivered: l.Int(int64(b.Delivered[i])), Read: l.Int(int64(b.Read[i]))})
		}
	}
	names := []string{t(c, "report.funnel.sent"), t(c, "report.funnel.delivered"), t(c, "report.funnel.read")}
	opt := charts.NewLineChartOptionWithData([][]float64{sent, delivered, read})
	opt.XAxis.Labels = labels
	opt.XAxis.LabelCount = min(len(labels), 8)
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	opt.Padding = charts.Box{Top: 10, Right: 20, Bottom: 10, Left: 10}
	opt.ValueFormatter = func(v float64) string { return l.Int(int64(v)) }
	opt.Symbol.Shape = charts.SymbolCircle
	opt.LineStrokeWidth = 2
	ch := views.CampaignChart{ID: "time-chart", Title: t(c, "report.time.chart_title", reportStepText(c, b.Step))}
	ch.Desc = t(c, "report.time.chart_desc", label(b.Starts[0]), label(b.Starts[len(b.Starts)-1]),
		l.Int(int64(total[0])), l.Int(int64(total[1])), l.Int(int64(total[2])), l.Int(int64(maxN[1])))
	var err error
	ch.SVG, err = renderChart(func(p *charts.Painter) error { return p.LineChart(opt) }, 640, 300, ch.ID, "cr-svg", ch.Title, ch.Desc)
	if err != nil {
		return views.CampaignChart{}, nil, err
	}
	return ch, rows, nil
}

func reportStepText(c echo.Context, step time.Duration) string {
	switch {
	case step >= 24*time.Hour:
		return t(c, "report.time.step_day")
	case step >= time.Hour:
		return t(c, "report.time.step_hours", int(step.Hours()))
	}
	return t(c, "report.time.step_minutes", int(step.Minutes()))
}
