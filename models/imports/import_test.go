package imports_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/demo"
	"github.com/optline/optline/models/imports"
)

func newImport(t *testing.T, tn models.Tenant, headers ...string) *imports.Import {
	t.Helper()
	imp, err := imports.Create(context.Background(), tn, imports.NewImport{FileName: `C:\Users\x\Kunden.csv`, FileKey: "imports/1/x.csv", FileSize: 100,
		Headers: headers, Mapping: importer.DetectMapping(headers), Region: "DE", Policy: contacts.DuplicateUpdate, RowsTotal: 10})

	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func TestImportPlanCheck(t *testing.T) {
	t.Parallel()
	db, clock := ctDB(t)
	tn := ctTenant(t, db, "Laden")
	imp := newImport(t, tn, "Telefon", "Name", "Handy", "Notiz", "Notiz 2")
	if imp.FileName != "Kunden.csv" {
		t.Errorf("file name %q", imp.FileName)
	}
	p := imports.ImportPlan{Fields: []string{"phone", "name", "phone", "attr", "attr"}, AttrKeys: []string{"", "", "", "notiz", "notiz"},
		Region: "XX", Policy: "merge", ConsentMode: imports.ConsentFromDeclaration, ConsentSource: "telepathy", ConsentDate: "2026-03-03"}
	_, err := p.Check(imp.Headers, clock.Now(), time.UTC)
	v, ok := models.AsValidation(err)
	if !ok {
		t.Fatalf("want validation error, got %v", err)
	}
	for _, field := range []string{"col_0", "col_2", "key_4", "region", "policy", "consent_source", "consent_date", "consent_confirm"} {
		if !v.Has(field) {
			t.Errorf("no problem on %s: %v", field, err)
		}
	}
	if v.Has("col_1") || v.Has("key_3") || v.Has("columns") {
		t.Errorf("problems on valid fields: %v", err)
	}

	p = imports.ImportPlan{Fields: []string{"ignore", "name", "ignore", "ignore", "ignore"}, Region: "DE", Policy: "skip", ConsentMode: imports.ConsentFromColumns}
	_, err = p.Check(imp.Headers, clock.Now(), time.UTC)
	if v, _ := models.AsValidation(err); v == nil || !v.Has("columns") || !v.Has("consent_mode") {
		t.Errorf("no phone and no consent columns: %v", err)
	}

	p = imports.ImportPlan{Fields: []string{"phone", "name", "attr", "ignore", "ignore"}, AttrKeys: []string{"", "", "", "", ""},
		Region: "AT", Policy: "skip", ConsentMode: imports.ConsentFromDeclaration, ConsentSource: "in_store", ConsentDate: "2026-03-02", ConsentConfirmed: true}
	chk, err := p.Check(imp.Headers, clock.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if chk.ConsentAt == nil || !chk.ConsentAt.Equal(clock.Now()) {
		t.Errorf("a declaration dated today means now: %v", chk.ConsentAt)
	}
	if chk.Mapping.Columns[2].AttrKey != "handy" {
		t.Errorf("empty attribute name defaults to the header: %+v", chk.Mapping.Columns[2])
	}
}

func TestImportQueueOnceAndIsolation(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	ctx := context.Background()
	a := ctTenant(t, db, "A")
	b := ctTenant(t, db, "B")
	imp := newImport(t, a, "phone", "name")
	chk, err := imports.ImportPlan{Fields: []string{"phone", "name"}, Region: "DE", Policy: "update", ConsentMode: imports.ConsentFromNone}.
		Check(imp.Headers, db.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Queue(ctx, b, imp.ID, chk, nil, 100); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B queues A's import: %v", err)
	}
	if _, err := imports.Cancel(ctx, b, imp.ID, nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B cancels A's import: %v", err)
	}
	if list, _ := imports.List(ctx, b, 10); len(list) != 0 {
		t.Errorf("B lists %d imports", len(list))
	}
	q, err := imports.Queue(ctx, a, imp.ID, chk, nil, 100)
	if err != nil || q.Status != imports.ImportQueued || q.Settings.BatchSize != 100 {
		t.Fatalf("queue: %v %+v", err, q)
	}
	if _, err := imports.Queue(ctx, a, imp.ID, chk, nil, 100); !errors.Is(err, models.ErrConflict) {
		t.Errorf("second confirmation: %v", err)
	}
	if _, err := imports.StartRun(ctx, b, imp.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B starts A's import: %v", err)
	}
	if _, err := imports.RecordBatch(ctx, b, imp.ID, 0, imports.ImportBatchDelta{RowsDone: 5, Imported: 5}, nil); !errors.Is(err, models.ErrConflict) {
		t.Errorf("B records on A's import: %v", err)
	}
}

func TestImportCheckpointAndRowErrors(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	ctx := context.Background()
	tn := ctTenant(t, db, "Laden")
	imp := newImport(t, tn, "phone", "name")
	if _, err := imports.StartRun(ctx, tn, imp.ID); err != nil {
		t.Fatal(err)
	}
	errs := []importer.RowError{{Row: 3, Field: "phone", Code: "phone_too_short", Message: "too short", Raw: []string{"0151", "A\x00nna"}}}
	st, err := imports.RecordBatch(ctx, tn, imp.ID, 0, imports.ImportBatchDelta{RowsDone: 4, Imported: 3, Failed: 1}, errs)
	if err != nil || st != imports.ImportUploaded {
		t.Fatalf("record: %v %s", err, st)
	}
	// The same batch again (a second worker): refused, nothing added.
	if _, err := imports.RecordBatch(ctx, tn, imp.ID, 0, imports.ImportBatchDelta{RowsDone: 4, Imported: 3, Failed: 1}, errs); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("replayed checkpoint: %v", err)
	}
	// The next batch repeats an error row (a replayed ledger batch): kept once.
	if _, err := imports.RecordBatch(ctx, tn, imp.ID, 4, imports.ImportBatchDelta{RowsDone: 8, Imported: 3, Failed: 1}, errs); err != nil {
		t.Fatal(err)
	}
	rows, err := imports.RowErrors(ctx, tn, imp.ID, 0, 100)
	if err != nil || len(rows) != 1 || rows[0].Raw[1] != "Anna" {
		t.Fatalf("row errors %+v %v", rows, err)
	}
	got, _ := imports.Get(ctx, tn, imp.ID)
	if got.RowsDone != 8 || got.Imported != 6 || got.Failed != 2 {
		t.Errorf("counters %+v", got)
	}
	if _, err := imports.Cancel(ctx, tn, imp.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := imports.Finish(ctx, tn, imp.ID, imports.ImportDone, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := imports.Get(ctx, tn, imp.ID); got.Status != imports.ImportCancelled {
		t.Errorf("finish overrode the cancellation: %s", got.Status)
	}
}

func TestImportDemo(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	u, err := db.UserByEmail(ctx, demo.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := db.MembershipOf(ctx, u.ID)
	tn, _ := db.Tenant(m.BusinessID)
	list, err := imports.List(ctx, tn, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("demo imports %d %v", len(list), err)
	}
	imp := list[0]
	if imp.Status != imports.ImportDone || imp.Counted() != imp.RowsDone {
		t.Errorf("demo import %+v", imp)
	}
	rows, _ := imports.RowErrors(ctx, tn, imp.ID, 0, 100)
	if int64(len(rows)) != imp.Failed {
		t.Errorf("%d error rows for %d failed", len(rows), imp.Failed)
	}
	for _, r := range rows {
		if r.Row < 2 || r.Row > imp.RowsTotal+1 {
			t.Errorf("rejected row %d outside a file of %d rows", r.Row, imp.RowsTotal)
		}
	}
	// What the real import would have left: its contacts are in the book,
	// found by the import's filter, with the declared consent.
	n, err := contacts.Count(ctx, tn, contacts.ContactFilter{ImportID: imp.ID})
	if err != nil || n != imp.Imported+imp.Updated {
		t.Errorf("contacts of the demo import: %d (%v), its counts say %d new + %d updated", n, err, imp.Imported, imp.Updated)
	}
	total, _ := contacts.Count(ctx, tn, contacts.ContactFilter{})
	if imp.Imported > total {
		t.Errorf("the demo import added %d contacts to a book of %d", imp.Imported, total)
	}
	if imp.Messageable == nil || *imp.Messageable != imp.Imported+imp.Updated {
		t.Errorf("messageable %v", imp.Messageable)
	}
	page, err := contacts.List(ctx, tn, contacts.ContactFilter{ImportID: imp.ID})
	if err != nil || len(page.Contacts) == 0 {
		t.Fatalf("list of the import: %v", err)
	}
	hist, err := contacts.ConsentHistory(ctx, tn, page.Contacts[0].ID)
	if err != nil || len(hist) == 0 || hist[0].RecordedBy != "import:"+strconv.FormatInt(imp.ID, 10) || hist[0].Source != "in_store" {
		t.Errorf("consent of an imported demo contact: %+v %v", hist, err)
	}
}
