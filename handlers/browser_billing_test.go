package handlers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/models/billing"
)

// fetchInfo downloads href in the page (the session's cookies) and
// reports its content type, size and SHA-256.
func fetchInfo(t *testing.T, ctx context.Context, href string) string {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q).then(async r => {
		const b = await r.arrayBuffer();
		const h = await crypto.subtle.digest("SHA-256", b);
		return r.status + " " + r.headers.get("content-type") + " " + b.byteLength + " " +
			Array.from(new Uint8Array(h)).map(x => x.toString(16).padStart(2, "0")).join("");
	})`, href)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", href, err)
	}
	return out
}

// TestBrowserBillingJourney: a business's messages of February were
// delivered (seeded as the sender and the webhooks leave them: the
// campaign engine is not on this branch) and March is under way; the
// administrator looks at the rate cards and runs February; staff follow
// March's spend on the chart, open the invoice and download its PDF and
// XML, which are the stored documents.
func TestBrowserBillingJourney(t *testing.T) {
	a := newApp(t) // 2 March 2026
	ctx := newBrowser(t)
	base := a.ts.URL
	issuerReady(t, a)
	documentsReady()
	biz := billingBusiness(t, a, "Blumen Berger GmbH", "owner@blumen.example", "DE", "DE811907980")
	a.staff(biz.owner, "carl@blumen.example")
	feb := time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)
	for d := 0; d < 20; d += 3 {
		delivered(t, a, biz.id, 40+d, billing.Marketing, deMobile, "spring_sale", feb.AddDate(0, 0, d))
		delivered(t, a, biz.id, 25, billing.Utility, deMobile, "order_update", feb.AddDate(0, 0, d).Add(time.Hour))
		delivered(t, a, biz.id, 6, billing.Authentication, "+436641234567", "login_code", feb.AddDate(0, 0, d).Add(2*time.Hour))
	}
	// March so far: the clock moves to the 12th.
	a.clock.Advance(10 * 24 * time.Hour)
	mar := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for d := 0; d < 12; d++ {
		delivered(t, a, biz.id, 10+3*d%17, billing.Marketing, deMobile, "march_news", mar.AddDate(0, 0, d))
		delivered(t, a, biz.id, 12+d%5, billing.Utility, deMobile, "order_update", mar.AddDate(0, 0, d).Add(time.Hour))
		if d%3 == 0 {
			delivered(t, a, biz.id, 4, billing.Authentication, usNumber, "login_code", mar.AddDate(0, 0, d).Add(2*time.Hour))
		}
	}
	charge(t, a)

	// The administrator: rate cards, then the month-end of February.
	browserLogin(t, ctx, base, "admin@example.com", `a[href="/admin/billing"]`)
	step(t, ctx, "rate cards", chromedp.Navigate(base+"/admin/rate-cards"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="card-form"]`)))
	shoot(t, ctx, "billing-admin-rate-cards")
	// A card dated today is refused at its field, with the prices kept.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#f-effective_from").value = "2026-03-12", document.querySelector("#f-r0_utility_price").value = "0,04.5", true`)); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="save-card"]`, `[data-testid="error-effective_from"]`); err != nil {
		t.Fatalf("refused card: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="error-effective_from"]`); !strings.Contains(got, "2026-03-13") {
		t.Errorf("backwards card message %q", got)
	}
	screenshot(t, ctx, "billing-admin-rate-card-errors")
	step(t, ctx, "settings", chromedp.Navigate(base+"/admin/billing/settings"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="settings-form"]`)))
	screenshot(t, ctx, "billing-admin-settings")
	step(t, ctx, "billing admin", chromedp.Navigate(base+"/admin/billing"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-form"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#f-month").value = "2026-02", true`)); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="run-month"]`, `.flash-success`); err != nil {
		t.Fatalf("run month: %v", err)
	}
	if got := textOf(t, ctx, ".flash-success"); !strings.Contains(got, "1 invoice built for February 2026") {
		t.Fatalf("run month said %q", got)
	}
	// The list below is filtered to February: its one invoice.
	number := textOf(t, ctx, `[data-testid="invoice-list"] [data-testid="number"]`)
	if !strings.HasPrefix(number, "2026-") {
		t.Fatalf("invoice number %q", number)
	}
	step(t, ctx, "revenue", chromedp.Navigate(base+"/admin/billing"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="revenue-chart"] svg`)))
	shoot(t, ctx, "billing-admin")
	browserLogout(t, ctx)

	// Staff: the month so far, the invoice and its documents.
	browserLogin(t, ctx, base, "carl@blumen.example", `a[href="/billing"]`)
	step(t, ctx, "billing", chromedp.Click(chromedp.CSS(`nav a[href="/billing"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="usage-chart"] svg[role="img"]`)))
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="usage-chart"] svg title').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if got := title; !strings.Contains(got, "March 2026") {
		t.Errorf("chart title %q", got)
	}
	shoot(t, ctx, "billing-usage-chart")
	step(t, ctx, "invoices", chromedp.Click(chromedp.CSS(`.subnav a[href="/billing/invoices"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="invoice-list"]`)))
	shoot(t, ctx, "billing-invoice-list")
	step(t, ctx, "invoice", chromedp.Click(chromedp.CSS(`[data-testid="invoice-list"] [data-testid="number"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lines"]`)))
	if got := textOf(t, ctx, "h1"); got != "Invoice "+number {
		t.Errorf("detail heading %q", got)
	}
	shoot(t, ctx, "billing-invoice-detail")

	var inv billing.Invoice
	if err := a.db.Gorm.Where("number = ?", number).First(&inv).Error; err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ sel, kind, ctype string }{
		{"download-pdf", billing.DocPDF, "application/pdf"},
		{"download-xml", billing.DocXML, "application/xml"},
	} {
		href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid="`+d.sel+`"]`), "href"))
		if err != nil {
			t.Fatal(err)
		}
		stored := storedDocument(t, a, inv.ID, d.kind)
		got := fetchInfo(t, ctx, href.Value)
		want := fmt.Sprintf("200 %s", d.ctype)
		if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, fmt.Sprintf(" %d %s", len(stored), sum(stored))) {
			t.Errorf("%s download: %q, want %s … %d bytes, the stored document", d.kind, got, want, len(stored))
		}
		if d.kind == billing.DocPDF {
			renderPDF(t, stored, "billing-invoice-pdf")
		}
	}
}

// renderPDF renders the PDF's first page with pdftoppm into the
// screenshot directory.
func renderPDF(t *testing.T, pdf []byte, name string) {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Logf("no pdftoppm: the PDF page is not rendered")
		return
	}
	src := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(src, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(screenshotDir(t), name)
	if b, err := exec.Command("pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", src, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, b)
	}
	t.Logf("screenshot: %s.png", out)
}
