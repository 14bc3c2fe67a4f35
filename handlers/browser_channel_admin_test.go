package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/templates"
)

// TestBrowserChannelPages looks at the pages of the messaging channel
// not covered by the template journey, at 1280 and 390 px: a contact's
// replies, and the administrators' business page with its sender form,
// the webhook review and every business's templates.
func TestBrowserChannelPages(t *testing.T) {
	ctx := newBrowser(t)
	a := newApp(t)
	a.ensureAdmin()
	a.signup("Café Rosa", "rosa@rosa.example")
	tn := a.tenantOf("rosa@rosa.example")
	setSender(t, a.db, tn, "4444444")
	bg := context.Background()
	c, err := contacts.Create(bg, tn, contacts.ContactInput{Phone: "+4915133333333", Name: "Alex Berger",
		Consent: contacts.ConsentInput{Source: "web_form", Date: "2026-01-02", Wording: "Angebote per WhatsApp"}}, "system")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := a.db.UserByEmail(bg, "rosa@rosa.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := templates.Create(bg, tn, owner, templates.Input{Name: "summer_cake", Language: "de", Category: channel.CategoryMarketing,
		Body: "Hallo {{1}}, heute gibt es Kuchen.", BodySamples: []string{"Mia"}}, ""); err != nil {
		t.Fatal(err)
	}
	a.postSigned(inboundBody("4444444", "4915133333333", map[string]any{"id": "wamid.c", "timestamp": "1772442000", "type": "text", "text": map[string]any{"body": "Habt ihr morgen offen?"}}))
	a.postSigned(statusBody("9999999", stat{ID: "wamid.x", Status: "delivered", TS: "1772442000", To: "4915100000000"})) // nobody's number
	a.process()

	browserLogin(t, ctx, a.ts.URL, "rosa@rosa.example", `[data-testid="verification-state"]`)
	step(t, ctx, "contact", chromedp.Navigate(a.ts.URL+"/contacts/"+strconv.FormatInt(c.ID, 10)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "Habt ihr morgen offen?") {
		t.Errorf("the contact page does not show the reply: %q", got)
	}
	screenshot(t, ctx, "contact-replies")
	must(t, phone(ctx))
	screenshot(t, ctx, "contact-replies-phone")
	must(t, desktop(ctx))
	browserLogout(t, ctx)

	browserLogin(t, ctx, a.ts.URL, "admin@example.com", `[data-testid="admin-pending-count"]`)
	for _, pg := range []struct{ path, name, want string }{
		{"/admin/businesses/" + strconv.FormatInt(tn.BusinessID(), 10), "admin-business-sender", "4444444"},
		{"/admin/webhooks", "admin-webhooks", "9999999"},
		{"/admin/templates", "admin-templates", "summer_cake"},
	} {
		step(t, ctx, pg.name, chromedp.Navigate(a.ts.URL+pg.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := textOf(t, ctx, "main"); !strings.Contains(got, pg.want) {
			t.Errorf("%s does not show %q", pg.path, pg.want)
		}
		screenshot(t, ctx, pg.name)
		must(t, phone(ctx))
		screenshot(t, ctx, pg.name+"-phone")
		must(t, desktop(ctx))
	}
}
