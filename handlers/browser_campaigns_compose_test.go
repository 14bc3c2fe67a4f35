package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCampaignCompose: the owner picks the approved template,
// maps its variables (one with a fallback), picks a segment minus the
// team, first asks for a time Berlin skips (the page says so and keeps
// everything), then sends now; the review shows recipients by exclusion,
// three previews, the cost per country and the headroom — at 1280 and
// 390 px — and the confirmation opens the campaign's page.
func TestBrowserCampaignCompose(t *testing.T) {
	a := newApp(t)
	a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	ctx := newBrowser(t)
	base := a.ts.URL
	browserLogin(t, ctx, base, "anna@kraus.example", `nav a[href="/templates"]`)

	step(t, ctx, "wizard", chromedp.Navigate(base+"/campaigns/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="compose-form"]`)))
	screenshot(t, ctx, "campaign-compose-new")
	tplSel := `input[name="template_id"][value="` + strconv.FormatInt(b.tpl.ID, 10) + `"]`
	step(t, ctx, "template", chromedp.SendKeys(chromedp.CSS("#f-name"), "Frühlingsangebot"), chromedp.Click(chromedp.CSS(tplSel)),
		chromedp.Click(chromedp.CSS(`[data-testid="compose-refresh"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="var_body_2"]`)))
	step(t, ctx, "variables",
		chromedp.SetValue(chromedp.CSS("#f-var_header_1_source"), "first_name"),
		chromedp.SendKeys(chromedp.CSS("#f-var_header_1_fallback"), "Kundin"),
		chromedp.SetValue(chromedp.CSS("#f-var_body_1_source"), "first_name"),
		chromedp.SendKeys(chromedp.CSS("#f-var_body_1_fallback"), "liebe Kundin"),
		chromedp.SetValue(chromedp.CSS("#f-var_body_2_source"), "text"),
		chromedp.SendKeys(chromedp.CSS("#f-var_body_2_text"), "15 %"),
		chromedp.SetValue(chromedp.CSS("#f-var_url_0_source"), "attr"),
		chromedp.SendKeys(chromedp.CSS("#f-var_url_0_attr"), "code"),
		chromedp.Click(chromedp.CSS(`[data-testid="segment-Stammkunden"]`)),
		chromedp.SetValue(chromedp.CSS("#f-exclude_segment_id"), strconv.FormatInt(b.team.ID, 10)),
		chromedp.Click(chromedp.CSS(`[data-testid="send-later"]`)),
		chromedp.SetValue(chromedp.CSS("#f-send_at"), "2026-03-29T02:30"),
		chromedp.Click(chromedp.CSS(`[data-testid="compose-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-send_at"]`)))
	if got := textOf(t, ctx, `[data-testid="error-send_at"]`); !strings.Contains(got, "does not exist in Europe/Berlin") {
		t.Fatalf("gap message %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-var_body_1_fallback"))); v != "liebe Kundin" {
		t.Fatalf("fallback lost: %q", v)
	}
	screenshot(t, ctx, "campaign-compose-errors")
	step(t, ctx, "send now", chromedp.Click(chromedp.CSS(`[data-testid="send-now"]`)), chromedp.Click(chromedp.CSS(`[data-testid="compose-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="review-confirm"]`)))
	if got := textOf(t, ctx, `[data-testid="recipients"]`); got != "4 recipients of 9 contacts picked" {
		t.Fatalf("recipients %q", got)
	}
	if got := textOf(t, ctx, `[data-testid="cost-total"]`); got != "€0.45" {
		t.Fatalf("total %q", got)
	}
	screenshot(t, ctx, "campaign-review")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaign-review-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	// Confirmed: the sender takes it and the campaign's page follows.
	step(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-button"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="campaign-name"]`)))
	if got := textOf(t, ctx, `[data-testid="campaign-name"]`); got != "Frühlingsangebot" {
		t.Fatalf("campaign page %q", got)
	}
	screenshot(t, ctx, "campaign-confirmed")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "wizard phone", chromedp.Navigate(base+"/campaigns/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="compose-form"]`)))
	screenshot(t, ctx, "campaign-compose-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
}
