package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// logoPNG draws a square logo: a sun on the brand green.
func logoPNG(size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	r := float64(size) * 0.3
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(x-size/2), float64(y-size/2)
			c := color.RGBA{11, 110, 79, 255}
			if dx*dx+dy*dy < r*r {
				c = color.RGBA{250, 196, 60, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// registerPDF is a one-page PDF with a line of text, built with a correct
// cross-reference table so viewers render it.
func registerPDF() []byte {
	content := "BT /F1 18 Tf 60 760 Td (Handelsregister B - HRB 12345 B) Tj 0 -28 Td (Kraus Backwaren GmbH, Berlin) Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// browserLogin logs in through the form and waits for landing.
func browserLogin(t *testing.T, ctx context.Context, base, email, wait string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"] #f-email`))); err != nil {
		t.Fatalf("login page: %v", err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-email": email, "#f-password": testPassword}, `form[action="/login"] button.primary`, wait); err != nil {
		t.Fatalf("log in %s: %v", email, err)
	}
}

func browserLogout(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`))); err != nil {
		t.Fatalf("log out: %v", err)
	}
}

func step(t *testing.T, ctx context.Context, what string, acts ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestBrowserProfileVerificationJourney: the owner completes the profile
// (watching the live preview), uploads a photo and a document and asks
// for the badge; the administrator refuses with a reason; the owner sees
// it and the date re-filing opens, fixes the request 31 days later and
// resubmits; the administrator sees what changed and approves; the badge
// shows.
func TestBrowserProfileVerificationJourney(t *testing.T) {
	a := newApp(t)
	a.ensureAdmin()
	a.signup("Bäckerei Kraus", "anna@kraus.example")
	ctx := newBrowser(t)
	base := a.ts.URL
	dir := t.TempDir()
	photo, doc := filepath.Join(dir, "logo.png"), filepath.Join(dir, "handelsregister.pdf")
	if err := os.WriteFile(photo, logoPNG(400), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, registerPDF(), 0o600); err != nil {
		t.Fatal(err)
	}

	browserLogin(t, ctx, base, "anna@kraus.example", `[data-testid="verification-state"]`)
	// Legal details first, so the sender number can be typed nationally.
	step(t, ctx, "legal page", chromedp.Navigate(base+"/profile/legal"), chromedp.WaitVisible(chromedp.CSS("#f-legal_name")),
		chromedp.SetValue(chromedp.CSS("#f-country"), "DE"))
	if err := fillAndSubmit(ctx, map[string]string{"#f-legal_name": "Kraus Backwaren GmbH", "#f-registered_address": "Hauptstraße 1, 10115 Berlin",
		"#f-vat_id": "DE 123 456 789", "#f-time_zone": "Europe/Berlin"}, `[data-testid="save-legal"]`, ".flash-success"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "profile-legal")

	// The messaging profile, with the preview following the typing.
	step(t, ctx, "profile page", chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS("#f-about")),
		chromedp.SendKeys(chromedp.CSS("#f-about"), "Frisches Brot ab 6 Uhr"))
	if got := textOf(t, ctx, `[data-testid="preview-about"]`); got != "Frisches Brot ab 6 Uhr" {
		t.Fatalf("live preview shows %q", got)
	}
	if got := textOf(t, ctx, "#c-about"); !strings.HasPrefix(got, "22 / 139") {
		t.Errorf("counter %q", got)
	}
	step(t, ctx, "category", chromedp.SetValue(chromedp.CSS("#f-vertical"), "RESTAURANT"))
	if err := fillAndSubmit(ctx, map[string]string{"#f-description": "Familienbäckerei seit 1962. Sauerteig, Brezeln und Kuchen.",
		"#f-address": "Hauptstraße 1, 10115 Berlin", "#f-email": "hallo@kraus.example", "#f-website1": "https://kraus.example",
		"#f-phone": "030 901820"}, `[data-testid="save-profile"]`, ".flash-success"); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "photo", chromedp.SetUploadFiles(chromedp.CSS("#f-photo"), []string{photo}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-photo"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="photo-current"]`)))
	if got := textOf(t, ctx, `[data-testid="preview-name"]`); got != "Bäckerei Kraus" {
		t.Errorf("preview name %q", got)
	}
	screenshot(t, ctx, "profile-preview")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "profile-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}

	// The badge request with one document.
	step(t, ctx, "verification page", chromedp.Navigate(base+"/verification"), chromedp.WaitVisible(chromedp.CSS("#f-document")),
		chromedp.SetUploadFiles(chromedp.CSS("#f-document"), []string{doc}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-document"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="document-list"]`)))
	if err := fillAndSubmit(ctx, map[string]string{"#f-registration_number": "HRB 12345"}, `[data-testid="submit-request"]`, ".status-pending"); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "verification-pending")
	browserLogout(t, ctx)

	// The administrator refuses with a reason.
	browserLogin(t, ctx, base, "admin@example.com", `[data-testid="admin-business-count"]`)
	step(t, ctx, "queue", chromedp.Navigate(base+"/admin/verification"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="queue"]`)))
	screenshot(t, ctx, "admin-queue")
	step(t, ctx, "open review", chromedp.Click(chromedp.CSS(`[data-testid="queue"] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="submitted-data"]`)))
	screenshot(t, ctx, "admin-review")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "admin-review-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-reason": "The register number lacks the court (e.g. Amtsgericht Charlottenburg)."},
		`[data-testid="reject"]`, ".flash-success"); err != nil {
		t.Fatal(err)
	}
	browserLogout(t, ctx)

	// The owner reads the reason and when re-filing opens.
	browserLogin(t, ctx, base, "anna@kraus.example", `[data-testid="verification-state"]`)
	step(t, ctx, "rejected status", chromedp.Navigate(base+"/verification"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="rejection-reason"]`)))
	if got := textOf(t, ctx, `[data-testid="rejection-reason"]`); !strings.Contains(got, "lacks the court") {
		t.Fatalf("reason %q", got)
	}
	opens := a.clock.Now().Add(30 * 24 * time.Hour).Format("2 Jan 2006")
	if got := textOf(t, ctx, `[data-testid="refile-date"]`); !strings.Contains(got, opens) {
		t.Fatalf("refile date %q, want %s", got, opens)
	}
	screenshot(t, ctx, "verification-rejected")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "verification-rejected-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}

	// 31 days later the owner fixes the request and files it again.
	a.clock.Advance(31 * 24 * time.Hour)
	browserLogin(t, ctx, base, "anna@kraus.example", `[data-testid="verification-state"]`)
	step(t, ctx, "form again", chromedp.Navigate(base+"/verification"), chromedp.WaitVisible(chromedp.CSS("#f-registration_number")))
	if err := fillAndSubmit(ctx, map[string]string{"#f-registration_number": "HRB 12345 B (Amtsgericht Charlottenburg)"},
		`[data-testid="submit-request"]`, ".status-pending"); err != nil {
		t.Fatal(err)
	}
	browserLogout(t, ctx)

	// The administrator sees what changed and approves.
	browserLogin(t, ctx, base, "admin@example.com", `[data-testid="admin-business-count"]`)
	step(t, ctx, "queue again", chromedp.Navigate(base+"/admin/verification"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="queue"] a`)),
		chromedp.Click(chromedp.CSS(`[data-testid="queue"] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="diff"]`)))
	if got := textOf(t, ctx, `[data-testid="diff"]`); !strings.Contains(got, "Amtsgericht Charlottenburg") {
		t.Fatalf("diff %q", got)
	}
	screenshot(t, ctx, "admin-review-resubmission")
	step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".flash-success")))
	browserLogout(t, ctx)

	// The badge shows for the owner: header, status and preview.
	browserLogin(t, ctx, base, "anna@kraus.example", ".biz .badge-verified")
	step(t, ctx, "verified profile", chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-badge"]`)))
	screenshot(t, ctx, "profile-verified")
	// Typing a new display name opens the warning before anything is saved.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){document.getElementById("f-display_name").value = ""; return true})()`)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "rename warning", chromedp.SendKeys(chromedp.CSS("#f-display_name"), "Kraus Backstube"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reverify-warning"]`)))
	screenshot(t, ctx, "profile-reverify-warning")
	if visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="preview-badge"]').offsetParent !== null`)); err != nil || visible {
		t.Errorf("preview still shows the badge for the new name (%v)", err)
	}
	step(t, ctx, "save without ticking", chromedp.Click(chromedp.CSS(`[data-testid="save-profile"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-confirm_reverify"]`)))
	if got := textOf(t, ctx, `[data-testid="preview-name"]`); got != "Kraus Backstube" {
		t.Errorf("preview after refused save %q", got)
	}
	if b, _ := businessOf(t, a, "anna@kraus.example"); !b.Verified() {
		t.Error("badge removed without confirmation")
	}
}
