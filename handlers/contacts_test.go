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
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// tenantOf is the business of the user with email.
func (a *app) tenantOf(email string) models.Tenant {
	a.t.Helper()
	ctx := context.Background()
	u, err := a.db.UserByEmail(ctx, email)
	if err != nil {
		a.t.Fatal(err)
	}
	m, err := a.db.MembershipOf(ctx, u.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	tn, err := a.db.Tenant(m.BusinessID)
	if err != nil {
		a.t.Fatal(err)
	}
	return tn
}

// seedContacts imports n contacts +4915100000000.. named "Kunde i",
// opted in, tagged "even" for even i.
func seedContacts(t *testing.T, tn models.Tenant, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	rows := make([]importer.Contact, n)
	for i := range rows {
		rows[i] = importer.Contact{Row: i + 2, Phone: fmt.Sprintf("+49151%08d", i), Name: fmt.Sprintf("Kunde %d", i)}
		when := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		rows[i].OptInAt, rows[i].OptInSource = &when, importer.SourceWebForm
		if i%2 == 0 {
			rows[i].Tags = []string{"even"}
		}
	}
	if _, err := contacts.ApplyImportBatch(ctx, tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		c, err := contacts.ByPhone(ctx, tn, fmt.Sprintf("+49151%08d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

func contactPath(id int64, suffix string) string { return fmt.Sprintf("/contacts/%d%s", id, suffix) }

func TestContactsNavAndEmptyBook(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	p := c.get("/contacts")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	if !p.Has(`nav a[href="/contacts"][aria-current="page"]`) {
		t.Error("no active Contacts nav item")
	}
	if !p.Has(`[data-testid="contacts-empty-book"]`) {
		t.Error("no empty-book message")
	}
	staff := a.staff(c, "staff@laden.example")
	if p := staff.get("/contacts/new"); p.Status != http.StatusOK {
		t.Errorf("staff: new contact form status %d", p.Status)
	}
	if p := staff.get("/segments"); p.Status != http.StatusOK {
		t.Errorf("staff: segments status %d", p.Status)
	}
}

func TestAddContactErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/new")
	good := func(kv ...string) url.Values {
		v := vals("phone", "0151 2345 6789", "country", "DE", "name", "Anna Müller")
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"phone missing", good("phone", ""), "phone", "This field is required."},
		{"letters", good("phone", "call me"), "phone", "Write the number in digits only."},
		{"too short", good("phone", "0151 12"), "phone", "too short for the country DE"},
		{"no country", good("phone", "0151 23456789", "country", ""), "phone", "Choose the country"},
		{"bad email", good("email", "anna@"), "email", "Enter an e-mail address"},
		{"bad language", good("language", "Klingonisch"), "language", "Enter a language"},
		{"long tag", good("tags", "ok, "+strings.Repeat("x", 51)), "tags", "at most 50 characters"},
		{"tag with bidi override", good("tags", "a\u202eb"), "tags", "control characters"},
		{"name with a control character", good("name", "A\x01B"), "name", "control or text-direction"}, // NUL: 400 at the boundary (hardening_body_test.go)
		{"long name", good("name", strings.Repeat("n", 201)), "name", "at most 200 characters"},
		{"consent source only", good("consent_source", "paper"), "consent_date", "Enter the day consent was given."},
		{"consent wording missing", good("consent_source", "paper", "consent_date", "2025-01-01"), "consent_wording", "Enter the wording"},
		{"consent date future", good("consent_source", "paper", "consent_date", "2030-01-01", "consent_wording", "ja"), "consent_date", "cannot be in the future"},
		{"consent date bad", good("consent_source", "paper", "consent_date", "1.1.25", "consent_wording", "ja"), "consent_date", "Enter a date like"},
		{"consent date old", good("consent_source", "paper", "consent_date", "1999-12-31", "consent_wording", "ja"), "consent_date", "before the year 2000"},
		{"consent source unknown", good("consent_source", "telepathy", "consent_date", "2025-01-01", "consent_wording", "ja"), "consent_source", "Choose one of the listed ways."},
		{"consent date only", good("consent_date", "2025-01-01"), "consent_source", "Choose how the person gave consent."},
	}
	for _, tc := range cases {
		p := c.post("/contacts", tc.form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", tc.name, p.Status)
			continue
		}
		if got := p.Text(`[data-testid="error-` + tc.field + `"]`); !strings.Contains(got, tc.want) {
			t.Errorf("%s: error-%s = %q, want %q", tc.name, tc.field, got, tc.want)
		}
		if !p.Has(`[data-testid="form-errors"]`) {
			t.Errorf("%s: no form error summary", tc.name)
		}
		if v, _ := p.Doc.Find(`#f-name`).Attr("value"); v != tc.form.Get("name") && !strings.Contains(tc.form.Get("name"), "\x00") {
			t.Errorf("%s: typed name not kept: %q", tc.name, v)
		}
	}
	p := c.post("/contacts", good("consent_source", "in_store", "consent_date", "2025-06-01", "consent_wording", "Ja, per WhatsApp.", "tags", "VIP, Stammkunde", "email", "anna@example.com"))
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/contacts/") {
		t.Fatalf("create: %d %s: %s", p.Status, p.Location, p.Doc.Find(".error").Text())
	}
	page := c.get(p.Location)
	if got, _ := page.Doc.Find(`[data-testid="contact-phone"]`).Attr("data-e164"); got != "+4915123456789" {
		t.Errorf("phone shown %q", got)
	}
	if got := page.Text(`[data-testid="contact-state"]`); got != "Opted in" {
		t.Errorf("state %q", got)
	}
	if got := page.Text(`[data-testid="contact-tags"]`); !strings.Contains(got, "vip") || !strings.Contains(got, "stammkunde") {
		t.Errorf("tags %q", got)
	}
	if got := page.Text(`[data-testid="consent-history"] tbody`); !strings.Contains(got, "In store") || !strings.Contains(got, "Ja, per WhatsApp.") || !strings.Contains(got, "Owner of Laden") {
		t.Errorf("history %q", got)
	}
	// The messages sent to the contact are a real list (none yet), not a
	// placeholder.
	if page.Has(`[data-testid="messages"]`) || !strings.Contains(page.Text(`[data-testid="contact-messages"]`), "No messages were sent to this contact yet.") {
		t.Errorf("the contact page's messages: %q", page.Text(`[data-testid="contact-messages"]`))
	}
	dup := c.post("/contacts", good("phone", "+49 151 23456789"))
	if dup.Status != http.StatusUnprocessableEntity || !strings.Contains(dup.Text(`[data-testid="error-phone"]`), "already in your contacts") {
		t.Errorf("duplicate: %d %q", dup.Status, dup.Text(`[data-testid="error-phone"]`))
	}
	if href, _ := dup.Doc.Find(`[data-testid="existing-contact"]`).Attr("href"); href != p.Location {
		t.Errorf("link to the existing contact = %q, want %q", href, p.Location)
	}
	if noConsent := c.post("/contacts", vals("phone", "+43 664 1234567", "country", "DE")); noConsent.Status != http.StatusSeeOther {
		t.Errorf("a contact without consent can be saved: %d", noConsent.Status)
	}
}

func TestContactPageActions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	ids := seedContacts(t, tn, 2)
	path := contactPath(ids[0], "")
	c.primeCSRF(path)

	if p := c.post(path+"/tags", vals("tag", "")); p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-tag"]`) != "This field is required." {
		t.Errorf("empty tag: %d %q", p.Status, p.Text(`[data-testid="error-tag"]`))
	}
	if p := c.post(path+"/tags", vals("tag", "a;b")); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(`[data-testid="error-tag"]`), "cannot contain commas") {
		t.Errorf("bad tag: %d %q", p.Status, p.Text(`[data-testid="error-tag"]`))
	}
	if p := c.postFollow(path+"/tags", vals("tag", "Gold")); !strings.Contains(p.Text(`[data-testid="contact-tags"]`), "gold") {
		t.Errorf("tag not added: %q", p.Text(`[data-testid="contact-tags"]`))
	}
	if p := c.postFollow(path+"/tags/remove", vals("tag", "gold")); strings.Contains(p.Text(`[data-testid="contact-tags"]`), "gold") {
		t.Error("tag not removed")
	}

	p := c.get(path + "/opt-out")
	if p.Status != http.StatusOK || !p.Has(`[data-testid="confirm-submit"]`) {
		t.Fatalf("opt-out confirmation: %d", p.Status)
	}
	p = c.postFollow(path+"/opt-out", nil)
	if got := p.Text(`[data-testid="contact-state"]`); got != "Opted out" {
		t.Errorf("state after opt-out %q", got)
	}
	if got := p.Text(`[data-testid="consent-history"] tbody tr:first-child`); !strings.Contains(got, "Opted out by the team") || !strings.Contains(got, "Owner of Laden") {
		t.Errorf("history after opt-out %q", got)
	}
	if p.Has(`[data-testid="opt-out-link"]`) {
		t.Error("an opted-out contact still offers Opt out")
	}
	bad := c.post(path+"/consent", vals("consent_source", "paper", "consent_date", "2025-01-01", "consent_wording", "ja"))
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Text(`[data-testid="error-consent_date"]`), "opted out on") {
		t.Errorf("consent before the opt-out: %d %q", bad.Status, bad.Text(`[data-testid="error-consent_date"]`))
	}
	if p := c.post(path+"/consent", vals("consent_source", "", "consent_date", "", "consent_wording", "")); p.Status != http.StatusUnprocessableEntity ||
		p.Text(`[data-testid="error-consent_source"]`) == "" || p.Text(`[data-testid="error-consent_wording"]`) == "" {
		t.Errorf("empty consent: %d", p.Status)
	}
	a.clock.Advance(time.Minute)
	ok := c.postFollow(path+"/consent", vals("consent_source", "in_store", "consent_date", a.clock.Now().Format("2006-01-02"), "consent_wording", "Wieder angemeldet"))
	if got := ok.Text(`[data-testid="contact-state"]`); got != "Opted in" {
		t.Errorf("after new consent: %q", got)
	}

	p = c.get(path + "/delete")
	if p.Status != http.StatusOK || !strings.Contains(p.Text(`[data-testid="confirm"]`), "one-way fingerprint") {
		t.Errorf("delete confirmation: %d %q", p.Status, p.Text(`[data-testid="confirm"]`))
	}
	if p := c.post(path+"/delete", nil); p.Status != http.StatusSeeOther || p.Location != "/contacts" {
		t.Errorf("delete: %d %s", p.Status, p.Location)
	}
	if p := c.get(path); p.Status != http.StatusNotFound {
		t.Errorf("deleted contact: %d", p.Status)
	}
	if s, _ := contacts.IsSuppressed(context.Background(), tn, "+4915100000000"); !s {
		t.Error("erasure lost the suppression")
	}
	events, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: tn.BusinessID(), Action: "contact."})
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if strings.Contains(e.Detail, "+4915100000000") || strings.Contains(e.Detail, "Kunde 0") {
			t.Errorf("audit detail holds personal data: %q", e.Detail)
		}
	}
	if got := strings.Join(actions, ","); got != "contact.erased,contact.opted_in,contact.opted_out" {
		t.Errorf("audit = %s", got)
	}
}

func TestBulkActionsThroughTheList(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	ids := seedContacts(t, tn, 6)
	c.primeCSRF("/contacts")
	errCases := []struct {
		form        url.Values
		field, want string
	}{
		{vals("action", "", "id", fmt.Sprint(ids[0])), "action", "Choose what to do"},
		{vals("action", "tag", "tag", "", "id", fmt.Sprint(ids[0])), "tag", "This field is required."},
		{vals("action", "tag", "tag", "x,y", "id", fmt.Sprint(ids[0])), "tag", "cannot contain commas"},
		{vals("action", "opt_out", "scope", "selected"), "ids", "Tick at least one contact"},
	}
	for _, ec := range errCases {
		p := c.post("/contacts/bulk", ec.form)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(`[data-testid="error-`+ec.field+`"]`), ec.want) {
			t.Errorf("%v: %d %q", ec.form, p.Status, p.Text(`[data-testid="error-`+ec.field+`"]`))
		}
	}
	kept := c.post("/contacts/bulk", vals("action", "tag", "tag", "", "id", fmt.Sprint(ids[1]), "f_q", "Kunde"))
	if _, ok := kept.Doc.Find(fmt.Sprintf(`input[name="id"][value="%d"]`, ids[1])).Attr("checked"); !ok {
		t.Error("ticked contacts not kept after an error")
	}
	if v, _ := kept.Doc.Find(`#q`).Attr("value"); v != "Kunde" {
		t.Errorf("filter not kept: %q", v)
	}

	p := c.post("/contacts/bulk", vals("action", "tag", "tag", "Sommer", "id", fmt.Sprint(ids[0]), "id", fmt.Sprint(ids[1])))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("tag selection: %d", p.Status)
	}
	if got := c.get(p.Location).Text(".flash-success"); got != "Tag “sommer” added to 2 contacts." {
		t.Errorf("flash %q", got)
	}
	p = c.post("/contacts/bulk", vals("action", "tag", "tag", "winter", "scope", "all", "f_tag", "even"))
	if got := c.get(p.Location).Text(".flash-success"); got != "Tag “winter” added to 3 contacts." {
		t.Errorf("tag by filter: %q", got)
	}
	list := c.get("/contacts?tag=winter")
	if got := list.Text(`[data-testid="contact-count"]`); got != "3 contacts" {
		t.Errorf("filtered count %q", got)
	}
	p = c.post("/contacts/bulk", vals("action", "untag", "tag", "winter", "scope", "all", "f_q", "Kunde 2"))
	if got := c.get(p.Location).Text(".flash-success"); got != "Tag “winter” removed from 1 contacts." {
		t.Errorf("untag by filter: %q", got)
	}

	confirm := c.post("/contacts/bulk", vals("action", "opt_out", "scope", "all", "f_tag", "even"))
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Text(`[data-testid="confirm"]`), "3 contacts will be opted out") {
		t.Fatalf("confirmation: %d %q", confirm.Status, confirm.Text(`[data-testid="confirm"]`))
	}
	if n, _ := contacts.Count(context.Background(), tn, contacts.ContactFilter{Consent: contacts.ConsentOptedOut}); n != 0 {
		t.Fatal("the confirmation step changed something")
	}
	form := vals()
	confirm.Doc.Find(`[data-testid="confirm"] form input`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		value, _ := s.Attr("value")
		form.Add(name, value)
	})
	p = c.post("/contacts/bulk", form)
	if got := c.get(p.Location).Text(".flash-success"); got != "3 contacts opted out." {
		t.Errorf("opt-out flash %q", got)
	}
	if n, _ := contacts.Count(context.Background(), tn, contacts.ContactFilter{Consent: contacts.ConsentOptedOut}); n != 3 {
		t.Errorf("opted out = %d", n)
	}
	p = c.post("/contacts/bulk", vals("action", "opt_out", "confirm", "yes", "id", fmt.Sprint(ids[1])))
	if got := c.get(p.Location).Text(".flash-success"); got != "1 contacts opted out." {
		t.Errorf("opt-out selection: %q", got)
	}
	events, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: tn.BusinessID(), Action: "contacts.bulk"})
	if len(events) != 5 {
		t.Errorf("bulk audit entries = %d, want 5", len(events))
	}
}

func TestContactListPagingSortAndSearch(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	seedContacts(t, a.tenantOf("owner@laden.example"), 120)
	p := c.get("/contacts?sort=name;drop%20table%20contacts")
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="contacts-table"] tbody tr`).Length() != 50 {
		t.Fatalf("injected sort: %d", p.Status)
	}
	if got := p.Text(`[data-testid="contact-count"]`); got != "120 contacts" {
		t.Errorf("count %q", got)
	}
	if p.Has(`[data-testid="prev-page"]`) {
		t.Error("first page offers Previous")
	}
	next, _ := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	p2 := c.get(next)
	if p2.Status != http.StatusOK || !p2.Has(`[data-testid="prev-page"]`) {
		t.Fatalf("second page: %d", p2.Status)
	}
	prev, _ := p2.Doc.Find(`[data-testid="prev-page"]`).Attr("href")
	back := c.get(prev)
	if back.Text(`[data-testid="contacts-table"] tbody tr:first-child`) != p.Text(`[data-testid="contacts-table"] tbody tr:first-child`) {
		t.Error("Previous does not lead back to the first page")
	}
	s := c.get("/contacts?q=" + url.QueryEscape("Kunde 11"))
	if got := s.Doc.Find(`[data-testid="contacts-table"] tbody tr`).Length(); got != 11 { // 11, 110..119
		t.Errorf("search rows = %d", got)
	}
	if got := s.Text(`[data-testid="contact-count"]`); got != "11 matches" {
		t.Errorf("search count %q", got)
	}
	if got := c.get("/contacts?q=Kunde").Text(`[data-testid="contact-count"]`); got != "More than 50 matches" {
		t.Errorf("broad search count %q", got)
	}
	byNumber := c.get("/contacts?q=" + url.QueryEscape("0151 00000042"))
	if !byNumber.Has(`[data-testid="contact-+4915100000042"]`) {
		t.Error("search by national number failed")
	}
	if p := c.get("/contacts?sort=oldest&q=Kunde"); p.Status != http.StatusOK || p.Text(`[data-testid="contact-count"]`) != "More than 50 matches" {
		t.Errorf("oldest first: %d", p.Status)
	}
	if p := c.get("/contacts?sort=name"); p.Status != http.StatusOK || p.Has(`option[value="name"]`) {
		t.Errorf("the retired name order must fall back to newest first and not be offered: %d", p.Status)
	}
	if p := c.get("/contacts?after=garbage&before=%27"); p.Status != http.StatusOK {
		t.Errorf("bad cursors: %d", p.Status)
	}
}

func TestContactsIsolation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ownerA := a.signup("A", "a@x.example")
	ownerB := a.signup("B", "b@x.example")
	tnA := a.tenantOf("a@x.example")
	ids := seedContacts(t, tnA, 2)
	seg, err := contacts.CreateSegment(context.Background(), tnA, contacts.SegmentInput{Name: "Alle"})
	if err != nil {
		t.Fatal(err)
	}
	ownerA.primeCSRF("/contacts")
	ownerB.primeCSRF("/contacts")
	id := ids[0]
	for _, path := range []string{contactPath(id, ""), contactPath(id, "/opt-out"), contactPath(id, "/delete"), contactPath(id, "/edit"),
		fmt.Sprintf("/segments/%d", seg.ID), fmt.Sprintf("/segments/%d/export", seg.ID), fmt.Sprintf("/contacts?segment=%d", seg.ID),
		fmt.Sprintf("/contacts/export?segment=%d", seg.ID)} {
		if p := ownerB.get(path); p.Status != http.StatusNotFound {
			t.Errorf("B GET %s: %d", path, p.Status)
		}
	}
	for _, pc := range []struct {
		path string
		form url.Values
	}{
		{contactPath(id, "/opt-out"), nil},
		{contactPath(id, "/delete"), nil},
		{contactPath(id, "/tags"), vals("tag", "hacked")},
		{contactPath(id, "/edit"), vals("name", "Hacked", "email", "b@x.example")},
		{contactPath(id, "/tags/remove"), vals("tag", "even")},
		{contactPath(id, "/consent"), vals("consent_source", "paper", "consent_date", "2025-01-01", "consent_wording", "x")},
		{fmt.Sprintf("/segments/%d", seg.ID), vals("name", "Mine")},
		{fmt.Sprintf("/segments/%d/delete", seg.ID), nil},
	} {
		if p := ownerB.post(pc.path, pc.form); p.Status != http.StatusNotFound {
			t.Errorf("B POST %s: %d", pc.path, p.Status)
		}
	}
	p := ownerB.post("/contacts/bulk", vals("action", "opt_out", "confirm", "yes", "id", fmt.Sprint(ids[0]), "id", fmt.Sprint(ids[1])))
	if got := ownerB.get(p.Location).Text(".flash-success"); got != "0 contacts opted out." {
		t.Errorf("B bulk on A's ids: %q", got)
	}
	if p := ownerB.get("/contacts/export"); strings.Contains(p.Body, "+4915100000000") {
		t.Error("B's export holds A's contact")
	}
	c, err := contacts.ByID(context.Background(), tnA, id)
	if err != nil || c.ConsentState != contacts.ConsentOptedIn || len(c.Tags) != 1 || c.Name != "Kunde 0" {
		t.Errorf("A's contact changed: %+v %v", c, err)
	}
	if s, _ := contacts.SegmentByID(context.Background(), tnA, seg.ID); s == nil || s.Name != "Alle" {
		t.Error("A's segment changed")
	}
}
