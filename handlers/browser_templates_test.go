package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/templates"
)

// waitExact polls sel until its text is exactly want (the live preview
// answers after the script's short pause and a round trip).
func waitExact(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	var got string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.AtLeast(0)))
		if got = strings.TrimSpace(s); err == nil && got == want {
			return
		}
	}
	t.Fatalf("%s shows %q, want %q", sel, got, want)
}

// TestBrowserTemplateJourney: staff write a marketing template, watch the
// preview fill in the samples as they type (the sample fields appear as
// variables are typed), save it and see it in the list — at 1280 and
// 390 px.
func TestBrowserTemplateJourney(t *testing.T) {
	a := newApp(t)
	// The real sandbox reviews the template and answers through the
	// webhook intake, which hands the verdict to the templates domain.
	sb := sandbox.New(a.webhooks, sandbox.Options{Senders: a.db, MinDelay: 50 * time.Millisecond, MaxDelay: 300 * time.Millisecond, Log: dbtest.Quiet})
	t.Cleanup(sb.Close)
	a.channel.real = sb
	a.templateEvents.forward = templates.Events{DB: a.db}
	a.startJobs()
	a.ensureAdmin()
	a.signup("Café Rosa", "rosa@rosa.example")
	ctx := newBrowser(t)
	base := a.ts.URL
	browserLogin(t, ctx, base, "rosa@rosa.example", `nav a[href="/templates"]`)
	step(t, ctx, "editor", chromedp.Click(chromedp.CSS(`nav a[href="/templates"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-template"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="new-template"]`)), chromedp.WaitVisible(chromedp.CSS("#f-body")))
	if got := textOf(t, ctx, `[data-testid="preview-button"]`); got != "Stop promotions" {
		t.Errorf("opt-out button in the preview: %q", got)
	}
	step(t, ctx, "type", chromedp.SendKeys(chromedp.CSS("#f-name"), "summer_cake"),
		chromedp.SetValue(chromedp.CSS("#f-language"), "de"),
		chromedp.SendKeys(chromedp.CSS("#f-header"), "Sommer bei Café Rosa"),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "Hallo {{1}}, mit dem Code {{2}} gibt es heute ein Stück Kuchen gratis."),
		chromedp.WaitVisible(chromedp.CSS("#f-sample_2")))
	waitExact(t, ctx, `[data-testid="preview-body"]`, "Hallo {{1}}, mit dem Code {{2}} gibt es heute ein Stück Kuchen gratis.")
	step(t, ctx, "samples", chromedp.SendKeys(chromedp.CSS("#f-sample_1"), "Mia"), chromedp.SendKeys(chromedp.CSS("#f-sample_2"), `{{env "X"}}`),
		chromedp.SendKeys(chromedp.CSS("#f-footer"), "Café Rosa, Lindenstraße 3"))
	waitExact(t, ctx, `[data-testid="preview-body"]`, `Hallo Mia, mit dem Code {{env "X"}} gibt es heute ein Stück Kuchen gratis.`)
	waitExact(t, ctx, `[data-testid="preview-footer"]`, "Café Rosa, Lindenstraße 3")
	if got := textOf(t, ctx, "#c-body"); !strings.HasPrefix(got, "70 / 1024") {
		t.Errorf("body counter %q", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){document.getElementById("f-sample_2").value=""; return true})()`)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "real sample", chromedp.SendKeys(chromedp.CSS("#f-sample_2"), "SOMMER26"))
	waitExact(t, ctx, `[data-testid="preview-body"]`, "Hallo Mia, mit dem Code SOMMER26 gibt es heute ein Stück Kuchen gratis.")
	screenshot(t, ctx, "template-editor")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "template-editor-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "save", chromedp.Click(chromedp.CSS(`[data-testid="save-template"]`)), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	if got := textOf(t, ctx, `[data-testid="template-state"]`); got != "Draft" {
		t.Errorf("state %q", got)
	}
	step(t, ctx, "submit", chromedp.Click(chromedp.CSS(`[data-testid="submit-template"]`)))
	waitExact(t, ctx, `[data-testid="template-state"]`, "In review")
	screenshot(t, ctx, "template-detail")
	// The sandbox approves within seconds; the page shows it on a reload.
	deadline := time.Now().Add(30 * time.Second)
	for state := ""; state != "Approved"; {
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox's verdict never arrived: state %q", state)
		}
		step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="template-state"]`)))
		state = textOf(t, ctx, `[data-testid="template-state"]`)
	}
	screenshot(t, ctx, "template-approved")
	step(t, ctx, "list", chromedp.Navigate(base+"/templates"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="templates-table"]`)))
	if got := textOf(t, ctx, `[data-testid="templates-table"] .tpl-name`); got != "summer_cake" {
		t.Errorf("list shows %q", got)
	}
	screenshot(t, ctx, "template-list")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "template-list-phone")
}
