package contacts_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

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
