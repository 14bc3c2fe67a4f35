package handlers_test

import (
	"strings"
	"testing"
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
	if !strings.Contains(p.Text("main"), "decided today") {
		t.Error("no decided-today figure")
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
