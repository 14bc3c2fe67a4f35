package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
)

func TestDashboardShowsProfileChecklistUntilComplete(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Check GmbH", "check@example.com")
	p := owner.get("/")
	if !p.Has(`[data-testid="profile-checklist"]`) {
		t.Fatal("new business sees no checklist of missing profile fields")
	}
	if !p.Has(`a[href="/profile"]`) {
		t.Error("no link to the profile")
	}
}

func TestAdminHomeCountsVerificationQueue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	p := admin.get("/admin")
	if got := p.Text(`[data-testid="admin-pending-count"]`); got != "0" {
		t.Fatalf("pending count %q", got)
	}
	if !p.Has(`a[href="/admin/verification"]`) {
		t.Fatal("no link to the review queue")
	}
	if !strings.Contains(p.Text("main"), "Decided today: 0") {
		t.Error("no decided-today figure")
	}
	// The demo business has a request waiting.
	if _, err := demo.Load(context.Background(), a.db); err != nil {
		t.Fatal(err)
	}
	p = admin.get("/admin")
	if got := p.Text(`[data-testid="admin-pending-count"]`); got != "1" {
		t.Fatalf("pending count with the demo loaded %q", got)
	}
	if !strings.Contains(p.Text("main"), "Oldest submitted") {
		t.Error("no oldest-pending date")
	}
}

func TestContactSectionsLinkTheImportArea(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Tabs GmbH", "tabs@example.com")
	p := owner.get("/contacts")
	if !p.Has(`nav.subnav a[href="/contacts/imports"]`) || !p.Has(`a[href="/contacts/imports/new"]`) {
		t.Fatal("contacts page does not link the import area")
	}
	p = owner.get("/contacts/imports")
	if got := p.Text(`nav.subnav a[aria-current="page"]`); got != "Imports" {
		t.Fatalf("current tab on the imports page: %q", got)
	}
	if p := owner.getRaw("/imports/new"); p.Status != 404 {
		t.Fatalf("old import path still answers: %d", p.Status)
	}
}

// TestDashboardFollowsTheVerificationState: while a request waits the
// dashboard says so instead of "Before you can request…"; a verified
// business is not told to complete its profile (issue 8, item 14).
func TestDashboardFollowsTheVerificationState(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Stand GmbH", "stand@example.com")
	tn := a.tenantOf("stand@example.com")
	b, err := tn.Business(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := func(state string) {
		t.Helper()
		if err := a.db.Gorm.Model(&models.Business{}).Where("id = ?", b.ID).Update("verification_state", state).Error; err != nil {
			t.Fatal(err)
		}
	}
	set(models.VerificationPending)
	p := owner.get("/")
	if p.Has(`[data-testid="profile-checklist"]`) {
		t.Error("pending: the checklist for requesting the badge is still shown")
	}
	if got := p.Text(`[data-testid="dashboard-next"]`); !strings.Contains(got, "being reviewed") || !p.Has(`[data-testid="dashboard-next"] a[href="/verification"]`) {
		t.Errorf("pending: next step %q", got)
	}
	// Staff may not open the owners' verification page, so they get no
	// link to it, only the news.
	staff := a.staff(owner, "helper@stand.example")
	if p := staff.get("/"); !strings.Contains(p.Text(`[data-testid="dashboard-next"]`), "being reviewed") || p.Has(`a[href="/verification"]`) {
		t.Errorf("pending, staff: next step %q, link to /verification %v", p.Text(`[data-testid="dashboard-next"]`), p.Has(`a[href="/verification"]`))
	}
	set(models.VerificationVerified)
	p = owner.get("/")
	if p.Has(`[data-testid="profile-checklist"]`) || strings.Contains(p.Text("main"), "Complete your profile") {
		t.Error("verified: still asked to complete the profile")
	}
	if got := p.Text(`[data-testid="dashboard-next"]`); got != "View and edit your profile" {
		t.Errorf("verified: next step %q", got)
	}
	set(models.VerificationRejected)
	if p := owner.get("/"); !p.Has(`[data-testid="profile-checklist"]`) {
		t.Error("rejected: the checklist for a new request is missing")
	}
}
