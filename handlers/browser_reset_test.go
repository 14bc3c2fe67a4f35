package handlers_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPasswordReset looks at the reset pages at 1280 and 390 px:
// "Forgot password?" with and without mail, the owner's link box on the
// team page, the reset form and the page of a spent link.
func TestBrowserPasswordReset(t *testing.T) {
	ctx := newBrowser(t)
	a := newApp(t)
	owner := a.signup("Café Lambda", "owner@lambda.example")
	a.staff(owner, "staff.with.a.rather.long.address@lambda.example")
	path, _ := makeStaffResetLink(t, owner, "staff.with.a.rather.long.address@lambda.example")
	base := a.ts.URL

	// The owner's view of the link box: log the browser in as the owner.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="forgot-link"]`))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{`#f-email`: "owner@lambda.example", `#f-password`: testPassword}, `form[action="/login"] button[type=submit]`, `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/team"), chromedp.WaitVisible(chromedp.CSS(`form[action$="/reset-link"] button`))); err != nil {
		t.Fatal(err)
	}
	// The button asks for confirmation; accept it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true, true`)); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `form[action$="/reset-link"] button`, `[data-testid="reset-link-box"]`); err != nil {
		t.Fatal(err)
	}
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-testid="reset-link"]`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "reset-link-box-1280")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "reset-link-box-390")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="forgot-link"]`))); err != nil {
		t.Fatal(err)
	}

	u, _ := url.Parse(link)
	for _, w := range []struct {
		name  string
		setup func() error
	}{{"1280", func() error { return desktop(ctx) }}, {"390", func() error { return phone(ctx) }}} {
		if err := w.setup(); err != nil {
			t.Fatal(err)
		}
		a.mail.off = false
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/forgot"), chromedp.WaitVisible(chromedp.CSS(`#f-email`))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "forgot-"+w.name)
		a.mail.off = true
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/forgot"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="forgot-ask"]`))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "forgot-nomail-"+w.name)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+u.Path), chromedp.WaitVisible(chromedp.CSS(`#f-password`))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "reset-"+w.name)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`[data-testid="reset-invalid"]`))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, "reset-invalid-"+w.name)
	}
	// Set the password in the browser; the log-in page says what to do.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+u.Path), chromedp.WaitVisible(chromedp.CSS(`#f-password`))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{`#f-password`: "browser new passphrase"}, `form[action^="/reset/"] button[type=submit]`, `.flash-success`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `.flash-success`); !strings.Contains(got, "staff.with.a.rather.long.address@lambda.example") {
		t.Errorf("flash %q", got)
	}
	screenshot(t, ctx, "reset-done-390")
}
