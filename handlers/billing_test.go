package handlers_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/models/billing"
)

const (
	deMobile = "+4915112345678"
	usNumber = "+12125550100"
)

// billingScene is a German business with February invoiced and March
// under way: 3 marketing messages to Germany and 2 utility messages to
// the US in February (invoice: 0.3393 → 0.34, 0.0912 → 0.09, net 0.43,
// VAT 19 % 0.08, total 0.51); in March 2 marketing and 1 utility so far.
type billingScene struct {
	a   *app
	biz billingBiz
	inv *billing.Invoice
}

func newBillingScene(t *testing.T) billingScene {
	t.Helper()
	a := newApp(t) // the clock: 2 March 2026, 09:00 UTC
	issuerReady(t, a)
	biz := billingBusiness(t, a, "Kaffee Klatsch GmbH", "owner@kaffee.example", "DE", "DE811907980")
	feb := time.Date(2026, 2, 10, 10, 0, 0, 0, time.UTC)
	delivered(t, a, biz.id, 3, billing.Marketing, deMobile, "winter_sale", feb)
	delivered(t, a, biz.id, 2, billing.Utility, usNumber, "=HYPERLINK(\"http://x\")", feb.Add(time.Hour))
	inv := issueMonth(t, a, biz.id, "2026-02")
	delivered(t, a, biz.id, 1, billing.Marketing, deMobile, "spring", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	delivered(t, a, biz.id, 1, billing.Marketing, deMobile, "spring", time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	delivered(t, a, biz.id, 1, billing.Utility, usNumber, "receipt", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	charge(t, a)
	return billingScene{a: a, biz: biz, inv: inv}
}

func TestBillingOverviewShowsMonthToDateBudgetAndChart(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	if err := s.a.db.Gorm.Table("businesses").Where("id = ?", s.biz.id).Update("monthly_limit", "10.00").Error; err != nil {
		t.Fatal(err)
	}
	staff := s.a.staff(s.biz.owner, "barista@kaffee.example")
	p := staff.get("/billing")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	// 2 × 0.1131 + 0.0456 = 0.2718, shown as €0.27.
	if got := p.Text(`[data-testid="mtd-total"]`); got != "€0.27" {
		t.Errorf("month to date %q", got)
	}
	if got := p.Text(`[data-testid="cat-marketing"] [data-testid="amount"]`); got != "€0.23" {
		t.Errorf("marketing %q", got)
	}
	if got := p.Text(`[data-testid="cat-marketing"] [data-testid="messages"]`); got != "2" {
		t.Errorf("marketing messages %q", got)
	}
	if got := p.Text(`[data-testid="cat-utility"] [data-testid="amount"]`); got != "€0.05" {
		t.Errorf("utility %q", got)
	}
	if got := p.Text(`[data-testid="budget-left"]`); got != "€9.73" {
		t.Errorf("budget left %q", got)
	}
	svg := p.Doc.Find(`[data-testid="usage-chart"] svg[role="img"]`)
	if svg.Length() != 1 {
		t.Fatalf("no accessible chart: %s", p.Doc.Find(`[data-testid="usage-chart"]`).Text())
	}
	if title := svg.Find("title").Text(); !strings.Contains(title, "March 2026") {
		t.Errorf("chart title %q", title)
	}
	if desc := svg.Find("desc").Text(); !strings.Contains(desc, "€0.27") {
		t.Errorf("chart desc %q", desc)
	}
	if strings.Contains(p.Body, `style="`) && svg.Find(`[style]`).Length() > 0 {
		t.Errorf("the chart keeps style attributes, which the CSP blocks")
	}
	// February, ended: its whole month, every day in the table.
	f := staff.get("/billing?month=2026-02")
	if got := f.Text(`[data-testid="mtd-total"]`); got != "€0.43" || !strings.Contains(f.Text("#bl-total"), "February 2026") {
		t.Errorf("february: %q %q", got, f.Text("#bl-total"))
	}
	if n := f.Doc.Find(`[data-testid="daily-table"] tbody tr`).Length(); n != 28 {
		t.Errorf("february has %d day rows", n)
	}
	if f.Has(`[data-testid="budget-left"]`) {
		t.Errorf("a past month shows the budget left")
	}
	if bad := staff.getRaw("/billing?month=2027-01"); bad.Status != http.StatusBadRequest {
		t.Errorf("future month: status %d", bad.Status)
	}
	// The table beside the chart: one row per day so far (1 and 2 March).
	rows := p.Doc.Find(`[data-testid="daily-table"] tbody tr`)
	if rows.Length() != 2 {
		t.Fatalf("%d day rows", rows.Length())
	}
	if got := strings.Join(strings.Fields(rows.Eq(1).Text()), " "); !strings.Contains(got, "€0.16 (2)") {
		t.Errorf("2 March row %q", got)
	}
}

func TestInvoiceListDetailAndDownloads(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	staff := s.a.staff(s.biz.owner, "barista@kaffee.example")
	number := s.inv.NumberOr()
	if number == "" {
		t.Fatal("issued invoice without number")
	}
	list := staff.get("/billing/invoices")
	row := list.Doc.Find(`[data-testid="invoice-` + strconv.FormatInt(s.inv.ID, 10) + `"]`)
	if row.Length() != 1 {
		t.Fatalf("invoice not listed: %s", list.Text("main"))
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="number"]`).Text()); got != number {
		t.Errorf("number %q, want %q", got, number)
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="gross"]`).Text()); got != "€0.51" {
		t.Errorf("gross %q", got)
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="state"]`).Text()); got != "Issued" {
		t.Errorf("state %q", got)
	}

	p := staff.get("/billing/invoices/" + strconv.FormatInt(s.inv.ID, 10))
	if p.Status != http.StatusOK {
		t.Fatalf("detail status %d", p.Status)
	}
	lines := p.Doc.Find(`[data-testid="line"]`)
	if lines.Length() != 2 {
		t.Fatalf("%d lines", lines.Length())
	}
	want := map[string][3]string{"3": {"€0.1131", "€0.34", "Germany"}, "2": {"€0.0456", "€0.09", "other countries"}}
	for i := range lines.Length() {
		ln := lines.Eq(i)
		q := strings.TrimSpace(ln.Find(`[data-testid="quantity"]`).Text())
		w, ok := want[q]
		if !ok {
			t.Errorf("line with quantity %q", q)
			continue
		}
		if u := strings.TrimSpace(ln.Find(`[data-testid="unit"]`).Text()); u != w[0] {
			t.Errorf("line %s unit %q, want %q", q, u, w[0])
		}
		if am := strings.TrimSpace(ln.Find(`[data-testid="amount"]`).Text()); am != w[1] {
			t.Errorf("line %s amount %q, want %q (rounded once per line)", q, am, w[1])
		}
		if !strings.Contains(ln.Text(), w[2]) {
			t.Errorf("line %s country: %q", q, ln.Text())
		}
	}
	for sel, w := range map[string]string{"total-net": "€0.43", "total-tax": "€0.08", "total-gross": "€0.51"} {
		if got := p.Text(`[data-testid="` + sel + `"]`); got != w {
			t.Errorf("%s %q, want %q", sel, got, w)
		}
	}
	if !strings.Contains(p.Text("main"), "19") {
		t.Errorf("no VAT rate on the page")
	}

	for _, d := range []struct{ sel, kind, ctype string }{
		{"download-pdf", billing.DocPDF, "application/pdf"},
		{"download-xml", billing.DocXML, "application/xml"},
	} {
		href := p.Attr(`[data-testid="`+d.sel+`"]`, "href")
		if href == "" {
			t.Fatalf("no %s link", d.kind)
		}
		got := staff.getRaw(href)
		if got.Status != http.StatusOK {
			t.Fatalf("%s: status %d", href, got.Status)
		}
		if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, d.ctype) {
			t.Errorf("%s content type %q", d.kind, ct)
		}
		if cd := got.Header.Get("Content-Disposition"); !strings.Contains(cd, number+"."+d.kind) {
			t.Errorf("%s disposition %q", d.kind, cd)
		}
		if sum([]byte(got.Body)) != sum(storedDocument(t, s.a, s.inv.ID, d.kind)) {
			t.Errorf("%s download is not the stored document", d.kind)
		}
	}
}

func TestUsageLinesCSVAndXLSX(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	id := strconv.FormatInt(s.inv.ID, 10)
	p := s.biz.owner.getRaw("/billing/usage.csv?invoice=" + id)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: status %d, %q", p.Status, p.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 { // header + 5 February messages
		t.Fatalf("%d csv rows: %v", len(recs), recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var marketing, formulas int
	for _, r := range recs[1:] {
		if r[col["category"]] == billing.Marketing {
			marketing++
			if r[col["unit_price"]] != "0.1131" || r[col["country"]] != "DE" {
				t.Errorf("marketing row %v", r)
			}
		}
		if tpl := r[col["template"]]; strings.HasPrefix(tpl, "=") {
			t.Errorf("formula not neutralised: %q", tpl)
		} else if strings.HasPrefix(tpl, "'=HYPERLINK") {
			formulas++
		}
		if to := r[col["to"]]; !strings.HasPrefix(to, "'+") {
			t.Errorf("phone %q is not kept as text", to)
		}
	}
	if marketing != 3 || formulas != 2 {
		t.Errorf("marketing %d, neutralised formulas %d", marketing, formulas)
	}
	// The month's lines: March so far (3 messages).
	m := s.biz.owner.getRaw("/billing/usage.csv?month=2026-03")
	if n := strings.Count(strings.TrimSpace(m.Body), "\n"); n != 3 {
		t.Errorf("march csv has %d data lines:\n%s", n, m.Body)
	}
	if bad := s.biz.owner.getRaw("/billing/usage.csv?month=March"); bad.Status != http.StatusBadRequest {
		t.Errorf("bad month: status %d", bad.Status)
	}

	x := s.biz.owner.getRaw("/billing/usage.xlsx?invoice=" + id)
	if x.Status != http.StatusOK || !strings.Contains(x.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: status %d, %q", x.Status, x.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(x.Body)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Usage")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Errorf("%d xlsx rows", len(rows))
	}
}

// TestBillingIsolation: another business's invoice, its PDF, XML and
// usage lines are not found; its month shows nothing of the first's.
func TestBillingIsolation(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	other := billingBusiness(t, s.a, "Teehaus Ost", "owner@teehaus.example", "DE", "")
	id := strconv.FormatInt(s.inv.ID, 10)
	for _, path := range []string{"/billing/invoices/" + id, "/billing/invoices/" + id + "/invoice.pdf",
		"/billing/invoices/" + id + "/invoice.xml", "/billing/usage.csv?invoice=" + id, "/billing/usage.xlsx?invoice=" + id} {
		if p := other.owner.getRaw(path); p.Status != http.StatusNotFound {
			t.Errorf("%s: status %d for another business", path, p.Status)
		}
	}
	if p := other.owner.get("/billing/invoices"); p.Has(`[data-testid="invoice-` + id + `"]`) {
		t.Errorf("another business's invoice listed")
	}
	if p := other.owner.get("/billing"); p.Text(`[data-testid="mtd-total"]`) != "€0.00" {
		t.Errorf("other business's month to date %q", p.Text(`[data-testid="mtd-total"]`))
	}
	if m := other.owner.getRaw("/billing/usage.csv?month=2026-02"); m.Status != http.StatusOK || strings.Count(strings.TrimSpace(m.Body), "\n") != 0 {
		t.Errorf("another business's usage lines:\n%s", m.Body)
	}
	// Staff never reach the administrators' billing pages.
	for _, path := range []string{"/admin/billing", "/admin/rate-cards", "/admin/billing/settings", "/admin/billing/invoices/" + id,
		"/admin/billing/invoices/" + id + "/invoice.pdf"} {
		if p := s.biz.owner.getRaw(path); p.Status == http.StatusOK {
			t.Errorf("%s open to a business owner", path)
		}
	}
}

func TestBillingPagesAccessible(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	admin := s.a.admin()
	id := strconv.FormatInt(s.inv.ID, 10)
	for _, path := range []string{"/billing", "/billing/invoices", "/billing/invoices/" + id} {
		checkA11y(t, path, s.biz.owner.get(path))
	}
	for _, path := range []string{"/admin/billing", "/admin/billing/invoices/" + id, "/admin/billing/invoices/" + id + "/cancel",
		"/admin/rate-cards", "/admin/billing/settings"} {
		checkA11y(t, path, admin.get(path))
	}
}
