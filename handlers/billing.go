package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// billingHandler serves the billing pages: staff see their business's
// usage, spend and invoices; administrators the invoices of all, the
// month-end, the rate cards and the issuer settings.
type billingHandler struct {
	*Handler
	invoicing *invoicing.Engine
}

// registerBilling adds the billing routes (called from Register).
func registerBilling(h *Handler, d Deps, member, admin web.Routes) {
	bh := &billingHandler{Handler: h, invoicing: d.Invoicing}
	member.GET("/billing", bh.overview)
	member.GET("/billing/invoices", bh.invoices)
	member.GET("/billing/invoices/:id", bh.invoice)
	member.GET("/billing/invoices/:id/invoice.pdf", bh.invoicePDF)
	member.GET("/billing/invoices/:id/invoice.xml", bh.invoiceXML)
	member.GET("/billing/usage.csv", bh.usageCSV)
	member.GET("/billing/usage.xlsx", bh.usageXLSX)

	admin.GET("/admin/billing", bh.adminInvoices)
	admin.POST("/admin/billing/run", bh.runMonth)
	admin.GET("/admin/billing/run", bh.adminReload)
	admin.GET("/admin/billing/invoices/:id", bh.adminInvoice)
	admin.POST("/admin/billing/invoices/:id/paid", bh.markPaid)
	admin.POST("/admin/billing/invoices/:id/issue", bh.issueDraft)
	admin.GET("/admin/billing/invoices/:id/cancel", bh.confirmCancel)
	admin.POST("/admin/billing/invoices/:id/cancel", bh.cancel)
	admin.GET("/admin/billing/invoices/:id/invoice.pdf", bh.adminPDF)
	admin.GET("/admin/billing/invoices/:id/invoice.xml", bh.adminXML)
	admin.GET("/admin/billing/settings", bh.showSettings)
	admin.POST("/admin/billing/settings", bh.saveSettings)
	admin.GET("/admin/rate-cards", h.showRateCards)
	admin.POST("/admin/rate-cards", h.createRateCard)
}

// money is an amount rounded to the currency's minor unit, for display.
func money(l *i18n.Locale, d decimal.Decimal, currency string) string {
	digits := i18n.CurrencyDigits(currency)
	return l.MoneyScaled(d.Shift(int32(digits)).Round(0).IntPart(), digits, currency)
}

// unitMoney is a per-message price with four decimals, or up to six
// when it has them.
func unitMoney(l *i18n.Locale, d decimal.Decimal, currency string) string {
	scale := int32(4)
	for scale < 6 && !d.Equal(d.Round(scale)) {
		scale++
	}
	return l.MoneyScaled(d.Shift(scale).Round(0).IntPart(), int(scale), currency)
}

// businessZone is the business's time zone (its legal profile), UTC when
// none is set.
func businessZone(p *profiles.Profile) *time.Location {
	if p != nil && p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// overview is the staff billing page: the month to date, per category,
// a daily chart with its table, and the owner's monthly budget.
func (bh *billingHandler) overview(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := bh.tenant(c)
	if err != nil {
		return err
	}
	biz, err := tn.Business(ctx)
	if err != nil {
		return err
	}
	prof, err := profiles.Get(ctx, tn)
	if err != nil {
		return err
	}
	now := bh.s.DB.Now()
	loc := businessZone(prof)
	at, past := now, false
	if m := c.QueryParam("month"); m != "" && m != now.In(loc).Format("2006-01") {
		first, err := time.Parse("2006-01", m)
		if err != nil || first.After(now) {
			return echo.NewHTTPError(http.StatusBadRequest, t(c, "billing_ui.export_bad_month"))
		}
		// Any instant inside the month names it, whatever the zone.
		at, past = first.AddDate(0, 0, 14).Add(12*time.Hour), true
	}
	mu, err := billing.MonthToDate(ctx, tn, at)
	if err != nil {
		return err
	}
	days, err := billing.Daily(ctx, tn, mu.From, mu.To)
	if err != nil {
		return err
	}
	l := web.LocaleFrom(ctx)
	cur := mu.Currency
	if cur == "" {
		cur = prof.Currency
	}
	if cur == "" {
		cur = "EUR"
	}
	vm := views.BillingVM{Month: monthLabel(l, mu.Month), MonthValue: mu.Month, Past: past, Total: money(l, mu.Total, cur), Messages: l.Int(mu.Messages)}
	for _, cu := range mu.ByCategory {
		vm.Categories = append(vm.Categories, views.BillingCategoryVM{Category: cu.Category, Label: t(c, "billing_ui.category."+cu.Category),
			Messages: l.Int(cu.Messages), Free: l.Int(cu.Free), Amount: money(l, cu.Amount, cur)})
	}
	if biz.MonthlyLimit.Valid && !past {
		left := biz.MonthlyLimit.Decimal.Sub(mu.Total)
		vm.HasBudget, vm.Budget, vm.Left, vm.Over = true, money(l, biz.MonthlyLimit.Decimal, cur), money(l, left.Abs(), cur), left.IsNegative()
		if biz.MonthlyLimit.Decimal.IsPositive() {
			vm.UsedPercent = int(mu.Total.Div(biz.MonthlyLimit.Decimal).Shift(2).Round(0).IntPart())
		}
	}
	vm.Chart, vm.Days, err = dailyChart(c, mu.Month, now.In(loc), days, cur)
	if err != nil {
		return err
	}
	vm.ExportMonths = exportMonths(l, now.In(loc))
	return web.Render(c, http.StatusOK, views.BillingPage(web.NewPage(c, "billing_ui.title", "billing"), vm))
}

// monthLabel is "December 2026" for "2026-12".
func monthLabel(l *i18n.Locale, month string) string {
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return l.T("billing_ui.month."+fmt.Sprint(int(m.Month()))) + " " + strconv.Itoa(m.Year())
}

// exportMonths are the months offered for the usage download: this one
// and the eleven before.
func exportMonths(l *i18n.Locale, now time.Time) []views.Option {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]views.Option, 0, 12)
	for i := range 12 {
		m := first.AddDate(0, -i, 0).Format("2006-01")
		out = append(out, views.Option{Value: m, Label: monthLabel(l, m)})
	}
	return out
}

// dailyChart is the month's days (to today) by category: an SVG of the
// amounts stacked per day, and the same figures as table rows.
func dailyChart(c echo.Context, month string, today time.Time, days []billing.DayUsage, cur string) (string, []views.BillingDayVM, error) {
	l := web.LocaleFrom(c.Request().Context())
	first, err := time.Parse("2006-01", month)
	if err != nil {
		first = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	last := first.AddDate(0, 1, -1).Day()
	if first.Year() == today.Year() && first.Month() == today.Month() {
		last = today.Day()
	}
	type cell struct {
		n int64
		a decimal.Decimal
	}
	byDay := map[string]map[string]cell{}
	for _, d := range days {
		if byDay[d.Day] == nil {
			byDay[d.Day] = map[string]cell{}
		}
		x := byDay[d.Day][d.Category]
		x.n += d.Messages
		x.a = x.a.Add(d.Amount)
		byDay[d.Day][d.Category] = x
	}
	labels := make([]string, last)
	series := make([]chartSeries, len(billing.Categories))
	for i, cat := range billing.Categories {
		series[i] = chartSeries{Name: t(c, "billing_ui.category."+cat), Values: make([]float64, last)}
	}
	rows := make([]views.BillingDayVM, 0, last)
	var total decimal.Decimal
	for d := 1; d <= last; d++ {
		key := first.AddDate(0, 0, d-1).Format("2006-01-02")
		labels[d-1] = strconv.Itoa(d)
		row := views.BillingDayVM{Day: l.Date(first.AddDate(0, 0, d-1), nil)}
		var dayTotal decimal.Decimal
		var dayN int64
		for i, cat := range billing.Categories {
			x := byDay[key][cat]
			// The chart's bar heights are display only (float); the
			// table carries the exact amounts.
			series[i].Values[d-1] = x.a.InexactFloat64()
			row.Cells = append(row.Cells, views.BillingDayCellVM{Messages: l.Int(x.n), Amount: money(l, x.a, cur)})
			dayTotal = dayTotal.Add(x.a)
			dayN += x.n
		}
		row.Total, row.Messages = money(l, dayTotal, cur), l.Int(dayN)
		total = total.Add(dayTotal)
		rows = append(rows, row)
	}
	title := t(c, "billing_ui.chart.title", monthLabel(l, month))
	desc := t(c, "billing_ui.chart.desc", money(l, total, cur))
	svg, err := stackedBarSVG("usage-chart", title, desc, labels, series, func(f float64) string {
		return l.MoneyScaled(decimal.NewFromFloat(f).Shift(2).Round(0).IntPart(), 2, cur)
	})
	return svg, rows, err
}
