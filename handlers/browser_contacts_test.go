package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
)

// waitText polls the text of sel until it contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	// The browser itself waits (on each animation frame) until the element
	// shows the text; the page's own script updates it.
	// A poll does not outlive a navigation (the progress page moves on to
	// the result): then it starts again on the new page.
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q) })()`, sel, want)
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(time.Until(deadline)))); err == nil {
			break
		}
	}
	got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatalf("%s: %q, want %q (%v)", sel, got, want, err)
	}
	return got
}

// submitAndWait clicks a submit button and waits for the next page's
// element (the old page is marked, so its copy of sel does not count).
func submitAndWait(ctx context.Context, button, waitFor string) error {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.setAttribute("data-old-page", "1"), true`)); err != nil {
		return err
	}
	return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(`body:not([data-old-page]) `+waitFor)))
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name)
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, name+"-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserContactImportJourney: a shop owner uploads a messy German
// Excel file, fixes one column, declares consent, watches the import run
// to the end, reads the error report, then finds an imported contact and
// opts them out.
func TestBrowserContactImportJourney(t *testing.T) {
	a := newApp(t)
	a.startJobs()
	a.signup("Café Sonne", "owner@sonne.example")
	ctx := newBrowser(t)
	base := a.ts.URL

	// Batches of two rows; the job waits in its second batch until the
	// progress page has been seen mid-run.
	release := make(chan struct{})
	var batches atomic.Int32
	a.imports.BatchSize = 2
	a.imports.Hooks = &contactimport.Hooks{AfterApply: func(int64, importer.Batch) error {
		if batches.Add(1) == 2 {
			select {
			case <-release:
			case <-time.After(45 * time.Second):
			}
		}
		return nil
	}}
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	file := filepath.Join(t.TempDir(), "Kundenliste Laden.csv")
	if err := os.WriteFile(file, messyFile(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#f-email"))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": "owner@sonne.example", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}

	// Upload.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/contacts/imports/new"), chromedp.WaitVisible(chromedp.CSS("#f-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{file})); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "import-upload")
	if err := submitAndWait(ctx, `[data-testid="import-upload-form"] button[type=submit]`, `[data-testid="preview"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="preview-row-2"]`); !strings.Contains(got, "Jürgen Größe") || !strings.Contains(got, "+4915123456789") {
		t.Fatalf("preview row 2: %q", got)
	}

	// Map: the notes column is not needed; declare consent; update the preview.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#f-col_5"), "ignore"),
		chromedp.Click(chromedp.CSS("#consent-declaration")),
		chromedp.SetValue(chromedp.CSS("#f-consent_source"), "in_store"),
		chromedp.SetValue(chromedp.CSS("#f-consent_date"), "2025-11-01"),
		chromedp.Click(chromedp.CSS("#f-consent_confirm")),
	); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="update-preview"]`, `[data-testid="preview"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="preview-messageable"]`); !strings.HasPrefix(got, "3 ") {
		t.Errorf("messageable after the declaration: %q", got)
	}
	if notes, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-col_5"))); err != nil || notes != "ignore" {
		t.Errorf("changed column not kept: %q %v", notes, err)
	}
	shoot(t, ctx, "import-mapping")

	// Start and watch.
	if err := submitAndWait(ctx, `[data-testid="start-import"]`, `[data-import-progress]`); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, `[data-testid="rows-text"]`, "2 of 5 rows")
	waitText(t, ctx, `[data-testid="status-text"]`, "Importing")
	shoot(t, ctx, "import-progress-running")
	close(release)
	released = true
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-result"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="rows-text"]`); !strings.Contains(got, "5 of 5 rows (100 %)") {
		t.Errorf("rows at the end: %q", got)
	}
	shoot(t, ctx, "import-progress-done")
	progressURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/contacts/imports"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="imports-table"]`))); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "import-history")
	if err := chromedp.Do(ctx, chromedp.Navigate(progressURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-result"]`))); err != nil {
		t.Fatal(err)
	}

	// The error report, as the download link serves it.
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid="error-report"]`), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("report link: %v", err)
	}
	report, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.text())`, href.Value), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report, "row;field;reason;Telefonnummer") || !strings.Contains(report, `"'=HYPERLINK(""http://x"",""y"")"`) || !strings.Contains(report, "anna@example") {
		t.Errorf("report:\n%s", report)
	}

	// The contact book: find Zoë and opt her out.
	if err := submitAndWait(ctx, `[data-testid="contacts-link"]`, `[data-testid="contacts-table"]`); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "import-contacts-list")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "Weiß")); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `form[role="search"] button[type=submit]`, `[data-testid="contact-+491712345678"]`); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="contact-+491712345678"] a`, `[data-testid="contact-name"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="contact-name"]`); got != "Zoë Weiß" {
		t.Fatalf("contact %q", got)
	}
	// Fix the contact's details: a bad e-mail first, then a good one.
	if err := submitAndWait(ctx, `[data-testid="edit-link"]`, `[data-testid="edit-contact-form"]`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name="email"]`), "zoe@"),
		chromedp.SetValue(chromedp.CSS(`input[name="attr_new_key"]`), "kundennummer"),
		chromedp.SetValue(chromedp.CSS(`textarea[name="attr_new_value"]`), "K-4711")); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="edit-contact-form"] button[type=submit]`, `[data-testid="error-email"]`); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "contact-edit-error")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name="email"]`), "zoe.weiss@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `[data-testid="edit-contact-form"] button[type=submit]`, `[data-testid="contact-name"]`); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `.flash-success`); got != "Contact saved." {
		t.Errorf("after saving: %q", got)
	}
	shoot(t, ctx, "contact-page-edited")
	if err := submitAndWait(ctx, `[data-testid="opt-out-link"]`, `form[action$="/opt-out"] button[type=submit]`); err != nil {
		t.Fatal(err)
	}
	if err := submitAndWait(ctx, `form[action$="/opt-out"] button[type=submit]`, `[data-testid="contact-state"]`); err != nil {
		t.Fatal(err)
	}
	if got := strings.ToLower(textOf(t, ctx, `[data-testid="contact-state"]`)); !strings.Contains(got, "opted out") {
		t.Errorf("state after opting out: %q", got)
	}

	// The segment list of a large book fills in its counts after the page.
	if _, err := contacts.CreateSegment(context.Background(), a.tenantOf("owner@sonne.example"), contacts.SegmentInput{Name: "Alle"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/segments?counts=later")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function(){var c=document.querySelector('[data-testid="segment-count"]');return c && /^[0-9]/.test(c.textContent.trim());})()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("segment count not filled in: %v", err)
	}
	shoot(t, ctx, "segments-counted-later")
}
