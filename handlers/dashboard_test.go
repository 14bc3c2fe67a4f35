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
