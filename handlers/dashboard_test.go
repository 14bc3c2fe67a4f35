package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/optline/optline/models"
)

func TestDashboardShowsProfileChecklistUntilComplete(t *testing.T) {
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
	if _, err := models.LoadDemo(context.Background(), a.db); err != nil {
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
