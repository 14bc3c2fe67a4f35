package handlers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/profiles"
)

// TestBrowserSandboxCampaignToInvoice is the product's main journey in
// Chromium, on the sandbox provider: the owner composes a campaign for a
// segment, reads the previews and the estimate, sends it, watches it run
// to the end on its page and opens the report; after the month an
// administrator runs the month-end, and staff download the invoice's PDF
// and XML, which are the stored documents.
func TestBrowserSandboxCampaignToInvoice(t *testing.T) {
	a := newApp(t) // 2 March 2026
	ctx := newBrowser(t)
	base := a.ts.URL
	issuerReady(t, a)
	documentsReady()
	a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	owner, err := a.db.UserByEmail(context.Background(), "anna@kraus.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.SaveLegal(context.Background(), b.tn, owner, profiles.LegalInput{LegalName: "Bäckerei Kraus GmbH",
		RegisteredAddress: "Hauptstraße 5\n80331 München", Country: "DE", VATID: "DE811907980",
		BillingEmail: "buchhaltung@kraus.example", TimeZone: "Europe/Berlin", Currency: "EUR"}, "127.0.0.1"); err != nil {
		t.Fatalf("legal profile: %v", err)
	}
	setSender(t, a.db, b.tn, "5550001")
	sb := sandbox.New(a.webhooks, sandbox.Options{FailShare: -1, HeldShare: -1, StopShare: -1, ReadShare: 1, DuplicateShare: -1, ReorderShare: -1,
		MinDelay: time.Millisecond, MaxDelay: 3 * time.Millisecond, Now: a.clock.Now, Log: dbtest.Quiet})
	t.Cleanup(sb.Close)
	a.channel.real = sb
	a.startJobs()
	// The harness's clock stands still unless moved (the sender's budget
	// refills by it), and the sandbox's events wait in the intake: keep
	// both going while the browser works.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				a.clock.Advance(200 * time.Millisecond)
				_ = a.webhooks.ProcessPending(context.Background(), time.Minute)
			}
		}
	}()
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(halt)

	// Compose: template, variables with a fallback, one segment minus the team.
	browserLogin(t, ctx, base, "anna@kraus.example", `nav a[href="/campaigns"]`)
	step(t, ctx, "wizard", chromedp.Click(chromedp.CSS(`nav a[href="/campaigns"]`)), chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Navigate(base+"/campaigns/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="compose-form"]`)))
	tplSel := `input[name="template_id"][value="` + strconv.FormatInt(b.tpl.ID, 10) + `"]`
	step(t, ctx, "template", chromedp.SendKeys(chromedp.CSS("#f-name"), "Osterangebot"), chromedp.Click(chromedp.CSS(tplSel)),
		chromedp.Click(chromedp.CSS(`[data-testid="compose-refresh"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="var_body_2"]`)))
	step(t, ctx, "variables and audience",
		chromedp.SetValue(chromedp.CSS("#f-var_header_1_source"), "first_name"),
		chromedp.SendKeys(chromedp.CSS("#f-var_header_1_fallback"), "Kundin"),
		chromedp.SetValue(chromedp.CSS("#f-var_body_1_source"), "first_name"),
		chromedp.SendKeys(chromedp.CSS("#f-var_body_1_fallback"), "liebe Kundin"),
		chromedp.SetValue(chromedp.CSS("#f-var_body_2_source"), "text"),
		chromedp.SendKeys(chromedp.CSS("#f-var_body_2_text"), "20 %"),
		chromedp.SetValue(chromedp.CSS("#f-var_url_0_source"), "attr"),
		chromedp.SendKeys(chromedp.CSS("#f-var_url_0_attr"), "code"),
		chromedp.Click(chromedp.CSS(`[data-testid="segment-Stammkunden"]`)),
		chromedp.SetValue(chromedp.CSS("#f-exclude_segment_id"), strconv.FormatInt(b.team.ID, 10)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-now"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="compose-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="review-confirm"]`)))
	// Review: the exact recipients, previews and the estimate.
	if got := textOf(t, ctx, `[data-testid="recipients"]`); got != "4 recipients of 9 contacts picked" {
		t.Fatalf("recipients %q", got)
	}
	if got := textOf(t, ctx, `[data-testid="cost-total"]`); got != "€0.45" {
		t.Fatalf("estimate %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="preview"]').length`)); err != nil || n != 3 {
		t.Errorf("previews on the review: %d (%v), want 3", n, err)
	}
	screenshot(t, ctx, "journey-campaign-review")

	// Send, and watch it on its page until it is done.
	step(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-button"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="campaign-state"]`)))
	screenshot(t, ctx, "journey-campaign-progress")
	deadline := time.Now().Add(60 * time.Second)
	for {
		state := textOf(t, ctx, `[data-testid="campaign-state"]`)
		if state == "Done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign page still says %q after a minute", state)
		}
		time.Sleep(500 * time.Millisecond)
		// The page polls and reloads itself when the state changes; a
		// reload here only makes the wait independent of the poll's pace.
		step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="campaign-state"]`)))
	}
	// Every message read: the report's funnel says so once the last
	// read events are in.
	for {
		step(t, ctx, "report", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="campaign-state"]`)))
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="funnel-read"] td')||{}).textContent||""`))
		if strings.TrimSpace(got) == "4" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read in the funnel: %q", got)
		}
		time.Sleep(300 * time.Millisecond)
	}
	screenshot(t, ctx, "journey-campaign-report")
	// The owner's sending settings: tier and monthly limit.
	step(t, ctx, "settings", chromedp.Navigate(base+"/campaigns/settings"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="limit-form"]`)))
	shoot(t, ctx, "campaign-settings")
	browserLogout(t, ctx)

	// Charged on delivery; after March the administrator runs the month.
	halt()
	charge(t, a)
	a.clock.Advance(time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC).Sub(a.clock.Now()))
	browserLogin(t, ctx, base, "admin@example.com", `a[href="/admin/billing"]`)
	step(t, ctx, "billing admin", chromedp.Navigate(base+"/admin/billing"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-form"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#f-month").value = "2026-03", true`)); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="run-month"]`, `.flash-success`); err != nil {
		t.Fatalf("run month: %v", err)
	}
	if got := textOf(t, ctx, ".flash-success"); !strings.Contains(got, "1 invoice built for March 2026") {
		t.Fatalf("run month said %q", got)
	}
	number := textOf(t, ctx, `[data-testid="invoice-list"] [data-testid="number"]`)
	// The business's admin page, where its messaging tier is set.
	step(t, ctx, "admin business", chromedp.Navigate(base+"/admin/businesses/"+strconv.FormatInt(b.tn.BusinessID(), 10)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="tier-select"]`)))
	screenshot(t, ctx, "admin-business-tier")
	browserLogout(t, ctx)

	// Staff: the invoice of the campaign's four messages, and its documents.
	browserLogin(t, ctx, base, "anna@kraus.example", `a[href="/billing"]`)
	step(t, ctx, "invoices", chromedp.Navigate(base+"/billing/invoices"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="invoice-list"]`)))
	step(t, ctx, "invoice", chromedp.Click(chromedp.CSS(`[data-testid="invoice-list"] [data-testid="number"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lines"]`)))
	if got := textOf(t, ctx, "h1"); got != "Invoice "+number {
		t.Errorf("invoice heading %q, want Invoice %s", got, number)
	}
	lines := textOf(t, ctx, `[data-testid="lines"]`)
	if !strings.Contains(lines, "Marketing") || !strings.Contains(lines, "4") {
		t.Errorf("invoice lines %q: want the 4 marketing messages", lines)
	}
	screenshot(t, ctx, "journey-invoice")
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
		if !strings.HasPrefix(got, "200 "+d.ctype) || !strings.HasSuffix(got, fmt.Sprintf(" %d %s", len(stored), sum(stored))) {
			t.Errorf("%s download: %q, want the stored document (%d bytes)", d.kind, got, len(stored))
		}
	}
}
