package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/models/contacts"
)

// tableFit is how a page's table sits in its card: the card's right edge
// and the page's width, and the table's width against the card's.
type tableFit struct {
	CardRight, PageWidth       float64
	TableWidth, CardInnerWidth float64
	OverflowX                  string
}

func measureTable(ctx context.Context, wrap string) (tableFit, error) {
	js := fmt.Sprintf(`(() => { const w = document.querySelector(%q); const r = w.getBoundingClientRect();
		return {CardRight: r.right, PageWidth: document.documentElement.clientWidth,
			TableWidth: w.scrollWidth, CardInnerWidth: w.clientWidth, OverflowX: getComputedStyle(w).overflowX}; })()`, wrap)
	return chromedp.Run(ctx, chromedp.Evaluate[tableFit](js))
}

// TestBrowserTablesFitTheirCards: the contact table, with long names,
// e-mail addresses and many tags, fits its card at 1280 px and scrolls
// inside the card (never past the page) at 390 px (issue 8, item 10).
func TestBrowserTablesFitTheirCards(t *testing.T) {
	a := newApp(t)
	a.signup("Blumenhaus Königswinter-Oberdollendorf", "owner@blumen.example")
	tn := a.tenantOf("owner@blumen.example")
	for i, in := range []contacts.ContactInput{
		{Name: "Maximiliane Alexandra von Hohenstein-Wittgenstein", Email: "maximiliane.alexandra.vonhohenstein@verwaltung-koenigswinter.example",
			Tags: "stammkunde, newsletter, hochzeit-2026, grosskunde, vip", Language: "de"},
		{Name: "Ζωή Παπαδοπούλου-Κωνσταντινίδου", Email: "zoe.papadopoulou@example.gr", Tags: "griechenland, sommer", Language: "el"},
		{Name: "Олександра Шевченко", Email: "o.shevchenko@example.ua", Language: "uk"},
	} {
		in.Phone, in.Region = fmt.Sprintf("+4915112340%03d", i), "DE"
		in.Consent = contacts.ConsentInput{Source: "web_form", Date: "2025-11-01", Wording: "Ja, ich möchte Angebote per WhatsApp erhalten."}
		if _, err := contacts.Create(context.Background(), tn, in, "user:1"); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newBrowser(t)
	base := a.ts.URL
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email"))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "owner@blumen.example", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/contacts"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="contacts-table"]`))); err != nil {
		t.Fatal(err)
	}
	const wrap = `.tablewrap:has([data-testid="contacts-table"])`
	f, err := measureTable(ctx, wrap)
	if err != nil {
		t.Fatal(err)
	}
	if f.CardRight > f.PageWidth || f.TableWidth > f.CardInnerWidth+1 {
		t.Errorf("1280 px: the contact table does not fit its card: %+v", f)
	}
	screenshot(t, ctx, "contacts-long-values")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = desktop(ctx) }()
	if f, err = measureTable(ctx, wrap); err != nil {
		t.Fatal(err)
	}
	if f.CardRight > f.PageWidth+0.5 || (f.TableWidth > f.CardInnerWidth+1 && f.OverflowX != "auto") {
		t.Errorf("390 px: the contact table runs past the page or cannot scroll in its card: %+v", f)
	}
	screenshot(t, ctx, "contacts-long-values-phone")
}
