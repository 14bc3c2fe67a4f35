package contacts_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

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
