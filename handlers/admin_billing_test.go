package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models/billing"
)

func TestAdminInvoicesMarkPaidAndCancelWithCreditNote(t *testing.T) {
	t.Parallel()
	s := newBillingScene(t)
	admin := s.a.admin()
	id := strconv.FormatInt(s.inv.ID, 10)
	rowSel := `[data-testid="invoice-` + id + `"]`

	p := admin.get("/admin/billing")
	if !p.Has(rowSel) || !strings.Contains(p.Doc.Find(rowSel).Text(), "Kaffee Klatsch GmbH") {
		t.Fatalf("invoice not listed with its business")
	}
	// Revenue by month: February's invoice.
	rev := p.Doc.Find(`[data-testid="revenue-row"]`)
	if rev.Length() != 1 || strings.TrimSpace(rev.Find(`[data-testid="net"]`).Text()) != "€0.43" {
		t.Errorf("revenue rows %d: %q", rev.Length(), rev.Text())
	}
	if !p.Has(`[data-testid="revenue-chart"] svg[role="img"]`) {
		t.Errorf("no revenue chart")
	}
	// Filters: state, business, month.
	for q, want := range map[string]bool{"state=paid": false, "state=issued": true, "month=2026-01": false, "month=2026-02": true,
		"business=" + strconv.FormatInt(s.biz.id, 10): true, "business=999999": false, "kind=credit_note": false} {
		if got := admin.get("/admin/billing?" + q).Has(rowSel); got != want {
			t.Errorf("filter %s: listed %v, want %v", q, got, want)
		}
	}

	// Mark paid: another business's February invoice.
	other := billingBusiness(t, s.a, "Teehaus Ost", "owner@teehaus.example", "DE", "")
	delivered(t, s.a, other.id, 1, billing.Utility, deMobile, "receipt", time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC))
	paid := strconv.FormatInt(issueMonth(t, s.a, other.id, "2026-02").ID, 10)
	d := admin.get("/admin/billing/invoices/" + paid)
	if !d.Has(`[data-testid="mark-paid"]`) {
		t.Fatal("no mark-paid button")
	}
	if r := admin.post("/admin/billing/invoices/"+paid+"/paid", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("mark paid: status %d", r.Status)
	}
	d = admin.get("/admin/billing/invoices/" + paid)
	if got := d.Text(`[data-testid="state"]`); got != "Paid" || !d.Has(`[data-testid="paid"]`) {
		t.Errorf("state after paying %q", got)
	}
	if d.Has(`[data-testid="mark-paid"]`) || d.Has(`[data-testid="cancel-link"]`) {
		t.Errorf("a paid invoice offers paying or cancelling again")
	}
	if r := admin.post("/admin/billing/invoices/"+paid+"/paid", nil); r.Status != http.StatusSeeOther {
		t.Errorf("paying twice: status %d", r.Status)
	} else if f := admin.get(r.Location).Text(".flash-error"); f == "" {
		t.Errorf("paying twice says nothing")
	}
	if got := other.owner.get("/billing/invoices").Text(`[data-testid="state"]`); got != "Paid" {
		t.Errorf("the business sees %q", got)
	}

	// Administrators download any business's documents, as stored.
	for _, kind := range []string{billing.DocPDF, billing.DocXML} {
		got := admin.getRaw("/admin/billing/invoices/" + id + "/invoice." + kind)
		if got.Status != http.StatusOK || sum([]byte(got.Body)) != sum(storedDocument(t, s.a, s.inv.ID, kind)) {
			t.Errorf("admin %s: status %d, not the stored document", kind, got.Status)
		}
	}
	// Cancel: a confirmation page; the reason is required.
	if !admin.get("/admin/billing/invoices/" + id).Has(`[data-testid="cancel-link"]`) {
		t.Fatal("no cancel link on an issued invoice")
	}
	c := admin.get("/admin/billing/invoices/" + id + "/cancel")
	if c.Status != http.StatusOK || !strings.Contains(c.Text(`[data-testid="cancel-summary"]`), "€0.51") {
		t.Fatalf("confirmation: status %d %q", c.Status, c.Text(`[data-testid="cancel-summary"]`))
	}
	if r := admin.post("/admin/billing/invoices/"+id+"/cancel", vals("reason", "  ")); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Text(`[data-testid="error-reason"]`), "reason") {
		t.Fatalf("no reason: status %d %q", r.Status, r.Text(`[data-testid="error-reason"]`))
	}
	if r := admin.post("/admin/billing/invoices/"+id+"/cancel", vals("reason", "Wrong VAT ID")); r.Status != http.StatusSeeOther {
		t.Fatalf("cancel: status %d: %s", r.Status, r.Text("main"))
	}
	d = admin.get("/admin/billing/invoices/" + id)
	if got := d.Text(`[data-testid="state"]`); got != "Cancelled" {
		t.Errorf("state after cancelling %q", got)
	}
	flash := d.Text(".flash-success")
	cns := d.Doc.Find(`[data-testid="credit-notes"] a`)
	if cns.Length() != 1 || !strings.Contains(flash, strings.TrimSpace(cns.Text())) {
		t.Fatalf("credit note: flash %q, listed %q", flash, cns.Text())
	}
	// Staff see the credit note referencing the invoice, and it refers back.
	sp := s.biz.owner.get("/billing/invoices/" + id)
	link := sp.Doc.Find(`[data-testid="credit-notes"] a`)
	if link.Length() != 1 {
		t.Fatalf("staff see no credit note")
	}
	cn := s.biz.owner.get(link.AttrOr("href", ""))
	if !strings.Contains(cn.Text(`[data-testid="corrects"]`), s.inv.NumberOr()) || !strings.Contains(cn.Text(`[data-testid="reason"]`), "Wrong VAT ID") {
		t.Errorf("credit note page: corrects %q, reason %q", cn.Text(`[data-testid="corrects"]`), cn.Text(`[data-testid="reason"]`))
	}
	if pdf := s.biz.owner.getRaw(cn.Attr(`[data-testid="download-pdf"]`, "href")); pdf.Status != http.StatusOK || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Errorf("credit note PDF: status %d", pdf.Status)
	}
	if got := admin.get("/admin/billing?kind=credit_note&business=" + strconv.FormatInt(s.biz.id, 10)); got.Doc.Find(`[data-testid="invoice-list"] tbody tr`).Length() != 1 {
		t.Errorf("credit notes filter")
	}
	// A cancelled invoice cannot be cancelled again.
	if r := admin.getRaw("/admin/billing/invoices/" + id + "/cancel"); r.Status != http.StatusSeeOther {
		t.Errorf("cancel page of a cancelled invoice: status %d", r.Status)
	}
}

func TestAdminRunMonth(t *testing.T) {
	t.Parallel()
	a := newApp(t) // 2 March 2026
	issuerReady(t, a)
	documentsReady()
	b1 := billingBusiness(t, a, "Bäckerei Süß", "owner@baeckerei.example", "DE", "DE811907980")
	b2 := billingBusiness(t, a, "Wiener Würstel GmbH", "owner@wuerstel.example", "AT", "ATU12345675")
	billingBusiness(t, a, "Quiet Ltd", "owner@quiet.example", "DE", "")
	feb := time.Date(2026, 2, 14, 12, 0, 0, 0, time.UTC)
	delivered(t, a, b1.id, 4, billing.Marketing, deMobile, "valentine", feb)
	delivered(t, a, b2.id, 2, billing.Authentication, "+436641234567", "otp", feb)
	admin := a.admin()
	admin.primeCSRF("/admin/billing")
	for month, want := range map[string]string{"": "Choose the month", "Feb 2026": "YYYY-MM", "2026-03": "has not ended"} {
		r := admin.post("/admin/billing/run", vals("month", month))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Text(`[data-testid="error-month"]`), want) {
			t.Errorf("month %q: status %d, %q", month, r.Status, r.Text(`[data-testid="error-month"]`))
		}
	}
	r := admin.post("/admin/billing/run", vals("month", "2026-02"))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("run: status %d: %s", r.Status, r.Text(`[data-testid="error-month"]`))
	}
	p := admin.get(r.Location)
	if !strings.Contains(p.Text(".flash-success"), "2 invoices built for February 2026") {
		t.Errorf("flash %q", p.Text(".flash-success"))
	}
	if n := p.Doc.Find(`[data-testid="invoice-list"] tbody tr`).Length(); n != 2 {
		t.Errorf("%d invoices for February", n)
	}
	// Again: nothing is built twice.
	admin.post("/admin/billing/run", vals("month", "2026-02"))
	p = admin.get("/admin/billing?month=2026-02")
	if !strings.Contains(p.Text(".flash-success"), "0 invoices built") {
		t.Errorf("second run flash %q", p.Text(".flash-success"))
	}
	if n := p.Doc.Find(`[data-testid="invoice-list"] tbody tr`).Length(); n != 2 {
		t.Errorf("%d invoices after the second run", n)
	}
	// The Austrian business with a VAT ID: reverse charge, no VAT.
	list := b2.owner.get("/billing/invoices")
	href := list.Attr(`[data-testid="invoice-list"] [data-testid="number"]`, "href")
	d := b2.owner.get(href)
	if d.Text(`[data-testid="total-tax"]`) != "€0.00" || !strings.Contains(d.Text(`[data-testid="vat-note"]`), "Reverse charge") {
		t.Errorf("reverse charge: tax %q, note %q", d.Text(`[data-testid="total-tax"]`), d.Text(`[data-testid="vat-note"]`))
	}
}

func TestIssuerSettingsForm(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	p := admin.get("/admin/billing/settings")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	empty := vals("name", "", "street", "", "postcode", "", "city", "", "country", "", "vat_id", "", "tax_number", "",
		"contact_name", "", "contact_phone", "", "contact_email", "", "bank_account_name", "", "iban", "", "bic", "",
		"bank_name", "", "payment_terms_days", "", "buyer_reference", "")
	r := admin.post("/admin/billing/settings", empty)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("empty: status %d", r.Status)
	}
	msgs := map[string]string{}
	for _, f := range []string{"name", "street", "postcode", "city", "country", "vat_id", "contact_name", "contact_phone",
		"contact_email", "bank_account_name", "iban", "payment_terms_days"} {
		m := r.Text(`[data-testid="error-` + f + `"]`)
		if m == "" || strings.HasPrefix(m, "billing.") {
			t.Errorf("%s: message %q", f, m)
		}
		msgs[f] = m
	}
	if msgs["name"] == msgs["iban"] {
		t.Errorf("messages are not specific: %q", msgs["name"])
	}
	// Bad values: each refused at its field, everything typed kept.
	bad := vals("name", "Optline Platform GmbH", "street", "Chausseestraße 1", "postcode", "10115", "city", "Berlin", "country", "DE",
		"vat_id", "DE12", "tax_number", "", "contact_name", "Ines", "contact_phone", "call me", "contact_email", "ines@",
		"bank_account_name", "Optline", "iban", "DE00 1234", "bic", "X", "bank_name", "Bank", "payment_terms_days", "500", "buyer_reference", "")
	r = admin.post("/admin/billing/settings", bad)
	for _, f := range []string{"vat_id", "contact_phone", "contact_email", "iban", "bic", "payment_terms_days"} {
		if !r.Has(`[data-testid="error-` + f + `"]`) {
			t.Errorf("%s accepted", f)
		}
	}
	for _, f := range []string{"name", "city"} {
		if r.Has(`[data-testid="error-` + f + `"]`) {
			t.Errorf("%s refused: %s", f, r.Text(`[data-testid="error-`+f+`"]`))
		}
	}
	if r.Value("#f-iban") != "DE00 1234" || r.Value("#f-contact_email") != "ines@" || r.Text("#f-street") != "Chausseestraße 1" {
		t.Errorf("typed values lost")
	}
	good := vals("name", "Optline Platform GmbH", "street", "Chausseestraße 1", "postcode", "10115", "city", "Berlin", "country", "DE",
		"vat_id", "DE123456789", "tax_number", "", "contact_name", "Ines Issuer", "contact_phone", "+49 30 1234567",
		"contact_email", "billing@optline.example", "bank_account_name", "Optline Platform GmbH", "iban", "DE89 3704 0044 0532 0130 00",
		"bic", "COBADEFFXXX", "bank_name", "Commerzbank", "payment_terms_days", "21", "buyer_reference", "")
	if r := admin.post("/admin/billing/settings", good); r.Status != http.StatusSeeOther {
		t.Fatalf("save: status %d: %s", r.Status, r.Doc.Find(".error").Text())
	}
	p = admin.get("/admin/billing/settings")
	if !p.Has(".flash-success") || p.Value("#f-payment_terms_days") != "21" || p.Value("#f-iban") != "DE89370400440532013000" {
		t.Errorf("saved: flash %v, terms %q, iban %q", p.Has(".flash-success"), p.Value("#f-payment_terms_days"), p.Value("#f-iban"))
	}
}

// TestAdminSeesPricingDisagreements: the platform called a marketing
// message free; the platform's word is billed and the disagreement is
// listed for administrators.
func TestAdminSeesPricingDisagreements(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	biz := billingBusiness(t, a, "Sonnenbrillen Kurz", "owner@kurz.example", "DE", "")
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	delivered(t, a, biz.id, 1, billing.Marketing, deMobile, "promo", at)
	if err := a.db.Gorm.Table("messages").Where("business_id = ?", biz.id).Update("pricing_type", "free_customer_service").Error; err != nil {
		t.Fatal(err)
	}
	charge(t, a)
	p := a.admin().get("/admin/billing")
	row := p.Doc.Find(`[data-testid="disagreement"]`)
	if row.Length() != 1 {
		t.Fatalf("%d disagreements listed", row.Length())
	}
	txt := strings.Join(strings.Fields(row.Text()), " ")
	for _, w := range []string{"Sonnenbrillen Kurz", "Marketing", "free_customer_service", "free"} {
		if !strings.Contains(txt, w) {
			t.Errorf("disagreement row %q lacks %q", txt, w)
		}
	}
	if got := biz.owner.get("/billing").Text(`[data-testid="cat-marketing"] [data-testid="free"]`); got != "1" {
		t.Errorf("the business sees %q free marketing messages", got)
	}
}

// TestRunMonthWithoutIssuerThenIssueDraft: without issuer details the
// month-end builds drafts and says why they are not issued; once the
// details are saved, the administrator issues the draft from its page.
func TestRunMonthWithoutIssuerThenIssueDraft(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	documentsReady()
	biz := billingBusiness(t, a, "Fahrrad Fix", "owner@fahrrad.example", "DE", "")
	delivered(t, a, biz.id, 2, billing.Utility, deMobile, "repair_done", time.Date(2026, 2, 5, 9, 0, 0, 0, time.UTC))
	admin := a.admin()
	admin.primeCSRF("/admin/billing")
	r := admin.post("/admin/billing/run", vals("month", "2026-02"))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Text(`[data-testid="error-month"]`), "1 invoice was built as a draft") {
		t.Fatalf("run without issuer: status %d, %q", r.Status, r.Text(`[data-testid="error-month"]`))
	}
	var id int64
	if err := a.db.Gorm.Table("invoices").Where("business_id = ? AND state = ?", biz.id, billing.Draft).Select("id").Row().Scan(&id); err != nil {
		t.Fatalf("no draft: %v", err)
	}
	path := "/admin/billing/invoices/" + strconv.FormatInt(id, 10)
	if !admin.get(path).Has(`[data-testid="issue"]`) {
		t.Fatal("no issue button on a draft")
	}
	res := admin.post(path+"/issue", nil)
	if f := admin.get(res.Location).Text(".flash-error"); !strings.Contains(f, "issuer details are incomplete") {
		t.Errorf("issue without issuer: %q", f)
	}
	issuerReady(t, a)
	res = admin.post(path+"/issue", nil)
	d := admin.get(res.Location)
	if !strings.Contains(d.Text(".flash-success"), "2026-") || d.Text(`[data-testid="state"]`) != "Issued" {
		t.Errorf("issued: flash %q, state %q", d.Text(".flash-success"), d.Text(`[data-testid="state"]`))
	}
	if d.Has(`[data-testid="issue"]`) {
		t.Errorf("an issued invoice offers issuing again")
	}
}
