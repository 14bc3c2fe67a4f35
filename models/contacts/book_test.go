package contacts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// seedBook imports n contacts +4915100000000..n-1 named "Person <i>",
// tagged by i: even "even", i%3==0 "three"; every fifth without consent.
func seedBook(t *testing.T, tn models.Tenant, n int) {
	t.Helper()
	rows := make([]importer.Contact, n)
	for i := range rows {
		r := importer.Contact{Row: i + 2, Phone: fmt.Sprintf("+49151%08d", i), Name: fmt.Sprintf("Person %03d", i)}
		if i%2 == 0 {
			r.Tags = append(r.Tags, "even")
		}
		if i%3 == 0 {
			r.Tags = append(r.Tags, "three")
		}
		if i%5 != 0 {
			r.OptInAt, r.OptInSource = at("2025-01-01T00:00:00Z"), importer.SourceWebForm
		}
		rows[i] = r
	}
	if _, err := contacts.ApplyImportBatch(context.Background(), tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
}

func names(cs []contacts.Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func TestKeysetPaginationBothWays(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	seedBook(t, tn, 23)
	other := ctTenant(t, db, "B")
	seedBook(t, other, 5)
	ctx := context.Background()
	for _, sort := range []string{contacts.SortNewest, contacts.SortOldest} {
		t.Run(sort, func(t *testing.T) {
			var seen []string
			f := contacts.ContactFilter{Sort: sort, Limit: 10}
			var pages []contacts.ContactPage
			for {
				p, err := contacts.List(ctx, tn, f)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, p)
				seen = append(seen, names(p.Contacts)...)
				if p.Next == "" {
					break
				}
				f.After = p.Next
			}
			if len(pages) != 3 || len(seen) != 23 {
				t.Fatalf("pages=%d contacts=%d, want 3 pages of 23 contacts (no other business's)", len(pages), len(seen))
			}
			if pages[0].Prev != "" || pages[1].Prev == "" {
				t.Errorf("prev cursors: first %q second %q", pages[0].Prev, pages[1].Prev)
			}
			back, err := contacts.List(ctx, tn, contacts.ContactFilter{Sort: sort, Limit: 10, Before: pages[2].Prev})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(back.Contacts), names(pages[1].Contacts)) || back.Next == "" {
				t.Errorf("going back gave %v, want %v", names(back.Contacts), names(pages[1].Contacts))
			}
			first, _ := contacts.List(ctx, tn, contacts.ContactFilter{Sort: sort, Limit: 10, Before: pages[1].Prev})
			if first.Prev != "" || !reflect.DeepEqual(names(first.Contacts), names(pages[0].Contacts)) {
				t.Errorf("back to the first page: prev=%q %v", first.Prev, names(first.Contacts))
			}
		})
	}
}

func TestSortAllowList(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	seedBook(t, tn, 4)
	ctx := context.Background()
	want, err := contacts.List(ctx, tn, contacts.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"name", "name;drop table contacts", "phone", "id desc", "1", "name, (select 1)"} {
		if got := contacts.NormalizeSort(bad); got != contacts.SortNewest {
			t.Errorf("NormalizeSort(%q) = %q", bad, got)
		}
		p, err := contacts.List(ctx, tn, contacts.ContactFilter{Sort: bad})
		if err != nil {
			t.Fatalf("sort %q: %v", bad, err)
		}
		if !reflect.DeepEqual(names(p.Contacts), names(want.Contacts)) {
			t.Errorf("sort %q: %v, want the default order %v", bad, names(p.Contacts), names(want.Contacts))
		}
	}
	// A cursor made for another order, or garbage, starts at the top.
	for _, cur := range []string{"n5.YWJj", "x", "i-1", "i1; drop table contacts", strings.Repeat("i", 2000)} {
		p, err := contacts.List(ctx, tn, contacts.ContactFilter{After: cur})
		if err != nil || !reflect.DeepEqual(names(p.Contacts), names(want.Contacts)) {
			t.Errorf("cursor %q: %v %v", cur, err, names(p.Contacts))
		}
	}
	if n, _ := contacts.Count(ctx, tn, contacts.ContactFilter{}); n != 4 {
		t.Errorf("table still there with 4 contacts? count=%d", n)
	}
}

func TestSearchAndFilters(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	for _, in := range []contacts.ContactInput{
		{Phone: "+4915123456789", Name: "Anna Müller", Email: "anna@example.com", Language: "de", Tags: "vip"},
		{Phone: "0170 9876543", Region: "DE", Name: "Ömer Yıldız", Language: "tr"},
		{Phone: "+447911123456", Name: "Oliver Smith", Email: "oliver@example.co.uk", Language: "en"},
		{Phone: "+4915199999999", Name: "100% O_K"},
		{Phone: "+4917612345678", Name: "Kunde 42", Email: "4711kunde@example.com"},
		{Phone: "+34612345678", Name: "José García", Email: "josé@café-pinto.es"},
		{Phone: "+4915211111111", Name: "Jörg Straße"},
	} {
		mustContact(t, tn, in)
	}
	cases := map[string][]string{
		"müller":         {"Anna Müller"},
		"MÜL":            {"Anna Müller"},
		"anna mü":        {"Anna Müller"},
		"ller":           nil, // words match from their start
		"oliver@example": {"Oliver Smith"},
		"0151 2345":      {"Anna Müller"},
		"+49 151 234":    {"Anna Müller"},
		"004915123":      {"Anna Müller"},
		"1709876":        {"Ömer Yıldız"},
		"ömer":           {"Ömer Yıldız"},
		"7911 123":       {"Oliver Smith"},
		"100%":           {"100% O_K"},
		"o_k":            {"100% O_K"},
		"%":              nil,
		"'; drop table":  nil,
		// Words and digits together: the digits may start a number (with
		// or without its country code) or a word of the name or e-mail.
		"anna 49151":  {"Anna Müller"},
		"anna 1512":   {"Anna Müller"},
		"anna 170":    nil,
		"kunde 42":    {"Kunde 42"},
		"kunde 1761":  {"Kunde 42"},
		"42 #":        {"Kunde 42"}, // digits only, but not a number
		"4711kunde":   {"Kunde 42"},
		"kunde 4711k": {"Kunde 42"},
		// Accents and case are folded on both sides (issue 8, item 11).
		"muller":          {"Anna Müller"},
		"omer yildiz":     {"Ömer Yıldız"},
		"ÖMER":            {"Ömer Yıldız"},
		"example.com":     {"Kunde 42", "Anna Müller"}, // an e-mail domain is a word
		"example.co.uk":   {"Oliver Smith"},
		"garcia":          {"José García"},
		"jose":            {"José García"},
		"strasse":         {"Jörg Straße"},
		"Straße":          {"Jörg Straße"},
		"jorg":            {"Jörg Straße"},
		"jose@cafe-pinto": {"José García"},
	}
	for q, want := range cases {
		p, err := contacts.List(ctx, tn, contacts.ContactFilter{Query: q})
		if err != nil {
			t.Errorf("search %q: %v", q, err)
			continue
		}
		if got := names(p.Contacts); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	p, _ := contacts.List(ctx, tn, contacts.ContactFilter{Language: "tr"})
	if !reflect.DeepEqual(names(p.Contacts), []string{"Ömer Yıldız"}) {
		t.Errorf("language filter: %v", names(p.Contacts))
	}
	p, _ = contacts.List(ctx, tn, contacts.ContactFilter{Tags: []string{"VIP"}})
	if !reflect.DeepEqual(names(p.Contacts), []string{"Anna Müller"}) {
		t.Errorf("tag filter: %v", names(p.Contacts))
	}
	p, _ = contacts.List(ctx, tn, contacts.ContactFilter{Consent: contacts.ConsentNone, Sort: contacts.SortOldest})
	if len(p.Contacts) != 7 {
		t.Errorf("consent filter: %v", names(p.Contacts))
	}
	n, more, err := contacts.CountUpTo(ctx, tn, contacts.ContactFilter{}, 3)
	if err != nil || n != 3 || !more {
		t.Errorf("capped count = %d, %v, %v", n, more, err)
	}
}

func TestSegmentCountsMessageableOnly(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	seedBook(t, tn, 30) // consent for i%5 != 0
	ctx := context.Background()
	count := func(r contacts.SegmentRule) int64 {
		t.Helper()
		n, err := contacts.SegmentCount(ctx, tn, r)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Messageable: i%5 != 0 → 24 of 30.
	if n := count(contacts.SegmentRule{}); n != 24 {
		t.Errorf("everyone = %d, want 24", n)
	}
	// even & three = i%6==0: 0,6,12,18,24 → without 0 (no consent) = 4.
	if n := count(contacts.SegmentRule{All: contacts.TagList{"even", "three"}}); n != 4 {
		t.Errorf("all of even, three = %d, want 4", n)
	}
	// even or three: 20 numbers; minus those with i%5==0 (0,10,20,15,25 → 0,10,20 even; 15 three) = 16.
	if n := count(contacts.SegmentRule{Any: contacts.TagList{"even", "three"}}); n != 16 {
		t.Errorf("any of even, three = %d, want 16", n)
	}
	// not even: odd i with consent: 15 odd minus 5,15,25 = 12.
	if n := count(contacts.SegmentRule{None: contacts.TagList{"even"}}); n != 12 {
		t.Errorf("none of even = %d, want 12", n)
	}
	// Opting out removes from the count; so does a suppression alone.
	c, _ := contacts.ByPhone(ctx, tn, "+4915100000001")
	if err := contacts.OptOut(ctx, tn, c.ID, contacts.OptOutManual, "user:1"); err != nil {
		t.Fatal(err)
	}
	if n := count(contacts.SegmentRule{}); n != 23 {
		t.Errorf("after opt-out = %d, want 23", n)
	}
	if err := db.Gorm.Create(&contacts.Suppression{BusinessID: tn.BusinessID(), PhoneHash: contacts.PhoneHash("+4915100000002"), OptedOutAt: db.Now(), CreatedAt: db.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	if n := count(contacts.SegmentRule{}); n != 22 {
		t.Errorf("a suppression alone must keep a contact out: %d, want 22", n)
	}
	seg, err := contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "Even", All: []string{"Even"}})
	if err != nil {
		t.Fatal(err)
	}
	var streamed int
	if err := contacts.ForEachMessageable(ctx, tn, seg.ID, func(page []contacts.Recipient) error {
		streamed += len(page)
		for _, r := range page {
			if r.Phone == "+4915100000002" || r.Phone == "+4915100000000" {
				t.Errorf("streamed a contact that must not be messaged: %s", r.Phone)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := count(seg.Rule()); int64(streamed) != want {
		t.Errorf("streamed %d, count %d", streamed, want)
	}
	other := ctTenant(t, db, "B")
	if _, err := contacts.SegmentByID(ctx, other, seg.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another business's segment: %v", err)
	}
	if err := contacts.ForEachMessageable(ctx, other, seg.ID, func([]contacts.Recipient) error { return nil }); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another business's segment streamed: %v", err)
	}
}

func TestSegmentValidation(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	if _, err := contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "VIP", Any: []string{"vip, VIP ,gold"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in          contacts.SegmentInput
		field, want string
	}{
		{contacts.SegmentInput{Name: ""}, "name", "field.required"},
		{contacts.SegmentInput{Name: "vip"}, "name", "segment.name_taken"},
		{contacts.SegmentInput{Name: strings.Repeat("x", 101)}, "name", "field.too_long"},
		{contacts.SegmentInput{Name: "X", All: []string{strings.Repeat("t", 51)}}, "all_tags", "field.too_long"},
		{contacts.SegmentInput{Name: "X", All: []string{"a"}, None: []string{"A"}}, "none_tags", "segment.contradiction"},
	}
	for _, c := range cases {
		_, err := contacts.CreateSegment(ctx, tn, c.in)
		v, ok := models.AsValidation(err)
		if !ok || !v.Has(c.field) {
			t.Errorf("%+v: %v, want a problem on %s", c.in, err, c.field)
			continue
		}
		for _, p := range v.Problems {
			if p.Field == c.field && p.Key != c.want {
				t.Errorf("%+v: %s, want %s", c.in, p.Key, c.want)
			}
		}
	}
	segs, _ := contacts.Segments(ctx, tn)
	if len(segs) != 1 || !reflect.DeepEqual([]string(segs[0].Any), []string{"vip", "gold"}) {
		t.Errorf("segments = %+v", segs)
	}
}

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

func TestZeroTenantIsRefused(t *testing.T) {
	t.Parallel()
	var zero models.Tenant
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["ApplyImportBatch"] = contacts.ApplyImportBatch(ctx, zero, 1, []importer.Contact{row(2, "+4915100000001", "x")}, contacts.DuplicateUpdate, "")
	_, checks["ListContacts"] = contacts.List(ctx, zero, contacts.ContactFilter{})
	_, checks["CountContacts"] = contacts.Count(ctx, zero, contacts.ContactFilter{})
	_, checks["BulkTag"] = contacts.BulkTag(ctx, zero, contacts.Selection{Filter: &contacts.ContactFilter{}}, "x")
	_, checks["BulkOptOut"] = contacts.BulkOptOut(ctx, zero, contacts.Selection{Filter: &contacts.ContactFilter{}}, "", "user:1")
	_, checks["ExportContacts"] = contacts.Export(ctx, zero, &bytes.Buffer{}, contacts.ExportSpec{})
	_, checks["Tags"] = contacts.Tags(ctx, zero)
	_, checks["CreateContact"] = contacts.Create(ctx, zero, contacts.ContactInput{Phone: "+4915100000001"}, "user:1")
	checks["OptOutPhone"] = contacts.OptOutPhone(ctx, zero, "+4915100000001", "x", "webhook", time.Now())
	checks["DeleteContact"] = contacts.Delete(ctx, zero, 1, "user:1")
	for name, err := range checks {
		if !errors.Is(err, models.ErrNoTenant) {
			t.Errorf("%s on a zero tenant: %v, want ErrNoTenant", name, err)
		}
	}
}

// TestNumberSearchRangesStayInTenant: a number search (ranges of the phone
// index on PostgreSQL, one per calling code of the book) finds the number
// typed nationally or internationally, with filters, and only in its own
// book: a national number of a country only another book has finds nothing.
func TestNumberSearchRangesStayInTenant(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	a, b := ctTenant(t, db, "A"), ctTenant(t, db, "B")
	ctx := context.Background()
	mustContact(t, a, contacts.ContactInput{Phone: "+4915123456789", Name: "Anna A", Tags: "vip"})
	mustContact(t, a, contacts.ContactInput{Phone: "+41791234567", Name: "Zoe A"})
	mustContact(t, b, contacts.ContactInput{Phone: "+4915123456789", Name: "Anna B"})
	mustContact(t, b, contacts.ContactInput{Phone: "+447911123456", Name: "Oliver B"})
	if db.Dialect == models.Postgres {
		// A number with no known calling code, sorting between +41 and +49
		// (not written by Optline): the calling codes after it still count.
		if err := db.Gorm.Exec(`INSERT INTO contacts (business_id, phone, phone_hash, name, created_at, updated_at)
			VALUES (?, '+4250000', 'x', 'Unknown', now(), now())`, a.BusinessID()).Error; err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string][]string{
		"07911 123":    nil,
		"+44 7911":     nil,
		"+151 234":     nil, // "+" means a calling code follows: not a national number
		"0049 151 234": {"Anna A"},
		"0151 234":     {"Anna A"},
		"+49 151 234":  {"Anna A"},
		"15123456789":  {"Anna A"},
		"079 123":      {"Zoe A"},
		"0041 79 123":  {"Zoe A"},
		"+41 79 999":   nil,
		"0151 2349999": nil,
	} {
		p, err := contacts.List(ctx, a, contacts.ContactFilter{Query: q})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if got := names(p.Contacts); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	p, err := contacts.List(ctx, a, contacts.ContactFilter{Query: "0151 234", Tags: []string{"vip"}})
	if err != nil || !reflect.DeepEqual(names(p.Contacts), []string{"Anna A"}) || !reflect.DeepEqual(p.Contacts[0].Tags, []string{"vip"}) {
		t.Errorf("number search with a tag: %v %v", names(p.Contacts), err)
	}
	if n, err := contacts.Count(ctx, a, contacts.ContactFilter{Query: "+49 151"}); err != nil || n != 1 {
		t.Errorf("count of a number search = %d, %v", n, err)
	}
}

// TestTagListFollowsWrites: the business's tag list (the list page's tag
// filter, kept in memory between loads) shows every change of tags at once,
// whichever way it was made, and never another business's tags.
func TestTagListFollowsWrites(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn, other := ctTenant(t, db, "A"), ctTenant(t, db, "B")
	ctx := context.Background()
	tags := func(want ...string) {
		t.Helper()
		got, err := contacts.Tags(ctx, tn)
		if err != nil {
			t.Fatal(err)
		}
		p, err := contacts.ListWith(ctx, tn, contacts.ContactFilter{}, &contacts.PageExtras{WantTags: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = p
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("tags = %v, want %v", got, want)
		}
	}
	tags()
	seedBook(t, tn, 6) // an import
	tags("even", "three")
	mustContact(t, other, contacts.ContactInput{Phone: "+4915199999999", Name: "B", Tags: "fremd"})
	tags("even", "three")
	c := mustContact(t, tn, contacts.ContactInput{Phone: "+4915188888888", Name: "Neu", Tags: "neu"})
	tags("even", "neu", "three")
	if err := contacts.AddTag(ctx, tn, c.ID, "vip"); err != nil {
		t.Fatal(err)
	}
	tags("even", "neu", "three", "vip")
	if err := contacts.RemoveTag(ctx, tn, c.ID, "vip"); err != nil {
		t.Fatal(err)
	}
	tags("even", "neu", "three")
	if _, err := contacts.BulkUntag(ctx, tn, contacts.Selection{Filter: &contacts.ContactFilter{}}, "three"); err != nil {
		t.Fatal(err)
	}
	tags("even", "neu")
	if _, err := contacts.BulkTag(ctx, tn, contacts.Selection{IDs: []int64{c.ID}}, "gold"); err != nil {
		t.Fatal(err)
	}
	tags("even", "gold", "neu")
	if err := contacts.Delete(ctx, tn, c.ID, "user:1"); err != nil {
		t.Fatal(err)
	}
	tags("even")
}

// TestUpdateContactRules: every problem of an edit is reported at its
// field at once and nothing is saved; another business's contact is not
// found; a good edit updates what search matches.
func TestUpdateContactRules(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn, other := ctTenant(t, db, "A"), ctTenant(t, db, "B")
	ctx := context.Background()
	c := mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456789", Name: "Anna Müller", Email: "anna@example.com"})
	long := strings.Repeat("x", 2001)
	_, err := contacts.Update(ctx, tn, c.ID, contacts.ContactEdit{Name: "Anna\x07", Email: "nope", Language: "zz-zz",
		Attrs: map[string]string{"Bad Key": "v", "notiz": long}})

	v, ok := models.AsValidation(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range v.Problems {
		fields = append(fields, p.Field)
	}
	sort.Strings(fields)
	if got := strings.Join(fields, ","); got != "attr_Bad Key,attr_notiz,email,language,name" {
		t.Errorf("problems at %s", got)
	}
	if got, _ := contacts.ByID(ctx, tn, c.ID); got.Name != "Anna Müller" {
		t.Errorf("a refused edit saved: %q", got.Name)
	}
	if _, err := contacts.Update(ctx, other, c.ID, contacts.ContactEdit{Name: "B"}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another business's contact: %v", err)
	}
	got, err := contacts.Update(ctx, tn, c.ID, contacts.ContactEdit{FirstName: "Berta", LastName: "Kranz", Attrs: map[string]string{"kundennr": " K-9 "}})
	if err != nil || got.Name != "Berta Kranz" || got.Email != "" || got.Attrs["kundennr"] != "K-9" {
		t.Fatalf("edit: %+v %v", got, err)
	}
	if p, _ := contacts.List(ctx, tn, contacts.ContactFilter{Query: "kranz"}); len(p.Contacts) != 1 {
		t.Error("search does not find the new name")
	}
	if p, _ := contacts.List(ctx, tn, contacts.ContactFilter{Query: "müller"}); len(p.Contacts) != 0 {
		t.Error("search still finds the old name")
	}
}

// TestSearchFoldingMigration: contacts stored before schema 6 (search text
// without folding or e-mail domains) are found by folded terms after the
// upgrade.
func TestSearchFoldingMigration(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456789", Name: "Anna Müller", Email: "anna@example.com"})
	// As schema 5 stored it: lower case, accents kept, no domain word.
	if err := db.Gorm.Exec(`UPDATE contacts SET search = ?`, "anna müller anna@example.com  4915123456789 15123456789").Error; err != nil {
		t.Fatal(err)
	}
	if p, _ := contacts.List(ctx, tn, contacts.ContactFilter{Query: "muller"}); len(p.Contacts) != 0 {
		t.Fatalf("the old text should not match a folded term: %v", names(p.Contacts))
	}
	rerunMigration(t, db, 6)
	for _, q := range []string{"muller", "example.com", "Müller"} {
		if p, err := contacts.List(ctx, tn, contacts.ContactFilter{Query: q}); err != nil || !reflect.DeepEqual(names(p.Contacts), []string{"Anna Müller"}) {
			t.Errorf("after the upgrade, search %q = %v %v", q, names(p.Contacts), err)
		}
	}
}
