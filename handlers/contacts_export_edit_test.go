package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

func TestContactsExportCSV(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	c.primeCSRF("/contacts/new")
	for _, name := range []string{`=HYPERLINK("http://x","y")`, "+1+1", "-2", "@SUM(1)", "<script>alert(1)</script>"} {
		phone := fmt.Sprintf("+4915199%06d", len(name))
		if p := c.post("/contacts", vals("phone", phone, "country", "DE", "name", name, "tags", "export")); p.Status != http.StatusSeeOther {
			t.Fatalf("create %q: %d %s", name, p.Status, p.Doc.Find(".error").Text())
		}
	}
	seedContacts(t, tn, 1)
	list := c.get("/contacts?tag=export")
	if strings.Contains(list.Body, "<script>alert(1)</script>") || !strings.Contains(list.Text(`[data-testid="contacts-table"]`), "<script>alert(1)</script>") {
		t.Error("a name with markup must be shown as text")
	}
	href, _ := list.Doc.Find(`[data-testid="export-link"]`).Attr("href")
	if href != "/contacts/export?tag=export" {
		t.Errorf("export link %q", href)
	}
	p := c.get(href)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(p.Header.Get("Content-Disposition"), "attachment") || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export: %d %v", p.Status, p.Header)
	}
	if !strings.HasPrefix(p.Body, "\ufeffphone,name,") {
		t.Errorf("no BOM or header: %q", p.Body[:30])
	}
	for _, want := range []string{`'=HYPERLINK(""http://x"",""y"")`, ",'+1+1,", ",'-2,", ",'@SUM(1),", "<script>alert(1)</script>"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("export lacks %q:\n%s", want, p.Body)
		}
	}
	if strings.Contains(p.Body, "Kunde 0") {
		t.Error("the filter was not applied")
	}
	if lines := strings.Count(p.Body, "\r\n"); lines != 6 {
		t.Errorf("lines = %d, want header + 5", lines)
	}
	semi := c.get("/contacts/export?tag=export&sep=semicolon")
	if !strings.HasPrefix(semi.Body, "\ufeffphone;name;") {
		t.Errorf("semicolon export: %q", semi.Body[:30])
	}
	events, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: tn.BusinessID(), Action: "contacts.exported"})
	if len(events) != 2 || events[0].Detail != "rows=5" {
		t.Errorf("export audit: %+v", events)
	}
}

func TestContactPagesAccessible(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	ids := seedContacts(t, tn, 3)
	seg, err := contacts.CreateSegment(context.Background(), tn, contacts.SegmentInput{Name: "Gerade", All: []string{"even"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := contacts.OptOut(context.Background(), tn, ids[1], contacts.OptOutManual, "user:1"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/contacts", "/contacts?tag=even&sort=name", "/contacts/new", contactPath(ids[0], ""), contactPath(ids[1], ""), contactPath(ids[0], "/edit"),
		contactPath(ids[0], "/opt-out"), contactPath(ids[0], "/delete"), "/segments", "/segments/new", fmt.Sprintf("/segments/%d", seg.ID)} {
		p := c.get(path)
		if p.Status != http.StatusOK {
			t.Errorf("%s: %d", path, p.Status)
			continue
		}
		checkA11y(t, path, p)
	}
	c.primeCSRF("/contacts/new")
	checkA11y(t, "new contact with errors", c.post("/contacts", vals("phone", "x")))
	checkA11y(t, "bulk with errors", c.post("/contacts/bulk", vals("action", "")))
}

// TestEditContact: the edit form shows the stored fields, refuses bad
// input field by field without losing what was typed or saving anything,
// and saves a good edit (found by search under the new name; the audit log
// names the fields, not their values). The number is shown, not editable.
func TestEditContact(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	ids := seedContacts(t, tn, 1)
	ctx := context.Background()
	if _, err := contacts.Update(ctx, tn, ids[0], contacts.ContactEdit{Name: "Kunde 0", Attrs: map[string]string{"kundennr": "K-1", "ort": "Köln"}}); err != nil {
		t.Fatal(err)
	}
	path := contactPath(ids[0], "/edit")
	form := c.get(path)
	if form.Status != http.StatusOK || form.Value(`input[name="name"]`) != "Kunde 0" || form.Text(`textarea[name="attr_kundennr"]`) != "K-1" ||
		form.Text(`[data-testid="fixed-phone"]`) == "" || form.Has(`input[name="phone"]`) {
		t.Fatalf("edit form: %d name %q attr %q", form.Status, form.Value(`input[name="name"]`), form.Text(`textarea[name="attr_kundennr"]`))
	}
	if !c.get(contactPath(ids[0], "")).Has(`a[data-testid="edit-link"][href="` + path + `"]`) {
		t.Error("the contact page has no link to the edit form")
	}

	bad := c.post(path, vals("name", "Anna Berg", "email", "anna@", "language", "klingonisch", "attr_kundennr", "K-1", "attr_ort", "",
		"attr_new_key", "Kunden Nummer", "attr_new_value", "x"))
	if bad.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit: %d", bad.Status)
	}
	for field, want := range map[string]string{"email": "e-mail", "language": "language", "attr_new_key": "starts with a letter"} {
		if got := bad.Text(`[data-testid="error-` + field + `"]`); !strings.Contains(strings.ToLower(got), want) {
			t.Errorf("error at %s = %q, want it to mention %q", field, got, want)
		}
	}
	if bad.Value(`input[name="name"]`) != "Anna Berg" || bad.Value(`input[name="attr_new_key"]`) != "Kunden Nummer" {
		t.Error("the form lost what was typed")
	}
	if got, _ := contacts.ByID(ctx, tn, ids[0]); got.Name != "Kunde 0" || got.Attrs["ort"] != "Köln" {
		t.Errorf("a refused edit changed the contact: %+v", got)
	}
	// A good name with only the new attribute's name wrong: refused whole.
	if p := c.post(path, vals("name", "Neu", "attr_kundennr", "K-1", "attr_ort", "Köln", "attr_new_key", "Bad Key", "attr_new_value", "x")); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad new attribute name: %d", p.Status)
	}
	if got, _ := contacts.ByID(ctx, tn, ids[0]); got.Name != "Kunde 0" {
		t.Errorf("a refused edit saved the name: %q", got.Name)
	}
	if p := c.post(path, vals("attr_kundennr", "K-1", "attr_ort", "Köln", "attr_new_key", "ort", "attr_new_value", "Bonn")); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Text(`[data-testid="error-attr_new_key"]`), "already has") {
		t.Errorf("new attribute named like an existing one: %d %q", p.Status, p.Text(`[data-testid="error-attr_new_key"]`))
	}

	ok := c.post(path, vals("name", "", "first_name", "Anna", "last_name", "Berg", "email", "Anna@Example.com", "language", "Deutsch",
		"attr_kundennr", "K-2", "attr_ort", "", "attr_new_key", "stadtteil", "attr_new_value", "Ehrenfeld"))
	if ok.Status != http.StatusSeeOther || ok.Location != contactPath(ids[0], "") {
		t.Fatalf("good edit: %d %s %q", ok.Status, ok.Location, ok.Text(`[data-testid="form-errors"]`))
	}
	shown := c.get(ok.Location)
	if shown.Text(".flash-success") != "Contact saved." || shown.Text(`[data-testid="contact-name"]`) != "Anna Berg" {
		t.Errorf("after saving: flash %q, name %q", shown.Text(".flash-success"), shown.Text(`[data-testid="contact-name"]`))
	}
	got, _ := contacts.ByID(ctx, tn, ids[0])
	if got.Email != "Anna@Example.com" || got.Language != "de" || got.Attrs["kundennr"] != "K-2" || got.Attrs["stadtteil"] != "Ehrenfeld" || got.Attrs["ort"] != "" {
		t.Errorf("stored: %+v", got)
	}
	if !c.get("/contacts?q=berg").Has(`[data-testid="contact-+4915100000000"]`) || c.get("/contacts?q=kunde").Has(`[data-testid="contact-+4915100000000"]`) {
		t.Error("search does not follow the new name")
	}
	events, _ := a.db.AuditLog(ctx, models.AuditFilter{BusinessID: tn.BusinessID(), Action: "contact.updated"})
	if len(events) != 1 || events[0].Detail != "fields=name,first_name,last_name,email,language,attributes" {
		t.Errorf("audit: %+v", events)
	}
}

// TestErrorPageNavigation: an error page shows a member the same
// navigation as every other page, without links to areas not built yet.
func TestErrorPageNavigation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	p := c.get("/contacts/999999")
	if p.Status != http.StatusNotFound {
		t.Fatalf("status %d", p.Status)
	}
	if !p.Has(`nav a[href="/contacts"]`) || !p.Has(`nav a[href="/campaigns"]`) || !p.Has(`nav a[href="/billing"]`) {
		t.Errorf("navigation on an error page: %q", p.Text("nav"))
	}
}
