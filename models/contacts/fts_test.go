package contacts_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
)

// searchNames lists the names a search of tn finds, newest first.
func searchNames(t *testing.T, tn models.Tenant, q string) []string {
	t.Helper()
	p, err := contacts.List(context.Background(), tn, contacts.ContactFilter{Query: q})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return names(p.Contacts)
}

// indexHits counts the SQLite index's own entries for the terms (the
// list rechecks every hit against the contact, so a stale entry would not
// show there); -1 on PostgreSQL, which has no such index.
func indexHits(t *testing.T, db *models.DB, tn models.Tenant, terms ...string) int64 {
	t.Helper()
	if db.Dialect != models.SQLite {
		return -1
	}
	n, err := contacts.SearchIndexHits(db, tn.BusinessID(), terms...)
	if err != nil {
		t.Fatalf("index hits %v: %v", terms, err)
	}
	return n
}

// TestSearchIndexFindsWordPrefixes: the word index (schema 10 on SQLite)
// finds names and e-mail words by the start of a word, accents and case
// folded, within the business only; and it follows edits, erasure and
// imports.
func TestSearchIndexFindsWordPrefixes(t *testing.T) {
	db, _ := ctDB(t)
	tn, other := ctTenant(t, db, "A"), ctTenant(t, db, "B")
	ctx := context.Background()
	zoe := mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456789", Name: "Zoë Ångström", Email: "Zoe.A@Beispiel-Café.de"})
	mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456790", Name: "Sean O'Brien"})
	mustContact(t, other, contacts.ContactInput{Phone: "+4915123456789", Name: "Zoe Angstrom"})
	for q, want := range map[string][]string{
		"zoe":                  {"Zoë Ångström"},
		"ZOË":                  {"Zoë Ångström"},
		"ang":                  {"Zoë Ångström"},
		"angs zo":              {"Zoë Ångström"},
		"Ångs":                 {"Zoë Ångström"},
		"strom":                nil, // not the start of a word
		"zoe.a@beispiel":       {"Zoë Ångström"},
		"beispiel-cafe.de":     {"Zoë Ångström"}, // the e-mail's domain
		"o'b":                  {"Sean O'Brien"},
		"brien":                nil,
		"zoe brien":            nil,
		"+49 151 234567":       {"Sean O'Brien", "Zoë Ångström"},
		"0151 23456789":        {"Zoë Ångström"},
		"15123456790":          {"Sean O'Brien"},
		"49151234567 angstrom": {"Zoë Ångström"},
	} {
		if got := searchNames(t, tn, q); !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	if got := searchNames(t, other, "zoe"); !reflect.DeepEqual(got, []string{"Zoe Angstrom"}) {
		t.Errorf("the other business finds %v", got)
	}
	if n := indexHits(t, db, tn, "ang"); n != 1 && n != -1 {
		t.Errorf("index entries for ang in A: %d, want 1 (B's contact is B's)", n)
	}

	// An edit replaces the contact's words in the index.
	if _, err := contacts.Update(ctx, tn, zoe.ID, contacts.ContactEdit{FirstName: "Berta", LastName: "Kranz", Email: "b@kranz.example"}); err != nil {
		t.Fatal(err)
	}
	if got := searchNames(t, tn, "kranz"); !reflect.DeepEqual(got, []string{"Berta Kranz"}) {
		t.Errorf("after the edit, kranz = %v", got)
	}
	if got := searchNames(t, tn, "angstrom"); len(got) != 0 {
		t.Errorf("after the edit, the old name still finds %v", got)
	}
	if n := indexHits(t, db, tn, "ang"); n > 0 {
		t.Errorf("the old name is still in the index (%d)", n)
	}
	if n := indexHits(t, db, tn, "kranz.example"); n != 1 && n != -1 {
		t.Errorf("the new e-mail domain has %d index entries", n)
	}

	// Erasure removes them.
	if err := contacts.Delete(ctx, tn, zoe.ID, "user:1"); err != nil {
		t.Fatal(err)
	}
	if got := searchNames(t, tn, "kranz"); len(got) != 0 {
		t.Errorf("after erasure, kranz = %v", got)
	}
	if n := indexHits(t, db, tn, "kranz"); n > 0 {
		t.Errorf("the erased contact is still in the index (%d)", n)
	}

	// An import adds new contacts and rewrites the words of those it
	// updates; a row that changes no word leaves the index alone.
	rows := []importer.Contact{
		{Row: 2, Phone: "+4915123456790", Name: "Seán Ó Briain"},
		{Row: 3, Phone: "+4915199990000", Name: "Łukasz Żółć", Email: "lukasz@przykład.pl"},
	}
	if _, err := contacts.ApplyImportBatch(ctx, tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"briain":         {"Seán Ó Briain"},
		"o'brien":        nil,
		"lukasz zolc":    {"Łukasz Żółć"},
		"przyklad.pl":    {"Łukasz Żółć"},
		"+49 151 999900": {"Łukasz Żółć"},
	} {
		if got := searchNames(t, tn, q); !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("after the import, search %q = %v, want %v", q, got, want)
		}
	}
	if n := indexHits(t, db, tn, "o'b"); n > 0 {
		t.Errorf("the name the import replaced is still in the index (%d)", n)
	}
	if err := contacts.RefreshStats(ctx, db); err != nil { // the end of a large import: 'optimize' on SQLite
		t.Fatal(err)
	}
	if got := searchNames(t, tn, "briain"); len(got) != 1 {
		t.Errorf("after optimising the index, briain = %v", got)
	}
}

// TestSearchIndexBuiltForStoredContacts: schema 10 indexes the contacts
// stored before it, and paging through a search walks the index from the
// cursor on. ("person 1" would match every contact: "1" starts their
// national numbers, 151….)
func TestSearchIndexBuiltForStoredContacts(t *testing.T) {
	if dbtest.Dialect() != models.SQLite {
		t.Skip("the word index is SQLite's (PostgreSQL has its GIN index)")
	}
	db, _ := ctDB(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	seedBook(t, tn, 120) // "Person 000" … "Person 119"
	rebuildSearchIndex(t, db)
	if n := indexHits(t, db, tn, "person"); n != 120 {
		t.Fatalf("index holds %d of 120 contacts", n)
	}
	var got, back []string
	f := contacts.ContactFilter{Query: "person 11", Limit: 3}
	var last contacts.ContactPage
	for {
		p, err := contacts.List(ctx, tn, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(p.Contacts)...)
		if last = p; p.Next == "" {
			break
		}
		f.After = p.Next
	}
	back = names(last.Contacts)
	for last.Prev != "" { // and back again, from the last page
		p, err := contacts.List(ctx, tn, contacts.ContactFilter{Query: "person 11", Limit: 3, Before: last.Prev})
		if err != nil {
			t.Fatal(err)
		}
		back, last = append(names(p.Contacts), back...), p
	}
	var want []string
	for i := 119; i >= 0; i-- {
		if s := fmt.Sprintf("Person %03d", i); s[7:9] == "11" {
			want = append(want, s)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of three of \"person 11\": %v, want %v", got, want)
	}
	if !slices.Equal(back, want) {
		t.Errorf("pages of three of \"person 11\", backwards: %v, want %v", back, want)
	}
	n, more, err := contacts.CountUpTo(ctx, tn, contacts.ContactFilter{Query: "person 11"}, 5)
	if err != nil || n != 5 || !more {
		t.Errorf("count up to 5: %d %v %v", n, more, err)
	}
	if n, err := contacts.Count(ctx, tn, contacts.ContactFilter{Query: "person 11"}); err != nil || n != 10 {
		t.Errorf("count of person 11: %d %v", n, err)
	}
}

// BenchmarkSearch50k searches a book of 50,000 contacts for a name that
// fills the page at once (a common word prefix, or one letter) and for one that matches a
// single contact (without the index: a read of the whole book).
func BenchmarkSearch50k(b *testing.B) {
	db, _ := ctDB(b)
	db.Now = func() time.Time { return time.Now().UTC() }
	tn := ctTenant(b, db, "Bench")
	ctx := context.Background()
	for i := 0; i < 50_000; i += 5000 {
		if _, err := contacts.ApplyImportBatch(ctx, tn, 1, benchRows(i, 5000), contacts.DuplicateUpdate, ""); err != nil {
			b.Fatal(err)
		}
	}
	if err := contacts.RefreshStats(ctx, db); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"m", "müller", "kundin 25000", "kundin25000@", "+49 151 0002500"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := contacts.List(ctx, tn, contacts.ContactFilter{Query: q}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
