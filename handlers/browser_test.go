package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium for one test. Without Chromium the
// test is skipped, except under CI=true, where a missing browser fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required in CI: %v", err)
		}
		t.Skipf("no Chromium at %s; browser test skipped", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where journeys save their PNGs: SCREENSHOT_DIR, or
// handlers/testdata/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	return dir
}

// screenshot saves a full-page PNG named name.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}

// phone resizes the viewport to a 390 px wide phone for the next steps.
func phone(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.EmulateViewport(390, 844))
}

// desktop restores the desktop viewport.
func desktop(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
}

// textOf returns the trimmed text of the first node matching sel.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// fillAndSubmit types values into inputs by CSS selector, clicks submit
// and waits until waitFor (an element of the next page) is visible.
func fillAndSubmit(ctx context.Context, fields map[string]string, submit, waitFor string) error {
	var acts []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		js := fmt.Sprintf(`(function(){var e=document.querySelector(%q); if(!e) return false; e.value=""; return true})()`, sel)
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
			return fmt.Errorf("clear %s: %v (found %v)", sel, err, ok)
		}
		acts = append(acts, chromedp.SendKeys(chromedp.CSS(sel), v))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(submit)), chromedp.WaitVisible(chromedp.CSS(waitFor)))
	return chromedp.Do(ctx, acts...)
}

// TestBrowserFoundationJourney: sign up, log out, log in, invite a member,
// the member joins, log out — through real Chromium.
func TestBrowserFoundationJourney(t *testing.T) {
	a := newApp(t)
	a.ensureAdmin()
	ctx := newBrowser(t)
	base := a.ts.URL

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-business_name"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "foundation-signup")
	if err := fillAndSubmit(ctx, map[string]string{"#f-business_name": "Blumen Berger", "#f-name": "Berta Berger",
		"#f-email": "berta@blumen.example", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, "h1"); got != "Blumen Berger" {
		t.Fatalf("dashboard heading %q", got)
	}
	screenshot(t, ctx, "foundation-dashboard")

	// Log out and back in.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "berta@blumen.example", "#f-password": "wrong password!"}, "button.primary", `[data-testid="login-error"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="login-error"]`); !strings.Contains(got, "not correct") {
		t.Fatalf("login error %q", got)
	}
	screenshot(t, ctx, "foundation-login-error")
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "berta@blumen.example", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}

	// Invite a staff member.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/team"), chromedp.WaitVisible(chromedp.CSS("#f-email"))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "carl@blumen.example"}, `form[action="/team/invitations"] button`, `[data-testid="invite-link"]`); err != nil {
		t.Fatal(err)
	}
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-testid="invite-link"]`)))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "foundation-team-invite")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "foundation-team-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`))); err != nil {
		t.Fatal(err)
	}

	// The invitee opens the link and joins.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#f-name"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "foundation-invite-accept")
	if err := fillAndSubmit(ctx, map[string]string{"#f-name": "Carl Clausen", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/team"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="member-carl@blumen.example"]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`))); err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(url, "/login") {
		t.Fatalf("after logout at %s", url)
	}
}

// TestBrowserAdminSuspends: the administrator finds a business, suspends
// it with a reason and reads the audit log.
func TestBrowserAdminSuspends(t *testing.T) {
	a := newApp(t)
	a.signup("Spam & Co", "spam@example.com")
	ctx := newBrowser(t)
	base := a.ts.URL
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email"))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "admin@example.com", "#f-password": testPassword}, "button.primary", `[data-testid="admin-business-count"]`); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "admin-home")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/businesses"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "admin-businesses")
	if err := fillAndSubmit(ctx, map[string]string{`input[name="reason"]`: "Reported for unsolicited offers"}, `form[action$="/suspend"] button`, ".flash-success"); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, ".flash-success"); !strings.Contains(got, "suspended") {
		t.Fatalf("flash %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-table"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="audit-table"] tbody tr:first-child`); !strings.Contains(got, "business.suspended") || !strings.Contains(got, "unsolicited") {
		t.Fatalf("audit row %q", got)
	}
	screenshot(t, ctx, "admin-audit")
}
