package contacts_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
)

// ctOpen opens a fresh database of the given dialect: SQLite always, or
// PostgreSQL when TEST_DATABASE_URL is set (else the test is skipped).
func ctOpen(t testing.TB, d models.Dialect) (*models.DB, *dbtest.Clock) {
	t.Helper()
	clock := dbtest.NewClock()
	var db *models.DB
	if d == models.SQLite {
		var err error
		db, err = models.Open(context.Background(), "", t.TempDir(), dbtest.Quiet)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background(), dbtest.Quiet); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	} else {
		if dbtest.Dialect() != models.Postgres {
			t.Skip("TEST_DATABASE_URL not set")
		}
		db = dbtest.Open(t)
	}
	db.Now = clock.Now
	return db, clock
}

// ctDB opens the database the test run is configured for.
func ctDB(t testing.TB) (*models.DB, *dbtest.Clock) {
	t.Helper()
	return ctOpen(t, dbtest.Dialect())
}

// ctTenant creates a business and returns its scope.
func ctTenant(t testing.TB, db *models.DB, name string) models.Tenant {
	return dbtest.Business(t, db, name)
}

func at(s string) *time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &v
}

func row(n int, phone, name string) importer.Contact {
	return importer.Contact{Row: n, Phone: phone, Name: name}
}

func withConsent(c importer.Contact, when, source string) importer.Contact {
	c.OptInAt, c.OptInSource = at(when), source
	return c
}

func withTags(c importer.Contact, tags ...string) importer.Contact {
	c.Tags = tags
	return c
}

func mustContact(t testing.TB, tn models.Tenant, in contacts.ContactInput) *contacts.Contact {
	t.Helper()
	c, err := contacts.Create(context.Background(), tn, in, "user:1")
	if err != nil {
		t.Fatalf("create contact %s: %v", in.Phone, err)
	}
	return c
}

const (
	phA = "+4915110000001" // no consent
	phB = "+4915110000002" // opted in
	phC = "+4915110000003" // opted out at the clock's start
	phD = "+4915110000004" // suppressed, no contact
	phE = "+4915110000005" // erased
	phF = "+4915110000006" // new, twice in batch 1
	phG = "+4915110000007" // new, again in batch 2
)

// importScenario builds the same starting book on any database, applies
// two batches of one import and returns both results.
func importScenario(t *testing.T, db *models.DB, clock *dbtest.Clock, policy contacts.DuplicatePolicy) (models.Tenant, contacts.BatchResult, contacts.BatchResult) {
	t.Helper()
	ctx := context.Background()
	tn := ctTenant(t, db, "Laden")
	// The clock starts at 2026-03-02 09:00 UTC.
	mustContact(t, tn, contacts.ContactInput{Phone: phA, Name: "Anna", Tags: "alt"})
	mustContact(t, tn, contacts.ContactInput{Phone: phB, Name: "Berta", Consent: contacts.ConsentInput{Source: "in_store", Date: "2025-01-10", Wording: "Ja, bitte per WhatsApp."}})
	c := mustContact(t, tn, contacts.ContactInput{Phone: phC, Name: "Carl", Consent: contacts.ConsentInput{Source: "web_form", Date: "2025-01-01", Wording: "Angebote per WhatsApp"}})
	if err := contacts.OptOut(ctx, tn, c.ID, contacts.OptOutManual, "user:1"); err != nil {
		t.Fatal(err)
	}
	if err := contacts.OptOutPhone(ctx, tn, phD, contacts.OptOutReply, "webhook", *at("2026-02-01T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	e := mustContact(t, tn, contacts.ContactInput{Phone: phE, Name: "Emil", Consent: contacts.ConsentInput{Source: "chat", Date: "2025-05-05", Wording: "ok"}})
	if err := contacts.Delete(ctx, tn, e.ID, "user:1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)

	a := withTags(withConsent(row(2, phA, ""), "2026-01-05T00:00:00Z", "web_form"), "VIP")
	a.Email = "anna@example.com"
	a.Attrs = map[string]string{"kundennr": "A-1"}
	batch1 := []importer.Contact{
		a,
		row(3, phB, "Berta B."),
		withConsent(row(4, phC, ""), "2025-06-01T00:00:00Z", "paper"),
		withConsent(row(5, phD, "Dora"), "2026-01-01T00:00:00Z", "web_form"),
		row(6, phF, "Fritz"),
		withTags(withConsent(row(7, phF, ""), "2026-01-10T00:00:00Z", "checkout"), "newsletter"),
		withConsent(row(8, phG, "Gerd"), "1999-12-31T23:59:58.123456Z", "paper"), // before timestamptz's epoch, with microseconds
		row(9, "0151", "Bad"),
		withConsent(row(10, phE, "Emil"), "2026-03-01T00:00:00Z", "chat"),
	}
	r1, err := contacts.ApplyImportBatch(ctx, tn, 7, batch1, policy, "")
	if err != nil {
		t.Fatalf("batch 1: %v", err)
	}
	clock.Advance(2 * time.Hour) // 12:00
	g := row(11, phG, "Gustav")
	g.Attrs = map[string]string{"stadt": "Köln"}
	batch2 := []importer.Contact{
		g,
		withConsent(row(12, phC, ""), "2026-03-02T10:00:00Z", "in_store"),
		withConsent(row(13, phD, ""), "2026-02-15T00:00:00Z", "web_form"),
	}
	r2, err := contacts.ApplyImportBatch(ctx, tn, 7, batch2, policy, "")
	if err != nil {
		t.Fatalf("batch 2: %v", err)
	}
	again, err := contacts.ApplyImportBatch(ctx, tn, 7, batch2, policy, "")
	if err != nil {
		t.Fatalf("batch 2 replayed: %v", err)
	}
	if !again.Replayed || again.Imported != r2.Imported || again.Updated != r2.Updated || again.Skipped != r2.Skipped {
		t.Errorf("replayed batch = %+v, want the first result %+v", again, r2)
	}
	return tn, r1, r2
}

func counts(r contacts.BatchResult) string {
	return fmt.Sprintf("imported=%d updated=%d skipped=%d suppressed=%d duplicates=%d errors=%d",
		r.Imported, r.Updated, r.Skipped, r.Suppressed, r.Duplicates, len(r.RowErrors))
}

// snapshot renders a business's whole contact book as comparable text.
func snapshot(t *testing.T, tn models.Tenant) []string {
	t.Helper()
	ctx := context.Background()
	db := tn.DB()
	var out []string
	var book []contacts.Contact
	if err := tn.Scoped(ctx).Order("phone").Find(&book).Error; err != nil {
		t.Fatal(err)
	}
	phoneOf := map[int64]string{}
	for _, c := range book {
		full, err := contacts.ByID(ctx, tn, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		phoneOf[c.ID] = c.Phone
		var attrs []string
		for k, v := range c.Attrs {
			attrs = append(attrs, k+"="+v)
		}
		sort.Strings(attrs)
		imp := "-"
		if c.ImportID != nil {
			imp = fmt.Sprint(*c.ImportID)
		}
		out = append(out, fmt.Sprintf("contact %s name=%q first=%q last=%q email=%q lang=%q attrs=%v state=%s in=%s src=%s out=%s import=%s tags=%v search=%q",
			c.Phone, c.Name, c.FirstName, c.LastName, c.Email, c.Language, attrs, c.ConsentState, ts(c.OptedInAt), c.OptInSource, ts(c.OptedOutAt), imp, full.Tags, c.Search))
	}
	var events []contacts.ConsentEvent
	if err := tn.Scoped(ctx).Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, e := range events {
		who := "-"
		if e.ContactID != nil {
			who = phoneOf[*e.ContactID]
		}
		evs = append(evs, fmt.Sprintf("event %s %s %s src=%s text=%q wording=%q by=%s hash=%s", who, e.Kind, ts(&e.At), e.Source, e.SourceText, e.Wording, e.RecordedBy, e.PhoneHash[:8]))
	}
	sort.Strings(evs)
	out = append(out, evs...)
	var sups []contacts.Suppression
	if err := db.Gorm.Where("business_id = ?", tn.BusinessID()).Order("phone_hash").Find(&sups).Error; err != nil {
		t.Fatal(err)
	}
	for _, s := range sups {
		out = append(out, fmt.Sprintf("suppression %s %s %s", s.PhoneHash[:8], ts(&s.OptedOutAt), s.Source))
	}
	return out
}

func ts(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func contactOf(t *testing.T, tn models.Tenant, phone string) *contacts.Contact {
	t.Helper()
	c, err := contacts.ByPhone(context.Background(), tn, phone)
	if err != nil {
		t.Fatalf("contact %s: %v", phone, err)
	}
	full, err := contacts.ByID(context.Background(), tn, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return full
}

func TestImportBatchPolicyUpdate(t *testing.T) {
	t.Parallel()
	db, clock := ctDB(t)
	tn, r1, r2 := importScenario(t, db, clock, contacts.DuplicateUpdate)
	if got, want := counts(r1), "imported=2 updated=2 skipped=0 suppressed=3 duplicates=1 errors=1"; got != want {
		t.Errorf("batch 1: %s, want %s", got, want)
	}
	if r1.RowErrors[0].Row != 9 || r1.RowErrors[0].Field != "phone" {
		t.Errorf("row error = %+v", r1.RowErrors[0])
	}
	if got, want := counts(r2), "imported=0 updated=0 skipped=0 suppressed=0 duplicates=3 errors=0"; got != want {
		t.Errorf("batch 2: %s, want %s", got, want)
	}
	ctx := context.Background()
	a := contactOf(t, tn, phA)
	if a.ConsentState != contacts.ConsentOptedIn || ts(a.OptedInAt) != "2026-01-05T00:00:00Z" || a.OptInSource != "web_form" {
		t.Errorf("A: no consent + row consent should opt in: %+v", a)
	}
	if !reflect.DeepEqual(a.Tags, []string{"alt", "vip"}) || a.Email != "anna@example.com" || a.Name != "Anna" || a.Attrs["kundennr"] != "A-1" {
		t.Errorf("A: tags merge and fields fill in: %+v", a)
	}
	b := contactOf(t, tn, phB)
	if b.ConsentState != contacts.ConsentOptedIn || b.Name != "Berta B." || ts(b.OptedInAt) != "2025-01-10T00:00:00Z" {
		t.Errorf("B: consent must never be downgraded by a row without consent: %+v", b)
	}
	cc := contactOf(t, tn, phC)
	if cc.ConsentState != contacts.ConsentOptedIn || ts(cc.OptedInAt) != "2026-03-02T10:00:00Z" || cc.OptInSource != "in_store" {
		t.Errorf("C: consent after the opt-out must opt in again: %+v", cc)
	}
	d := contactOf(t, tn, phD)
	if d.ConsentState != contacts.ConsentOptedIn || ts(d.OptedOutAt) != "2026-02-01T12:00:00Z" {
		t.Errorf("D: %+v", d)
	}
	if s, _ := contacts.IsSuppressed(ctx, tn, phD); s {
		t.Error("D: new consent should lift the suppression")
	}
	e := contactOf(t, tn, phE)
	if e.ConsentState != contacts.ConsentOptedOut {
		t.Errorf("E: an erased contact's old consent must not bring them back: %+v", e)
	}
	if s, _ := contacts.IsSuppressed(ctx, tn, phE); !s {
		t.Error("E: suppression must stay")
	}
	hist, _ := contacts.ConsentHistory(ctx, tn, e.ID)
	if len(hist) != 2 {
		t.Errorf("E: history of the erased contact should be linked again, got %d events", len(hist))
	}
	f := contactOf(t, tn, phF)
	if f.ConsentState != contacts.ConsentOptedIn || f.Name != "Fritz" || !reflect.DeepEqual(f.Tags, []string{"newsletter"}) {
		t.Errorf("F: the repeat in the file updates: %+v", f)
	}
	g := contactOf(t, tn, phG)
	if g.Name != "Gustav" || g.Attrs["stadt"] != "Köln" || g.ConsentState != contacts.ConsentOptedIn {
		t.Errorf("G: %+v", g)
	}
	hist, _ = contacts.ConsentHistory(ctx, tn, cc.ID)
	if len(hist) == 0 || hist[0].Kind != "opt_in" || hist[0].RecordedBy != "import:7" || hist[0].Source != "in_store" {
		t.Errorf("C: newest event should be the import's opt-in: %+v", hist)
	}
}

func TestImportBatchPolicySkip(t *testing.T) {
	t.Parallel()
	db, clock := ctDB(t)
	tn, r1, r2 := importScenario(t, db, clock, contacts.DuplicateSkip)
	if got, want := counts(r1), "imported=2 updated=0 skipped=3 suppressed=2 duplicates=1 errors=1"; got != want {
		t.Errorf("batch 1: %s, want %s", got, want)
	}
	if got, want := counts(r2), "imported=0 updated=0 skipped=1 suppressed=0 duplicates=2 errors=0"; got != want {
		t.Errorf("batch 2: %s, want %s", got, want)
	}
	a := contactOf(t, tn, phA)
	if a.ConsentState != contacts.ConsentNone || a.Email != "" || !reflect.DeepEqual(a.Tags, []string{"alt"}) {
		t.Errorf("A: skip leaves the contact alone: %+v", a)
	}
	if c := contactOf(t, tn, phC); c.ConsentState != contacts.ConsentOptedOut {
		t.Errorf("C: skipped, still opted out: %+v", c)
	}
	if d := contactOf(t, tn, phD); d.ConsentState != contacts.ConsentOptedOut || d.Name != "Dora" {
		t.Errorf("D: created opted out, later row skipped: %+v", d)
	}
	f := contactOf(t, tn, phF)
	if f.ConsentState != contacts.ConsentNone || len(f.Tags) != 0 {
		t.Errorf("F: the repeat in the file is skipped: %+v", f)
	}
}

// TestImportBatchSQLiteAndPostgresAgree runs the scenario on both
// databases and compares the whole resulting contact book.
func TestImportBatchSQLiteAndPostgresAgree(t *testing.T) {
	t.Parallel()
	if dbtest.Dialect() != models.Postgres {
		t.Skip("needs TEST_DATABASE_URL")
	}
	for _, policy := range []contacts.DuplicatePolicy{contacts.DuplicateUpdate, contacts.DuplicateSkip} {
		t.Run(string(policy), func(t *testing.T) {
			lite, lclock := ctOpen(t, models.SQLite)
			pg, pclock := ctOpen(t, models.Postgres)
			ltn, l1, l2 := importScenario(t, lite, lclock, policy)
			ptn, p1, p2 := importScenario(t, pg, pclock, policy)
			if counts(l1) != counts(p1) || counts(l2) != counts(p2) {
				t.Errorf("counts differ: sqlite %s / %s, postgres %s / %s", counts(l1), counts(l2), counts(p1), counts(p2))
			}
			ls, ps := snapshot(t, ltn), snapshot(t, ptn)
			if strings.Join(ls, "\n") != strings.Join(ps, "\n") {
				t.Errorf("books differ:\n--- sqlite\n%s\n--- postgres\n%s", strings.Join(ls, "\n"), strings.Join(ps, "\n"))
			}
		})
	}
}
