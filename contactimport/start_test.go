package contactimport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/imports"
)

// Start marks the import queued and enqueues its job in one transaction:
// a second confirmation changes nothing, and when the job cannot be
// enqueued the import stays waiting for its mapping (confirm again),
// never "queued" without a job.
func TestStartQueuesTheImportAndItsJobTogether(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	ctx := context.Background()
	tn, u := f.business("Start")
	csv := []byte("phone,name\n+4915112345678,Ada\n")
	format := importer.Format{Encoding: importer.UTF8, Delimiter: ','}
	jobsOf := func() int64 {
		var n int64
		f.db.Gorm.Raw(`SELECT COUNT(*) FROM river_job WHERE kind = ?`, contactimport.ImportArgs{}.Kind()).Scan(&n)
		return n
	}

	// A queue whose workers do not include imports refuses the job: the
	// transaction rolls back.
	bare := jobs.New(f.db, dbtest.Quiet, jobs.Config{})
	broken := contactimport.New(contactimport.DepsFor(f.db, f.files, bare, dbtest.Quiet), contactimport.Options{})
	up := f.upload(tn, u, "a.csv", csv, format)
	chk, err := plan(up, contacts.DuplicateUpdate, imports.ConsentFromNone).Check(up.Headers, f.db.Now(), up.Location())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := broken.Start(ctx, tn, up.ID, chk, u); err == nil {
		t.Fatal("start without a queue for imports succeeded")
	}
	if got := load(t, tn, up.ID); got.Status != imports.ImportUploaded && got.Status != imports.ImportMapping {
		t.Fatalf("after a failed start the import is %q, want it still waiting for its mapping", got.Status)
	}
	if n := jobsOf(); n != 0 {
		t.Fatalf("%d import jobs after a failed start", n)
	}

	q := jobs.New(f.db, dbtest.Quiet, jobs.Config{})
	eng := contactimport.New(contactimport.DepsFor(f.db, f.files, q, dbtest.Quiet), contactimport.Options{})
	q.Add(eng)
	if _, err := eng.Start(ctx, tn, up.ID, chk, u); err != nil {
		t.Fatal(err)
	}
	if got := load(t, tn, up.ID); got.Status != imports.ImportQueued {
		t.Fatalf("after start the import is %q", got.Status)
	}
	if _, err := eng.Start(ctx, tn, up.ID, chk, u); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second start = %v, want a conflict", err)
	}
	if n := jobsOf(); n != 1 {
		t.Fatalf("%d import jobs, want 1", n)
	}
}

func load(t *testing.T, tn models.Tenant, id int64) *imports.Import {
	t.Helper()
	imp, err := imports.Get(context.Background(), tn, id)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}
