package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// adminFilter reads the invoice filters of the administrators' list.
func adminFilter(c echo.Context) (billing.AdminFilter, url.Values) {
	f := billing.AdminFilter{Limit: 100}
	kept := url.Values{}
	if st := c.QueryParam("state"); contains(invoiceStates, st) {
		f.State = st
		kept.Set("state", st)
	}
	if k := c.QueryParam("kind"); k == billing.KindInvoice || k == billing.KindCreditNote {
		f.Kind = k
		kept.Set("kind", k)
	}
	if b, err := strconv.ParseInt(c.QueryParam("business"), 10, 64); err == nil && b > 0 {
		f.BusinessID = b
		kept.Set("business", strconv.FormatInt(b, 10))
	}
	if m := c.QueryParam("month"); m != "" {
		if _, err := time.Parse("2006-01", m); err == nil {
			f.Month = m
			kept.Set("month", m)
		}
	}
	if b, err := strconv.ParseInt(c.QueryParam("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	return f, kept
}

// previousMonth is the last month that has ended (the default to run).
func previousMonth(now time.Time) string {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
}

// adminBillingVM is the administrators' billing page: invoices with
// filters, the month-end form, revenue by month, margins and the
// platform's pricing disagreements.
func (bh *billingHandler) adminBillingVM(c echo.Context, run *views.Form) (views.AdminBillingVM, error) {
	ctx := c.Request().Context()
	l := web.LocaleFrom(ctx)
	f, kept := adminFilter(c)
	rows, err := billing.AllInvoices(ctx, bh.s.DB, f)
	if err != nil {
		return views.AdminBillingVM{}, err
	}
	now := bh.s.DB.Now()
	vm := views.AdminBillingVM{States: stateOptions(c), State: f.State, Kind: f.Kind, Month: f.Month, Run: run,
		Business: strconv.FormatInt(f.BusinessID, 10)}
	if run == nil {
		vm.Run = views.NewForm()
		vm.Run.Values["month"] = previousMonth(now)
	}
	vm.Businesses = []views.Option{{Value: "0", Label: t(c, "billing_ui.filter.any_business")}}
	biz, err := bh.s.DB.ListBusinesses(ctx, "", 500)
	if err != nil {
		return vm, err
	}
	for _, b := range biz {
		vm.Businesses = append(vm.Businesses, views.Option{Value: strconv.FormatInt(b.ID, 10), Label: b.Name})
	}
	for i := range rows {
		r := invoiceRowVM(c, &rows[i].Invoice, "/admin/billing/invoices")
		r.Business, r.BusinessID = rows[i].BusinessName, rows[i].BusinessID
		vm.Rows = append(vm.Rows, r)
	}
	if len(rows) == f.Limit {
		kept.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		vm.Older = "/admin/billing?" + kept.Encode()
	}
	year := now.Year()
	if y, err := strconv.Atoi(c.QueryParam("year")); err == nil && y >= 2000 && y <= 9999 {
		year = y
	}
	vm.Year = strconv.Itoa(year)
	vm.PrevYear, vm.NextYear = "/admin/billing?year="+strconv.Itoa(year-1), "/admin/billing?year="+strconv.Itoa(year+1)
	rev, err := billing.RevenueByMonth(ctx, bh.s.DB, year)
	if err != nil {
		return vm, err
	}
	vm.Revenue, vm.RevenueChart, err = revenueChart(c, year, rev)
	if err != nil {
		return vm, err
	}
	period := f.Month
	if period == "" {
		period = previousMonth(now)
	}
	vm.MarginMonth = monthLabel(l, period)
	margins, err := billing.MarginByBusiness(ctx, bh.s.DB, period)
	if err != nil {
		return vm, err
	}
	for _, m := range margins {
		row := views.MarginVM{Business: m.BusinessName, Messages: l.Int(m.Messages), Revenue: money(l, m.Revenue, m.Currency),
			Cost: money(l, m.Cost, m.Currency), Margin: money(l, m.Margin, m.Currency)}
		if m.CostUnknown > 0 {
			row.Unknown = t(c, "billing_ui.margin.unknown", l.Int(m.CostUnknown))
		}
		vm.Margins = append(vm.Margins, row)
	}
	dis, err := billing.Disagreements(ctx, bh.s.DB, 50)
	if err != nil {
		return vm, err
	}
	for _, d := range dis {
		billed := t(c, "billing_ui.disagree.free")
		if d.Billable {
			billed = t(c, "billing_ui.disagree.billed")
		}
		vm.Disagreements = append(vm.Disagreements, views.DisagreementVM{MessageID: strconv.FormatInt(d.MessageID, 10),
			Business: d.BusinessName, Category: t(c, "billing_ui.category."+d.Category), Platform: d.PlatformType,
			Rule: d.Rule, Billed: billed, At: l.DateTime(d.BilledAt, nil)})
	}
	return vm, nil
}

// revenueChart is the year's revenue per month: table rows and a chart
// of net revenue per month, one series per currency.
func revenueChart(c echo.Context, year int, rev []billing.MonthRevenue) ([]views.RevenueVM, string, error) {
	l := web.LocaleFrom(c.Request().Context())
	var rows []views.RevenueVM
	labels := make([]string, 12)
	for m := 1; m <= 12; m++ {
		labels[m-1] = t(c, "billing_ui.month_short."+strconv.Itoa(m))
	}
	byCur := map[string][]float64{}
	var curs []string
	for _, r := range rev {
		rows = append(rows, views.RevenueVM{Month: monthLabel(l, r.Month), Currency: r.Currency, Invoices: l.Int(int64(r.Invoices)),
			CreditNotes: l.Int(int64(r.CreditNotes)), Net: money(l, r.Net, r.Currency), Tax: money(l, r.Tax, r.Currency),
			Gross: money(l, r.Gross, r.Currency), Paid: money(l, r.Paid, r.Currency), Cost: money(l, r.Cost, r.Currency),
			Margin: money(l, r.Net.Sub(r.Cost), r.Currency)})
		m, err := time.Parse("2006-01", r.Month)
		if err != nil || m.Year() != year {
			continue
		}
		if byCur[r.Currency] == nil {
			byCur[r.Currency] = make([]float64, 12)
			curs = append(curs, r.Currency)
		}
		byCur[r.Currency][int(m.Month())-1] += r.Net.InexactFloat64()
	}
	if len(curs) == 0 {
		return rows, "", nil
	}
	series := make([]chartSeries, 0, len(curs))
	for _, cur := range curs {
		series = append(series, chartSeries{Name: t(c, "billing_ui.revenue.series", cur), Values: byCur[cur]})
	}
	svg, err := stackedBarSVG("revenue-chart", t(c, "billing_ui.revenue.chart_title", year), t(c, "billing_ui.revenue.chart_desc"),
		labels, series, func(f float64) string { return l.Decimal(decimal.NewFromFloat(f).Round(0).IntPart(), 0) })
	return rows, svg, err
}

// adminInvoices is the administrators' billing page.
func (bh *billingHandler) adminInvoices(c echo.Context) error {
	vm, err := bh.adminBillingVM(c, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.AdminBillingPage(web.NewPage(c, "billing_ui.admin.title", "admin-billing"), vm))
}

// adminReload: a refused "run month" form is shown at its POST address;
// reloading it leads back to the billing page.
func (bh *billingHandler) adminReload(c echo.Context) error { return redirect(c, "/admin/billing") }

// runMonth builds (and issues) the invoices of a month that has ended,
// for every business with usage in it; running it again builds nothing
// twice.
func (bh *billingHandler) runMonth(c echo.Context) error {
	f := views.NewForm()
	month := strings.TrimSpace(c.FormValue("month"))
	f.Values["month"] = month
	now := bh.s.DB.Now()
	m, err := time.Parse("2006-01", month)
	switch {
	case month == "":
		f.SetError("month", t(c, "billing_ui.run.error.missing"))
	case err != nil:
		f.SetError("month", t(c, "billing_ui.run.error.bad"))
	case now.Before(m.AddDate(0, 1, 0)):
		f.SetError("month", t(c, "billing_ui.run.error.not_ended", monthLabel(web.LocaleFrom(c.Request().Context()), month)))
	}
	if !f.HasErrors() {
		built, err := bh.invoicing.RunMonth(c.Request().Context(), m)
		if err == nil {
			l := web.LocaleFrom(c.Request().Context())
			web.Flash(c, "success", l.N("billing_ui.run.done", int64(built), built, monthLabel(l, month)))
			return redirect(c, "/admin/billing?month="+month)
		}
		switch {
		case errors.Is(err, billing.ErrIssuerIncomplete):
			f.SetError("month", web.LocaleFrom(c.Request().Context()).N("billing_ui.run.error.issuer", int64(built), built))
		case errors.Is(err, billing.ErrMixedCurrency):
			f.SetError("month", t(c, "billing_ui.run.error.currency"))
		default:
			if err := web.FormErrors(c, f, err); err != nil {
				return err
			}
		}
	}
	vm, err := bh.adminBillingVM(c, f)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusUnprocessableEntity, views.AdminBillingPage(web.NewPage(c, "billing_ui.admin.title", "admin-billing"), vm))
}
