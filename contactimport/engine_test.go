package contactimport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

func cp1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportFormats imports the same people written the ways spreadsheets
// write files, on the configured database.
func TestImportFormats(t *testing.T) {
	cases := []struct {
		name    string
		content func(t *testing.T) []byte
		format  importer.Format
		note    string // expected notes attribute of Jürgen
	}{
		{"utf8", func(*testing.T) []byte {
			return []byte("phone,name,notes\n+49 151 12345001,Anna Müller,\n0151 12345002,Jürgen Größe,kommt freitags\n")
		}, importer.Format{}, "kommt freitags"},
		{"utf8-bom", func(*testing.T) []byte {
			return []byte("\uFEFFphone,name,notes\r\n+49 151 12345001,Anna Müller,\r\n0151 12345002,Jürgen Größe,kommt freitags\r\n")
		}, importer.Format{}, "kommt freitags"},
		{"windows-1252-semicolon", func(t *testing.T) []byte {
			return cp1252(t, "Telefon;Name;Notiz\r\n+49 151 12345001;Anna Müller;\r\n0151 12345002;Jürgen Größe;kommt freitags\r\n")
		}, importer.Format{}, "kommt freitags"},
		{"windows-1252-chosen", func(t *testing.T) []byte {
			// ASCII at the start, umlauts far below: the user chose the encoding.
			return cp1252(t, "Telefon;Name;Notiz\r\n+49 151 12345001;Anna Mueller;\r\n"+strings.Repeat(";;\r\n", 30000)+"0151 12345002;Jürgen Größe;kommt freitags\r\n")
		}, importer.Format{Encoding: importer.Windows1252}, "kommt freitags"},
		{"tsv", func(*testing.T) []byte {
			return []byte("Handy\tVorname\tNachname\tnotes\n+49 151 12345001\tAnna\tMüller\t\n0151 12345002\tJürgen\tGröße\tkommt freitags\n")
		}, importer.Format{}, "kommt freitags"},
		{"quoted-newlines", func(*testing.T) []byte {
			return []byte("phone,name,notes\n+49 151 12345001,\"Anna Müller\",\"\"\n\"0151 12345002\",\"Jürgen Größe\",\"kommt\nfreitags\"\n")
		}, importer.Format{}, "kommt\nfreitags"},
	}
	base := newFx(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base.sub(t)
			tn, u := f.business("Laden " + tc.name)
			imp := f.importFile(tn, u, tc.content(t), tc.format, contacts.DuplicateUpdate, imports.ConsentFromNone)
			if imp.Status != imports.ImportDone || imp.Imported != 2 || imp.Failed != 0 {
				t.Fatalf("status %s imported %d failed %d (%s)", imp.Status, imp.Imported, imp.Failed, imp.Error)
			}
			checkCounts(t, imp)
			anna := f.contact(tn, "+4915112345001")
			if !strings.HasPrefix(anna.Name, "Anna M") || anna.ConsentState != contacts.ConsentNone {
				t.Errorf("anna: %q %s", anna.Name, anna.ConsentState)
			}
			j := f.contact(tn, "+4915112345002")
			if j.Name != "Jürgen Größe" {
				t.Errorf("name %q", j.Name)
			}
			var note string
			for k, v := range j.Attrs {
				if strings.HasPrefix(k, "not") {
					note = v
				}
			}
			if note != tc.note {
				t.Errorf("note %q, want %q", note, tc.note)
			}
			if _, err := f.files.Open(context.Background(), imp.FileKey); !errors.Is(err, blobstore.ErrNotFound) {
				t.Errorf("upload kept after the import: %v", err)
			}
		})
	}
}

// TestImportConsentRules: evidence from columns, from one declaration for
// the whole file, or none.
func TestImportConsentRules(t *testing.T) {
	withColumns := "Phone,Name,Opt-in Date,Opt-in Source\n" +
		"+4915112345001,Anna,2025-10-01,web form\n" +
		"+4915112345002,Bert,,web form\n" + // no date: not messageable
		"+4915112345003,Cleo,2025-10-03,\n" // no source: not messageable
	plain := "Phone,Name\n+4915112345001,Anna\n+4915112345002,Bert\n"

	base := newFx(t)
	t.Run("columns", func(t *testing.T) {
		f := base.sub(t)
		tn, u := f.business("Laden")
		imp := f.importFile(tn, u, []byte(withColumns), importer.Format{}, contacts.DuplicateUpdate, imports.ConsentFromColumns)
		checkCounts(t, imp)
		a := f.contact(tn, "+4915112345001")
		if a.ConsentState != contacts.ConsentOptedIn || a.OptInSource != "web_form" || a.OptedInAt == nil || a.OptedInAt.In(imp.Location()).Format("2006-01-02") != "2025-10-01" {
			t.Errorf("anna: %s %s %v", a.ConsentState, a.OptInSource, a.OptedInAt)
		}
		for _, p := range []string{"+4915112345002", "+4915112345003"} {
			if c := f.contact(tn, p); c.ConsentState != contacts.ConsentNone {
				t.Errorf("%s: %s", p, c.ConsentState)
			}
		}
		hist, err := contacts.ConsentHistory(context.Background(), tn, a.ID)
		if err != nil || len(hist) != 1 || hist[0].RecordedBy == "" {
			t.Errorf("history %+v %v", hist, err)
		}
	})
	t.Run("declaration", func(t *testing.T) {
		f := base.sub(t)
		tn, u := f.business("Laden")
		imp := f.upload(tn, u, "laden.csv", []byte(plain), importer.Format{})
		p := plan(imp, contacts.DuplicateUpdate, imports.ConsentFromDeclaration)
		p.ConsentSource, p.ConsentDate, p.ConsentConfirmed = "in_store", "2025-11-01", true
		q := f.queue(tn, u, imp, p)
		if q.ConsentConfirmedBy == "" || q.ConsentConfirmedAt == nil || q.ConsentSource != "in_store" {
			t.Fatalf("declaration not recorded: %+v", q)
		}
		imp = f.run(tn, imp.ID)
		checkCounts(t, imp)
		for _, ph := range []string{"+4915112345001", "+4915112345002"} {
			c := f.contact(tn, ph)
			if c.ConsentState != contacts.ConsentOptedIn || c.OptInSource != "in_store" || c.OptedInAt.In(imp.Location()).Format("2006-01-02") != "2025-11-01" {
				t.Errorf("%s: %s %s %v", ph, c.ConsentState, c.OptInSource, c.OptedInAt)
			}
			hist, _ := contacts.ConsentHistory(context.Background(), tn, c.ID)
			if len(hist) != 1 || !strings.Contains(hist[0].SourceText, "whole file") {
				t.Errorf("%s history %+v", ph, hist)
			}
		}
	})
	t.Run("declaration refused without confirmation", func(t *testing.T) {
		f := base.sub(t)
		tn, u := f.business("Laden")
		imp := f.upload(tn, u, "laden.csv", []byte(plain), importer.Format{})
		p := plan(imp, contacts.DuplicateUpdate, imports.ConsentFromDeclaration)
		p.ConsentSource, p.ConsentDate = "in_store", "2030-01-01"
		_, err := p.Check(imp.Headers, f.db.Now(), imp.Location())
		v, ok := models.AsValidation(err)
		if !ok || !v.Has("consent_confirm") || !v.Has("consent_date") {
			t.Fatalf("want confirm and date problems, got %v", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		f := base.sub(t)
		tn, u := f.business("Laden")
		imp := f.importFile(tn, u, []byte(plain), importer.Format{}, contacts.DuplicateUpdate, imports.ConsentFromNone)
		checkCounts(t, imp)
		if c := f.contact(tn, "+4915112345001"); c.ConsentState != contacts.ConsentNone || c.Messageable() {
			t.Errorf("anna: %s", c.ConsentState)
		}
	})
}

// TestImportDuplicatePolicies: a number already stored, and numbers
// repeated in the file, under each policy; an opted-out number stays
// opted out without newer consent.
func TestImportDuplicatePolicies(t *testing.T) {
	file := "Phone,Name,Tags,Opt-in Date,Opt-in Source\n" +
		"+4915112345001,Neu,kunde,2025-01-05,web form\n" + // stored as "Alt"
		"+4915112345002,Yara,,2025-01-05,web form\n" +
		"+4915112345001,Neu2,vip,2025-01-05,web form\n" + // repeat of a stored number
		"+4915112345002,Yara2,,2025-01-05,web form\n" + // repeat of a new number
		"+4915112345003,Otto,,2025-01-05,web form\n" // opted out on 2026-03-02, consent older
	for _, tc := range []struct {
		policy                     contacts.DuplicatePolicy
		imported, updated, skipped int64
		name1, name2               string
	}{
		{contacts.DuplicateUpdate, 1, 1, 0, "Neu2", "Yara2"}, // repeats count as repeats, not updates
		{contacts.DuplicateSkip, 1, 0, 1, "Alt", "Yara"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			f := newFx(t)
			ctx := context.Background()
			tn, u := f.business("Laden")
			if _, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: "+4915112345001", Region: "DE", Name: "Alt", Tags: "alt"}, "user:1"); err != nil {
				t.Fatal(err)
			}
			otto, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: "+4915112345003", Region: "DE", Name: "Otto"}, "user:1")
			if err != nil {
				t.Fatal(err)
			}
			if err := contacts.OptOut(ctx, tn, otto.ID, contacts.OptOutManual, "user:1"); err != nil {
				t.Fatal(err)
			}
			imp := f.importFile(tn, u, []byte(file), importer.Format{}, tc.policy, imports.ConsentFromColumns)
			checkCounts(t, imp)
			wantUpdated, wantSkipped := tc.updated, tc.skipped
			if tc.policy == contacts.DuplicateSkip {
				wantSkipped++ // Otto: stored, left alone
			}
			suppressed := int64(0)
			if tc.policy == contacts.DuplicateUpdate {
				suppressed = 1 // Otto: updated but stays opted out
			}
			if imp.Imported != tc.imported || imp.Updated != wantUpdated || imp.Skipped != wantSkipped || imp.Suppressed != suppressed || imp.Duplicates != 2 {
				t.Errorf("imported %d updated %d skipped %d suppressed %d duplicates %d", imp.Imported, imp.Updated, imp.Skipped, imp.Suppressed, imp.Duplicates)
			}
			if c := f.contact(tn, "+4915112345001"); c.Name != tc.name1 {
				t.Errorf("stored number: name %q, want %q", c.Name, tc.name1)
			}
			if c := f.contact(tn, "+4915112345002"); c.Name != tc.name2 {
				t.Errorf("repeated new number: name %q, want %q", c.Name, tc.name2)
			}
			if c := f.contact(tn, "+4915112345003"); c.ConsentState != contacts.ConsentOptedOut {
				t.Errorf("opted-out contact is %s", c.ConsentState)
			}
			var n int64
			f.db.Gorm.Raw(`SELECT COUNT(*) FROM contacts WHERE business_id = ?`, tn.BusinessID()).Scan(&n)
			if n != 3 {
				t.Errorf("%d contacts, want 3", n)
			}
		})
	}
}

// TestImportCancel: cancelling stops the job after the current batch; the
// rows handled stay and are counted; the upload is removed.
func TestImportCancel(t *testing.T) {
	f := newFx(t)
	tn, u := f.business("Laden")
	var buf strings.Builder
	if err := importer.Generate(&buf, 2000, 4); err != nil {
		t.Fatal(err)
	}
	f.eng.BatchSize = 300
	imp := f.upload(tn, u, "big.csv", []byte(buf.String()), importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromColumns))
	batches := 0
	f.eng.Hooks = &contactimport.Hooks{AfterApply: func(id int64, b importer.Batch) error {
		if batches++; batches == 2 {
			if _, err := imports.Cancel(context.Background(), tn, id, u); err != nil {
				return err
			}
		}
		return nil
	}}
	got := f.run(tn, imp.ID)
	if got.Status != imports.ImportCancelled || got.RowsDone != 600 {
		t.Fatalf("status %s rows done %d", got.Status, got.RowsDone)
	}
	checkCounts(t, got)
	if _, err := f.files.Open(context.Background(), imp.FileKey); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("upload kept after cancel: %v", err)
	}
	if _, err := imports.Cancel(context.Background(), tn, imp.ID, u); !errors.Is(err, models.ErrConflict) {
		t.Errorf("second cancel: %v", err)
	}
}

// TestImportJobStaysInItsBusiness: a job naming another business's import
// writes nothing anywhere.
func TestImportJobStaysInItsBusiness(t *testing.T) {
	f := newFx(t)
	a, ua := f.business("A")
	b, _ := f.business("B")
	imp := f.upload(a, ua, "a.csv", []byte("phone\n+4915112345001\n"), importer.Format{})
	f.queue(a, ua, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromNone))
	_, err := f.eng.RunSlice(context.Background(), contactimport.ImportArgs{ImportID: imp.ID, BusinessID: b.BusinessID()})
	if !errors.Is(err, contactimport.ErrForeignImport) {
		t.Fatalf("foreign job: %v", err)
	}
	var n int64
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM contacts`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d contacts written", n)
	}
	if got := f.load(a, imp.ID); got.Status != imports.ImportQueued || got.RowsDone != 0 {
		t.Fatalf("A's import touched: %s %d", got.Status, got.RowsDone)
	}
	if _, err := imports.Get(context.Background(), b, imp.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("B sees A's import: %v", err)
	}
	if _, err := f.eng.RunSlice(context.Background(), contactimport.ImportArgs{ImportID: imp.ID}); !errors.Is(err, contactimport.ErrForeignImport) {
		t.Fatalf("job without business: %v", err)
	}
}

// TestImportFailsOnBrokenFile: a row too long to be real stops the import
// with the reason; the rows before it are imported and counted.
func TestImportFailsOnBrokenFile(t *testing.T) {
	f := newFx(t)
	tn, u := f.business("Laden")
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range 700 {
		fmt.Fprintf(&b, "+49151%08d,Kunde\n", 12340000+i)
	}
	good := b.String()
	f.eng.BatchSize = 250
	imp := f.upload(tn, u, "broken.csv", []byte(good), importer.Format{})
	// The stored file grows a broken tail after it was checked.
	broken := good + "+4915199999999," + strings.Repeat("x", 1_200_000) + "\n"
	if err := f.files.Delete(context.Background(), imp.FileKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.files.Put(context.Background(), imp.FileKey, strings.NewReader(broken)); err != nil {
		t.Fatal(err)
	}
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromNone))
	got := f.run(tn, imp.ID)
	if got.Status != imports.ImportFailed || !strings.Contains(got.Error, "longer than") {
		t.Fatalf("status %s error %q", got.Status, got.Error)
	}
	if got.Imported != 700 {
		t.Errorf("imported %d before the broken row", got.Imported)
	}
	checkCounts(t, got)
}
