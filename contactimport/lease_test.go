package contactimport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/imports"
)

// TestImportLeaseOneRunAtATime: while a live run holds an import's lease,
// another job's slice ends without touching it; once the holder's
// heartbeat is older than models.WorkStale, the next slice takes over
// and finishes the import with nothing lost or doubled.
func TestImportLeaseOneRunAtATime(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	content := generated(t, 1200)
	f.eng.BatchSize = 300
	cleanTn, cu := f.business("Clean")
	clean := f.importFile(cleanTn, cu, content, importer.Format{}, contacts.DuplicateUpdate, imports.ConsentFromColumns)

	tn, u := f.business("Leased")
	imp := f.upload(tn, u, "kunden.csv", content, importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromColumns))
	args := contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID()}

	// The first run dies after two batches, its lease still held.
	n := 0
	f.eng.Hooks = &contactimport.Hooks{AfterApply: func(int64, importer.Batch) error {
		if n++; n == 3 {
			return errCrash
		}
		return nil
	}}
	if _, err := f.eng.RunSlice(ctx, args); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	f.eng.Hooks = nil
	if _, err := imports.StartRun(ctx, tn, imp.ID); err != nil {
		t.Fatal(err)
	}
	dead, err := imports.Claim(ctx, tn, imp.ID, "") // released by the run; a dead process takes it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Claim(ctx, tn, imp.ID, ""); !errors.Is(err, models.ErrLeaseTaken) {
		t.Fatalf("second claim of a live lease: %v", err)
	}
	if _, err := imports.Claim(ctx, tn, imp.ID, "job 7"); !errors.Is(err, models.ErrLeaseTaken) {
		t.Fatalf("a job's claim of a live lease: %v", err)
	}
	// A job's slices share its lease: its next slice claims again at once.
	mine := f.upload(tn, u, "other.csv", content, importer.Format{})
	f.queue(tn, u, mine, plan(mine, contacts.DuplicateUpdate, imports.ConsentFromColumns))
	if _, err := imports.StartRun(ctx, tn, mine.ID); err != nil {
		t.Fatal(err)
	}
	l, err := imports.Claim(ctx, tn, mine.ID, "job 7")
	if err != nil {
		t.Fatal(err)
	}
	_, release := l.Hold(ctx)
	release(true)
	if _, err := imports.Claim(ctx, tn, mine.ID, "job 8"); !errors.Is(err, models.ErrLeaseTaken) {
		t.Fatalf("another job took a kept lease: %v", err)
	}
	if _, err := imports.Claim(ctx, tn, mine.ID, "job 7"); err != nil {
		t.Fatalf("the job's next slice: %v", err)
	}
	if _, err := imports.Cancel(ctx, tn, mine.ID, nil); err != nil {
		t.Fatal(err)
	}
	// A job of the import (the dead run's, rescued by the queue) ends
	// without work while the lease is alive.
	out, err := f.eng.RunSlice(ctx, args)
	if err != nil || out != contactimport.Finished {
		t.Fatalf("slice beside a live lease: %v %v", out, err)
	}
	mid := f.load(tn, imp.ID)
	if mid.RowsDone != 600 || mid.LeaseToken != dead.Token() || mid.Status != imports.ImportRunning {
		t.Fatalf("slice beside a live lease worked: %d rows, lease %q, %s", mid.RowsDone, mid.LeaseToken, mid.Status)
	}
	if stalled, _ := f.eng.Stalled(ctx, f.db.Now().Add(-models.WorkStale)); len(stalled) != 0 {
		t.Fatalf("live import reported stalled: %+v", stalled)
	}

	f.clock.Advance(models.WorkStale + time.Second)
	stalled, err := f.eng.Stalled(ctx, f.db.Now().Add(-models.WorkStale))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := f.eng.Stalled(ctx, f.db.Now().Add(-models.WorkStale))
	want := contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID(), Resume: mid.HeartbeatAt.UnixMicro()}
	if len(stalled) != 1 || stalled[0] != river.JobArgs(want) || len(again) != 1 || again[0] != stalled[0] {
		t.Fatalf("stalled %+v, again %+v, want %+v", stalled, again, want)
	}
	got := f.run(tn, imp.ID)
	if got.LeaseToken != "" {
		t.Errorf("finished import keeps lease %q", got.LeaseToken)
	}
	sameResult(t, f, cleanTn, clean, tn, got)
	if stalled, _ := f.eng.Stalled(ctx, f.db.Now().Add(time.Hour)); len(stalled) != 0 {
		t.Errorf("finished import reported stalled: %+v", stalled)
	}
}

// TestResumeLoopTakesUpStalledImport: a process died holding an import's
// lease, its job still "running" in the queue. Two new portals (queues
// with the import engine as their resumer) on the database, once the
// heartbeat is stale, queue one fresh job between them, which finishes
// the import; the dead job, when it runs, ends without work.
func TestResumeLoopTakesUpStalledImport(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	content := generated(t, 1500)
	f.eng.BatchSize = 300
	cleanTn, cu := f.business("Clean")
	clean := f.importFile(cleanTn, cu, content, importer.Format{}, contacts.DuplicateSkip, imports.ConsentFromColumns)

	tn, u := f.business("Resumed")
	imp := f.upload(tn, u, "kunden.csv", content, importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateSkip, imports.ConsentFromColumns))
	if _, err := imports.StartRun(ctx, tn, imp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Claim(ctx, tn, imp.ID, ""); err != nil { // the run that dies
		t.Fatal(err)
	}

	// Two portals on the database, each with its resume loop.
	var q *jobs.Queue
	for range 2 {
		qi := jobs.New(f.db, dbtest.Quiet, jobs.Config{Poll: 50 * time.Millisecond, ResumeEvery: 50 * time.Millisecond})
		eng := contactimport.New(contactimport.DepsFor(f.db, f.files, qi, dbtest.Quiet), contactimport.Options{Workers: 2, BatchSize: f.eng.BatchSize})
		qi.Add(eng)
		qi.Resume(eng)
		qctx, stop := context.WithCancel(ctx)
		defer stop()
		if err := qi.Start(qctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sc, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = qi.Stop(sc)
		}()
		q = qi
	}
	// The dead process's job, as the queue's rescue would run it: the
	// lease is alive, so it ends without work.
	if _, err := q.Insert(ctx, contactimport.ImportArgs{ImportID: imp.ID, BusinessID: tn.BusinessID()}, nil); err != nil {
		t.Fatal(err)
	}
	waitJobs(t, f, 1)
	if got := f.load(tn, imp.ID); got.RowsDone != 0 || got.Finished() {
		t.Fatalf("the job beside a live lease worked: %d rows, %s", got.RowsDone, got.Status)
	}

	f.clock.Advance(models.WorkStale + time.Second) // the heartbeat is stale
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := f.load(tn, imp.ID)
		if got.Finished() {
			sameResult(t, f, cleanTn, clean, tn, got)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stalled import not taken up: %s %d of %d", got.Status, got.RowsDone, got.RowsTotal)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitJobs(t, f, 2) // the dead one and one resume job, however often the two loops looked
}

// waitJobs waits until n import jobs exist and all are completed.
func waitJobs(t *testing.T, f *fx, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var all, completed int64
		f.db.Gorm.Raw(`SELECT COUNT(*) FROM river_job WHERE kind = ?`, contactimport.ImportArgs{}.Kind()).Scan(&all)
		f.db.Gorm.Raw(`SELECT COUNT(*) FROM river_job WHERE kind = ? AND state = 'completed'`, contactimport.ImportArgs{}.Kind()).Scan(&completed)
		if all == n && completed == n {
			return
		}
		if all > n || time.Now().After(deadline) {
			t.Fatalf("%d import jobs (%d completed), want %d completed", all, completed, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
