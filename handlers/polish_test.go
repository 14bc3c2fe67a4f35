package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/demo"
)

// TestCountsAndLanguagesInWords: a count of one is singular, and a
// contact's language is named, not shown as a raw code.
func TestCountsAndLanguagesInWords(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	when := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	rows := []importer.Contact{
		{Row: 2, Phone: "+4915100000001", Name: "Anna Berg", Language: "de", OptInAt: &when, OptInSource: importer.SourceWebForm},
		{Row: 3, Phone: "+4915100000002", Name: "Olena Koval", Language: "uk", OptInAt: &when, OptInSource: importer.SourceWebForm},
	}
	if _, err := contacts.ApplyImportBatch(context.Background(), tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
	s := c.get("/contacts?q=" + url.QueryEscape("Anna"))
	if got := s.Text(`[data-testid="contact-count"]`); got != "1 match" {
		t.Errorf("search count %q, want \"1 match\"", got)
	}
	list := c.get("/contacts")
	if got := list.Text(`[data-testid="contact-+4915100000001"]`); !strings.Contains(got, "German") {
		t.Errorf("list row %q does not name German", got)
	}
	if got := list.Text(`[data-testid="contact-+4915100000002"]`); !strings.Contains(got, "Ukrainian") || strings.Contains(got, "UK") {
		t.Errorf("list row %q does not name Ukrainian", got)
	}
	anna, err := contacts.ByPhone(context.Background(), tn, "+4915100000001")
	if err != nil {
		t.Fatal(err)
	}
	shown := c.get(contactPath(anna.ID, ""))
	found := false
	shown.Doc.Find("dd").Each(func(_ int, d *goquery.Selection) {
		if strings.TrimSpace(d.Text()) == "German" {
			found = true
		}
	})
	if !found {
		t.Errorf("contact page does not name the language German")
	}
}

// TestAuditLogInSentences: the audit log says what happened in words,
// naming the target, newest first (the demo's history is back-dated, so
// ids are not time order), and filters by a business's name.
func TestAuditLogInSentences(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	ctx := context.Background()
	if _, err := demo.Load(ctx, a.db); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(time.Minute)
	a.signup("Bäckerei Korn", "owner@korn.example")

	p := admin.get("/admin/audit")
	var sentences []string
	p.Doc.Find(`[data-testid="audit-sentence"]`).Each(func(_ int, s *goquery.Selection) { sentences = append(sentences, strings.TrimSpace(s.Text())) })
	all := strings.Join(sentences, "\n")
	for _, want := range []string{"Signed up Bäckerei Korn", "Rejected the verification request of Café Sonnenschein", "Submitted the verification request of Café Sonnenschein", "Declared the consent of the contacts in import #"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit log lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "verification.") || strings.Contains(all, "verification_request") {
		t.Errorf("raw keys in the audit log:\n%s", all)
	}
	// Newest first, ties by id.
	var prevAt time.Time
	var prevID int64
	rows := p.Doc.Find(`[data-testid="audit-table"] tbody tr`)
	if rows.Length() < 5 {
		t.Fatalf("only %d rows", rows.Length())
	}
	rows.Each(func(i int, r *goquery.Selection) {
		at, err := time.Parse(time.RFC3339, r.Find("time").AttrOr("datetime", ""))
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		var id int64
		if _, err := fmt.Sscanf(r.AttrOr("data-testid", ""), "audit-%d", &id); err != nil {
			t.Fatalf("row %d id: %v", i, err)
		}
		if i > 0 && (at.After(prevAt) || (at.Equal(prevAt) && id > prevID)) {
			t.Errorf("row %d (%s, #%d) after (%s, #%d)", i, at, id, prevAt, prevID)
		}
		prevAt, prevID = at, id
	})
	if first := strings.TrimSpace(rows.First().Find(`[data-testid="audit-sentence"]`).Text()); first != "Signed up Bäckerei Korn" {
		t.Errorf("newest entry %q", first)
	}

	// By name, accents folded; the id is still taken.
	byName := admin.get("/admin/audit?business=" + url.QueryEscape("sonnenschein"))
	cells := byName.Doc.Find(`[data-testid="audit-table"] tbody tr td:nth-child(4)`)
	if cells.Length() == 0 {
		t.Fatal("filter by name found nothing")
	}
	cells.Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) != "Café Sonnenschein" {
			t.Errorf("filtered row of %q", s.Text())
		}
	})
	if !byName.Has(`datalist#audit-businesses option[value="Bäckerei Korn"]`) {
		t.Error("the filter does not offer business names")
	}
	korn := a.tenantOf("owner@korn.example")
	byID := admin.get("/admin/audit?business=" + strconvFormat(korn.BusinessID()))
	if got := byID.Text(`[data-testid="audit-sentence"]`); got != "Signed up Bäckerei Korn" || byID.Doc.Find(`[data-testid="audit-sentence"]`).Length() != 1 {
		t.Errorf("filter by id: %q", got)
	}
	if none := admin.get("/admin/audit?business=nobody"); !none.Has(`[data-testid="audit-no-business"]`) {
		t.Error("no word for a name no business has")
	}
}

// TestFormsRedirectAndReload: an invitation redirects (303) to the team
// page, which shows the flash and the one-time link once; the address a
// refused form is shown at answers a GET (a reload) instead of 405.
func TestFormsRedirectAndReload(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Blumen Carl", "owner@carl.example")
	owner.primeCSRF("/team")
	p := owner.post("/team/invitations", vals("email", "nina@carl.example", "role", "staff"))
	if p.Status != http.StatusSeeOther || p.Location != "/team" {
		t.Fatalf("invitation: %d %q, want 303 to /team", p.Status, p.Location)
	}
	team := owner.get(p.Location)
	if team.Status != http.StatusOK || !strings.Contains(team.Text(".flash-success"), "nina@carl.example") {
		t.Errorf("team page after inviting: %d, flash %q", team.Status, team.Text(".flash-success"))
	}
	if link := team.Value(`[data-testid="invite-link"]`); !strings.Contains(link, "/invite/") {
		t.Errorf("invitation link not shown: %q", link)
	}
	if again := owner.get("/team"); again.Has(`[data-testid="invite-link"]`) || again.Has(".flash-success") {
		t.Error("the link or the flash is shown twice")
	}

	refused := owner.post("/team/invitations", vals("email", "not an address", "role", "staff"))
	if refused.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad invitation: %d", refused.Status)
	}
	if r := owner.getRaw("/team/invitations"); r.Status == http.StatusMethodNotAllowed || r.Status >= 400 {
		t.Errorf("reloading the invitation form's address: %d", r.Status)
	} else if r.Status == http.StatusSeeOther && r.Location != "/team" {
		t.Errorf("reload leads to %q", r.Location)
	}

	admin := a.admin()
	completeProfile(t, owner)
	reqID := submitRequest(t, a, owner, "owner@carl.example")
	admin.primeCSRF(reviewPath(reqID))
	if p := admin.post(reviewPath(reqID)+"/reject", vals("revision", "1", "reason", " ")); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("reject without reason: %d", p.Status)
	}
	r := admin.getRaw(reviewPath(reqID) + "/reject")
	if r.Status == http.StatusMethodNotAllowed || r.Status >= 400 {
		t.Fatalf("reloading the refused rejection: %d", r.Status)
	}
	if r.Status == http.StatusSeeOther && r.Location != reviewPath(reqID) {
		t.Errorf("reload leads to %q", r.Location)
	}
	if back := admin.get(reviewPath(reqID)); back.Status != http.StatusOK {
		t.Errorf("review page: %d", back.Status)
	}
}
