package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// TestBrowserHardeningPages looks at the pages the hardening round
// changed, at 1280 and 390 px: an import whose portal was killed (the
// resuming note instead of a time left), the contact list with a likely
// landline, and a staff member's dashboard while the badge request is
// pending (the news, no link to the owners' page).
func TestBrowserHardeningPages(t *testing.T) {
	ctx := newBrowser(t)
	a := newApp(t)
	owner := a.signup("Laden", "owner@laden.example")
	a.staff(owner, "staff@laden.example")
	path := startImport(t, owner)
	id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/contacts/imports/"), 10, 64)
	bid := actorBusiness(t, a, "owner@laden.example")
	tn, _ := a.db.Tenant(bid)
	bg := context.Background()
	if _, err := imports.StartRun(bg, tn, id); err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Claim(bg, tn, id, ""); err != nil { // a run that dies
		t.Fatal(err)
	}
	if _, err := imports.RecordBatch(bg, tn, id, 0, imports.ImportBatchDelta{RowsDone: 1, Imported: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.Create(bg, tn, contacts.ContactInput{Phone: "030 1234567", Region: "DE", Name: "Praxis Berlin"}, "user:1"); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(models.WorkStale + time.Second)

	browserLogin(t, ctx, a.ts.URL, "owner@laden.example", "main")
	step(t, ctx, "stalled import", chromedp.Navigate(a.ts.URL+path), chromedp.WaitVisible(chromedp.CSS(`[data-testid="progress-note"]`)))
	if got := textOf(t, ctx, `[data-testid="progress-note"]`); !strings.Contains(got, "picks up where it stopped") {
		t.Errorf("stalled import says %q", got)
	}
	screenshot(t, ctx, "import-stalled")
	must(t, phone(ctx))
	screenshot(t, ctx, "import-stalled-phone")
	must(t, desktop(ctx))

	step(t, ctx, "contact list", chromedp.Navigate(a.ts.URL+"/contacts"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="landline-badge"]`)))
	if got := textOf(t, ctx, `[data-testid="landline-badge"]`); got == "" {
		t.Error("no landline mark in the list")
	}
	screenshot(t, ctx, "contacts-landline")
	must(t, phone(ctx))
	screenshot(t, ctx, "contacts-landline-phone")
	must(t, desktop(ctx))
	browserLogout(t, ctx)

	if err := a.db.Gorm.Model(&models.Business{}).Where("id = ?", bid).Update("verification_state", models.VerificationPending).Error; err != nil {
		t.Fatal(err)
	}
	browserLogin(t, ctx, a.ts.URL, "staff@laden.example", `[data-testid="dashboard-next"]`)
	if got := textOf(t, ctx, `[data-testid="dashboard-next"]`); !strings.Contains(got, "being reviewed") {
		t.Errorf("staff dashboard while pending says %q", got)
	}
	screenshot(t, ctx, "dashboard-staff-pending")
	must(t, phone(ctx))
	screenshot(t, ctx, "dashboard-staff-pending-phone")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
