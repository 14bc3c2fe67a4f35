package contactimport_test

import (
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/imports"
)

// generated is a realistic file: German headers, semicolons, national
// and international numbers, ~2% bad rows, repeated numbers.
func generated(t *testing.T, rows int) []byte {
	t.Helper()
	var b strings.Builder
	if err := importer.Generate(&b, rows, 7); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

// sameResult compares an interrupted import with a clean one of the same
// file in another business: same contacts, same counts, same report.
func sameResult(t *testing.T, f *fx, cleanTn models.Tenant, clean *imports.Import, tn models.Tenant, got *imports.Import) {
	t.Helper()
	if got.Status != imports.ImportDone {
		t.Fatalf("status %s (%s)", got.Status, got.Error)
	}
	checkCounts(t, got)
	type counts struct{ rows, imported, updated, skipped, suppressed, failed, duplicates, blank int64 }
	c := func(i *imports.Import) counts {
		return counts{i.RowsDone, i.Imported, i.Updated, i.Skipped, i.Suppressed, i.Failed, i.Duplicates, i.Blank}
	}
	if c(got) != c(clean) {
		t.Errorf("counts after restart %+v, clean run %+v", c(got), c(clean))
	}
	want, have := f.book(cleanTn), f.book(tn)
	if !slices.Equal(want, have) {
		t.Errorf("contacts differ: clean %d, restarted %d", len(want), len(have))
		for i := range min(len(want), len(have)) {
			if want[i] != have[i] {
				t.Errorf("first difference:\n clean %q\n   got %q", want[i], have[i])
				break
			}
		}
	}
	if int64(len(have)) != got.Imported {
		t.Errorf("%d contacts for %d imported rows", len(have), got.Imported)
	}
	if f.report(tn, got) != f.report(cleanTn, clean) {
		t.Error("error reports differ")
	}
	r := csv.NewReader(strings.NewReader(f.report(tn, got)))
	r.Comma, r.FieldsPerRecord = ';', -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recs) - 1; int64(n) != got.Failed {
		t.Errorf("report has %d rows, %d failed", n, got.Failed)
	}
}

var errCrash = errors.New("simulated crash")

// TestImportResumesAfterCrash stops the job twice mid-file: once after a
// batch was applied but before its checkpoint (the process dies between
// the two commits), once by cancelling its context, and resumes it in
// short slices. The result equals a clean run: no duplicates, counts add
// up, the report lists each rejected row once.
func TestImportResumesAfterCrash(t *testing.T) {
	f := newFx(t)
	content := generated(t, 3000)
	f.eng.BatchSize = 400

	cleanTn, cu := f.business("Clean")
	clean := f.importFile(cleanTn, cu, content, importer.Format{}, contacts.DuplicateUpdate, imports.ConsentFromColumns)
	if clean.Failed == 0 || clean.Duplicates == 0 {
		t.Fatalf("file should have bad rows and repeats: %+v", clean)
	}

	tn, u := f.business("Crashy")
	imp := f.upload(tn, u, "kunden.csv", content, importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromColumns))
	args := contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID()}

	// 1. Dies after applying the third batch, before its checkpoint.
	n := 0
	f.eng.Hooks = &contactimport.Hooks{AfterApply: func(int64, importer.Batch) error {
		if n++; n == 3 {
			return errCrash
		}
		return nil
	}}
	if _, err := f.eng.RunSlice(context.Background(), args); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	if got := f.load(tn, imp.ID); got.RowsDone != 800 || got.Status != imports.ImportRunning {
		t.Fatalf("after crash: %d rows done, %s", got.RowsDone, got.Status)
	}

	// 2. A new process: its context ends while the fifth batch is applied.
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	f.eng.Hooks = &contactimport.Hooks{AfterApply: func(int64, importer.Batch) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	}}
	if _, err := f.eng.RunSlice(ctx, args); err == nil {
		t.Fatal("cancelled run reported success")
	}

	// 3. The rest, one batch per slice.
	f.eng.Hooks = nil
	f.eng.SliceTime = time.Nanosecond
	slices := 0
	for {
		out, err := f.eng.RunSlice(context.Background(), args)
		if err != nil {
			t.Fatal(err)
		}
		slices++
		if out == contactimport.Finished {
			break
		}
	}
	if slices < 3 {
		t.Errorf("only %d slices", slices)
	}
	sameResult(t, f, cleanTn, clean, tn, f.load(tn, imp.ID))
}

// TestImportSurvivesQueueRestart runs the import on the real job queue,
// stops the queue after a few batches (the job snoozes at a slice end),
// starts a new queue with a new engine, and checks the result equals a
// clean run.
func TestImportSurvivesQueueRestart(t *testing.T) {
	f := newFx(t)
	content := generated(t, 2400)
	f.eng.BatchSize = 300
	cleanTn, cu := f.business("Clean")
	clean := f.importFile(cleanTn, cu, content, importer.Format{}, contacts.DuplicateSkip, imports.ConsentFromColumns)

	tn, u := f.business("Restarted")
	imp := f.upload(tn, u, "kunden.csv", content, importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateSkip, imports.ConsentFromColumns))

	reached := make(chan struct{})
	var once bool
	q1 := f.newQueue(t, func(e *contactimport.Engine) {
		e.SliceTime = time.Nanosecond
		batches := 0
		e.Hooks = &contactimport.Hooks{AfterApply: func(int64, importer.Batch) error {
			if batches++; batches == 3 && !once {
				once = true
				close(reached)
			}
			return nil
		}}
	})
	ctx1, stop1 := context.WithCancel(context.Background())
	if err := q1.Start(ctx1); err != nil {
		t.Fatal(err)
	}
	if _, err := q1.Insert(context.Background(), contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID()}, nil); err != nil {
		t.Fatal(err)
	}
	// A double click queues one job.
	if _, err := q1.Insert(context.Background(), contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID()}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("import did not start")
	}
	stopCtx, c := context.WithTimeout(context.Background(), 30*time.Second)
	if err := q1.Stop(stopCtx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	c()
	stop1()
	mid := f.load(tn, imp.ID)
	if mid.Status != imports.ImportRunning || mid.RowsDone == 0 || mid.RowsDone >= mid.RowsTotal {
		t.Fatalf("after stop: %s, %d of %d", mid.Status, mid.RowsDone, mid.RowsTotal)
	}

	q2 := f.newQueue(t, nil)
	ended, stopEvents := q2.Finished()
	defer stopEvents()
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	if err := q2.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sc, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q2.Stop(sc)
	}()
	timeout := time.After(90 * time.Second)
	for {
		got := f.load(tn, imp.ID)
		if got.Finished() {
			sameResult(t, f, cleanTn, clean, tn, got)
			break
		}
		select {
		case <-ended: // a slice or the import's job ended: look again
		case <-timeout:
			t.Fatalf("import did not finish: %s %d of %d", got.Status, got.RowsDone, got.RowsTotal)
		}
	}
	var jobs int64
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM river_job WHERE kind = ?`, contactimport.ImportArgs{}.Kind()).Scan(&jobs)
	if jobs != 1 {
		t.Errorf("%d import jobs, want 1", jobs)
	}
}

// newQueue builds a job queue on the fixture's database with an import
// engine sharing its file store.
func (f *fx) newQueue(t *testing.T, tune func(*contactimport.Engine)) *jobs.Queue {
	t.Helper()
	q := jobs.New(f.db, dbtest.Quiet, jobs.Config{Poll: 50 * time.Millisecond})
	e := contactimport.New(contactimport.DepsFor(f.db, f.files, q, dbtest.Quiet), contactimport.Options{Workers: 2, BatchSize: f.eng.BatchSize})
	if tune != nil {
		tune(e)
	}
	q.Add(e)
	return q
}
