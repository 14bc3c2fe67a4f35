package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

// TestLegalAndVerificationAreOwnersOnly: the legal details, the
// verification page and its documents are the owners' (README). Staff are
// denied each page, document and action the way every owner-only route
// denies them (403 and an access.denied audit entry), see no links to
// them, and owners and administrators keep them.
func TestLegalAndVerificationAreOwnersOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	staff := a.staff(owner, "jonas@kraus.example")
	owner.primeCSRF("/verification")
	if p := owner.upload("/verification/documents", "document", "register.pdf", pdfDoc()); p.Status != http.StatusSeeOther {
		t.Fatalf("owner upload: %d", p.Status)
	}
	b, tn := businessOf(t, a, "anna@kraus.example")
	docs, _ := profiles.CurrentDocuments(context.Background(), tn)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	docURL := "/verification/documents/" + strconv.FormatInt(docs[0].ID, 10)

	staff.primeCSRF("/profile")
	denied := 0
	for _, path := range []string{"/profile/legal", "/verification", docURL} {
		p := staff.getRaw(path)
		if p.Status != http.StatusForbidden {
			t.Errorf("staff GET %s: %d", path, p.Status)
		}
		denied++
		for _, mk := range []string{"register.pdf", "%PDF", `id="legal-form"`, `id="request-form"`} {
			if strings.Contains(p.Body, mk) {
				t.Errorf("staff GET %s shows %q", path, mk)
			}
		}
	}
	for path, v := range map[string]url.Values{
		"/profile/legal":        legalValues(),
		"/verification":         requestValues(),
		docURL + "/remove":      nil,
		"/profile/staff-access": vals("staff_can_edit", "1"),
	} {
		if p := staff.post(path, v); p.Status != http.StatusForbidden {
			t.Errorf("staff POST %s: %d", path, p.Status)
		}
		denied++
	}
	if p := staff.upload("/verification/documents", "document", "x.pdf", pdfDoc()); p.Status != http.StatusForbidden {
		t.Errorf("staff upload: %d", p.Status)
	}
	denied++
	ev, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: b.ID, Action: "access.denied"})
	if len(ev) < denied {
		t.Errorf("%d access.denied entries, want %d", len(ev), denied)
	}
	if d, err := profiles.Document(context.Background(), tn, docs[0].ID); err != nil || d.RemovedAt != nil {
		t.Errorf("document after staff removal: %+v %v", d, err)
	}

	// No links to them for staff: neither the profile's tabs nor the
	// checklist on the profile page and the dashboard.
	for _, path := range []string{"/profile", "/"} {
		p := staff.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("staff %s: %d", path, p.Status)
		}
		for _, sel := range []string{`a[href^="/profile/legal"]`, `a[href^="/verification"]`} {
			if p.Has(sel) {
				t.Errorf("staff %s links %s", path, sel)
			}
		}
	}
	if p := staff.get("/profile"); !p.Has(`[data-testid="todo-checklist.legal_name"]`) {
		t.Error("staff checklist lost the legal-name item (it stays, unlinked)")
	}

	// Owners keep the pages, the links and the document; administrators
	// keep the document.
	for _, path := range []string{"/profile/legal", "/verification", docURL} {
		if p := owner.getRaw(path); p.Status != http.StatusOK {
			t.Errorf("owner GET %s: %d", path, p.Status)
		}
	}
	p := owner.get("/profile")
	if !p.Has(`nav.subnav a[href="/profile/legal"]`) || !p.Has(`nav.subnav a[href="/verification"]`) {
		t.Error("owner's profile has no tabs to the legal details and verification")
	}
	if !p.Has(`[data-testid="todo-checklist.legal_name"] a[href="/profile/legal#f-legal_name"]`) {
		t.Error("owner's checklist does not link the legal details")
	}
	if p := admin.getRaw(docURL); p.Status != http.StatusOK {
		t.Errorf("admin GET document: %d", p.Status)
	}
	owner.primeCSRF("/profile/legal")
	if p := owner.post("/profile/legal", legalValues()); p.Status != http.StatusSeeOther {
		t.Errorf("owner legal save: %d %s", p.Status, p.Text(".error"))
	}
}
