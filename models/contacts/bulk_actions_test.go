package contacts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

func TestBulkActionsOnSelectionAndFilter(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	other := ctTenant(t, db, "B")
	seedBook(t, tn, 12)
	seedBook(t, other, 12)
	ctx := context.Background()
	a0, _ := contacts.ByPhone(ctx, tn, "+4915100000000")
	a1, _ := contacts.ByPhone(ctx, tn, "+4915100000001")
	b1, _ := contacts.ByPhone(ctx, other, "+4915100000001")
	n, err := contacts.BulkTag(ctx, tn, contacts.Selection{IDs: []int64{a0.ID, a1.ID, b1.ID}}, " Gold ")
	if err != nil || n != 2 {
		t.Fatalf("tag selection: %d %v (another business's id must not count)", n, err)
	}
	if got := contactOf(t, other, "+4915100000001"); len(got.Tags) != 0 {
		t.Errorf("another business's contact was tagged: %v", got.Tags)
	}
	n, err = contacts.BulkTag(ctx, tn, contacts.Selection{Filter: &contacts.ContactFilter{Tags: []string{"even"}}}, "gold")
	if err != nil || n != 5 { // 6 even, one (0) had it already
		t.Errorf("tag filter: %d %v", n, err)
	}
	n, err = contacts.BulkUntag(ctx, tn, contacts.Selection{Filter: &contacts.ContactFilter{Query: "Person 00"}}, "gold")
	if err != nil || n != 6 { // "Person 00" matches Person 000..009; gold on 0,1,2,4,6,8
		t.Errorf("untag filter: %d %v", n, err)
	}
	if _, err := contacts.BulkTag(ctx, tn, contacts.Selection{}, "x"); !errors.Is(err, contacts.ErrEmptySelection) {
		t.Errorf("empty selection: %v", err)
	}
	if _, err := contacts.BulkTag(ctx, tn, contacts.Selection{IDs: []int64{a0.ID}}, "a,b"); err == nil {
		t.Error("a tag with a comma must be refused")
	}
	sel := contacts.Selection{Filter: &contacts.ContactFilter{Tags: []string{"three"}}} // 0,3,6,9
	if n, _ := contacts.CountOptOutable(ctx, tn, sel); n != 4 {
		t.Errorf("opt-outable = %d", n)
	}
	n, err = contacts.BulkOptOut(ctx, tn, sel, contacts.OptOutBulk, "user:9")
	if err != nil || n != 4 {
		t.Fatalf("bulk opt-out: %d %v", n, err)
	}
	if n, _ := contacts.BulkOptOut(ctx, tn, sel, contacts.OptOutBulk, "user:9"); n != 0 {
		t.Errorf("again: %d, want 0", n)
	}
	for _, ph := range []string{"+4915100000003", "+4915100000009"} {
		c := contactOf(t, tn, ph)
		if c.ConsentState != contacts.ConsentOptedOut {
			t.Errorf("%s: %s", ph, c.ConsentState)
		}
		if s, _ := contacts.IsSuppressed(ctx, tn, ph); !s {
			t.Errorf("%s not suppressed", ph)
		}
		hist, _ := contacts.ConsentHistory(ctx, tn, c.ID)
		if len(hist) == 0 || hist[0].Kind != "opt_out" || hist[0].RecordedBy != "user:9" {
			t.Errorf("%s history: %+v", ph, hist)
		}
	}
	if s, _ := contacts.IsSuppressed(ctx, other, "+4915100000003"); s {
		t.Error("the opt-out leaked into another business")
	}
	if c := contactOf(t, other, "+4915100000003"); c.ConsentState != contacts.ConsentOptedIn {
		t.Errorf("another business's contact: %s", c.ConsentState)
	}
	// A segment-based selection (whose condition excludes suppressed
	// numbers) is marked by its events, not re-evaluated.
	rule := contacts.SegmentRule{All: contacts.TagList{"even"}}
	n, err = contacts.BulkOptOut(ctx, tn, contacts.Selection{Filter: &contacts.ContactFilter{Segment: &rule}}, "", "user:9")
	if err != nil || n != 3 { // even with consent, not yet out: 2,4,8
		t.Errorf("segment opt-out: %d %v", n, err)
	}
	if c := contactOf(t, tn, "+4915100000004"); c.ConsentState != contacts.ConsentOptedOut {
		t.Errorf("segment member not opted out: %s", c.ConsentState)
	}
}

func TestOptOutPhoneWithoutContactAndRepeat(t *testing.T) {
	t.Parallel()
	db, clock := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	stop := clock.Now().Add(-time.Hour)
	if err := contacts.OptOutPhone(ctx, tn, "+4917011112222", contacts.OptOutReply, "webhook", stop); err != nil {
		t.Fatal(err)
	}
	if err := contacts.OptOutPhone(ctx, tn, "+4917011112222", contacts.OptOutReply, "webhook", stop); err != nil {
		t.Fatal(err)
	}
	var events int64
	db.Gorm.Model(&contacts.ConsentEvent{}).Where("business_id = ?", tn.BusinessID()).Count(&events)
	if events != 1 {
		t.Errorf("a repeated STOP wrote %d events, want 1", events)
	}
	if s, _ := contacts.IsSuppressed(ctx, tn, "+4917011112222"); !s {
		t.Error("not suppressed")
	}
	if err := contacts.OptOutPhone(ctx, tn, "0170", "x", "webhook", stop); err == nil {
		t.Error("a number not in E.164 form must be refused")
	}
	c := mustContact(t, tn, contacts.ContactInput{Phone: "+4917011112222", Name: "Later"})
	if c.ConsentState != contacts.ConsentOptedOut {
		t.Errorf("a new contact for a suppressed number: %s", c.ConsentState)
	}
	hist, _ := contacts.ConsentHistory(ctx, tn, c.ID)
	if len(hist) != 1 || hist[0].Kind != "opt_out" {
		t.Errorf("the STOP should show in the new contact's history: %+v", hist)
	}
	// Consent dated before the STOP is refused; today's consent works.
	_, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: "+4917011113333"}, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := contacts.OptOutPhone(ctx, tn, "+4917011113333", contacts.OptOutButton, "webhook", clock.Now()); err != nil {
		t.Fatal(err)
	}
	c3, _ := contacts.ByPhone(ctx, tn, "+4917011113333")
	err = contacts.RecordOptIn(ctx, tn, c3.ID, contacts.ConsentInput{Source: "in_store", Date: "2026-03-01", Wording: "ja"}, "user:1")
	if v, ok := models.AsValidation(err); !ok || !v.Has("consent_date") {
		t.Errorf("consent before the opt-out: %v", err)
	}
	clock.Advance(time.Minute)
	if err := contacts.RecordOptIn(ctx, tn, c3.ID, contacts.ConsentInput{Source: "in_store", Date: clock.Now().Format("2006-01-02"), Wording: "ja"}, "user:1"); err != nil {
		t.Fatalf("today's consent after this morning's opt-out: %v", err)
	}
	if s, _ := contacts.IsSuppressed(ctx, tn, "+4917011113333"); s {
		t.Error("new consent should lift the suppression")
	}
}

func TestDeleteContactKeepsSuppression(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	c := mustContact(t, tn, contacts.ContactInput{Phone: "+4915155554444", Name: "Erika Mustermann", Email: "erika@example.com", Tags: "vip, newsletter",
		Consent: contacts.ConsentInput{Source: "paper", Date: "2025-02-02", Wording: "Ja"}})
	other := ctTenant(t, db, "B")
	if err := contacts.Delete(ctx, other, c.ID, "user:2"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another business deleting: %v", err)
	}
	if err := contacts.Delete(ctx, tn, c.ID, "user:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.ByID(ctx, tn, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("contact still there: %v", err)
	}
	var left int64
	db.Gorm.Table("contacts").Where("phone = ? OR name = ? OR email = ?", "+4915155554444", "Erika Mustermann", "erika@example.com").Count(&left)
	db.Gorm.Table("contact_tags").Where("contact_id = ?", c.ID).Count(&left)
	if left != 0 {
		t.Errorf("personal data left: %d rows", left)
	}
	if s, _ := contacts.IsSuppressed(ctx, tn, "+4915155554444"); !s {
		t.Error("the suppression must outlive the erasure")
	}
	var events []contacts.ConsentEvent
	db.Gorm.Where("business_id = ?", tn.BusinessID()).Order("id").Find(&events)
	if len(events) != 2 || events[0].ContactID != nil || events[1].Kind != "opt_out" || events[1].Source != contacts.OptOutErasure {
		t.Errorf("events after erasure: %+v", events)
	}
	var audit int64
	db.Gorm.Table("suppressions").Where("phone_hash = ?", contacts.PhoneHash("+4915155554444")).Count(&audit)
	if audit != 1 {
		t.Errorf("suppressions = %d", audit)
	}
	// An old list cannot bring the person back; new consent can.
	res, err := contacts.ApplyImportBatch(ctx, tn, 3, []importer.Contact{withConsent(row(2, "+4915155554444", "Erika"), "2025-02-02T00:00:00Z", "paper")}, contacts.DuplicateUpdate, "")
	if err != nil || res.Suppressed != 1 {
		t.Errorf("re-import with old consent: %+v %v", res, err)
	}
}

func TestExportNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	rows := []importer.Contact{
		{Row: 2, Phone: "+4915100000001", Name: `=HYPERLINK("http://x","y")`, Tags: []string{"vip"}, Attrs: map[string]string{"note": "@SUM(1)"}},
		{Row: 3, Phone: "+4915100000002", Name: "+1+1", Email: "a@example.com"},
		{Row: 4, Phone: "+4915100000003", Name: "-2", OptInAt: at("2025-01-01T10:00:00Z"), OptInSource: "web_form"},
		{Row: 5, Phone: "+4915100000004", Name: "@SUM(1)", Attrs: map[string]string{"=cmd": "x"}},
		{Row: 6, Phone: "+4915100000005", Name: "Zoë \"Quote\", Müller"},
	}
	if _, err := contacts.ApplyImportBatch(ctx, tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
	other := ctTenant(t, db, "B")
	seedBook(t, other, 3)
	var buf bytes.Buffer
	n, err := contacts.Export(ctx, tn, &buf, contacts.ExportSpec{})
	if err != nil || n != 5 {
		t.Fatalf("export: %d %v", n, err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\xef\xbb\xbf")) {
		t.Error("no UTF-8 byte order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	if head[0] != "phone" || head[len(head)-2] != "'=cmd" || head[len(head)-1] != "note" {
		t.Errorf("header = %v", head)
	}
	byName := map[string][]string{}
	for _, r := range recs[1:] {
		byName[r[1]] = r
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q would be a formula", cell)
			}
		}
	}
	for _, name := range []string{`'=HYPERLINK("http://x","y")`, "'+1+1", "'-2", "'@SUM(1)", `Zoë "Quote", Müller`} {
		if _, ok := byName[name]; !ok {
			t.Errorf("name %q not exported as such; got %v", name, byName)
		}
	}
	if r := byName[`'=HYPERLINK("http://x","y")`]; r[0] != "'+4915100000001" || r[6] != "vip" || r[len(r)-1] != "'@SUM(1)" {
		t.Errorf("row = %v", r)
	}
	if r := byName["'-2"]; r[7] != "opted_in" || r[8] != "2025-01-01T10:00:00Z" || r[9] != "web_form" {
		t.Errorf("consent columns = %v", r)
	}
	buf.Reset()
	if _, err := contacts.Export(ctx, tn, &buf, contacts.ExportSpec{Semicolon: true, Filter: contacts.ContactFilter{Tags: []string{"vip"}}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\r\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "phone;name;") {
		t.Errorf("semicolon export of one tag: %q", lines)
	}
}
