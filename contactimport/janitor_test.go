package contactimport_test

import (
	"context"
	"encoding/json"
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

func TestJanitorRemovesAbandonedUploadsOnly(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	tn, u := f.business("Janitor GmbH")
	csv := []byte("phone,name\n+4915123456789,Anna\n")
	format := importer.Format{Encoding: importer.UTF8, Delimiter: ','}
	old := f.upload(tn, u, "old.csv", csv, format)
	f.clock.Advance(23 * time.Hour)
	fresh := f.upload(tn, u, "fresh.csv", csv, format)
	f.clock.Advance(2 * time.Hour) // old is 25 h old, fresh 2 h

	j := &contactimport.Janitor{Store: contactimport.DepsFor(f.db, f.files, nil, dbtest.Quiet).Store, Files: f.files, Now: f.db.Now}
	n, err := j.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("removed %d uploads, want 1", n)
	}
	if got := f.load(tn, old.ID); got.Status != imports.ImportCancelled {
		t.Errorf("abandoned upload status %q", got.Status)
	}
	if _, err := f.files.Open(ctx, old.FileKey); err == nil {
		t.Error("abandoned upload's file is still stored")
	}
	if got := f.load(tn, fresh.ID); got.Status != imports.ImportUploaded {
		t.Errorf("fresh upload touched: %q", got.Status)
	}
	if rc, err := f.files.Open(ctx, fresh.FileKey); err != nil {
		t.Errorf("fresh upload's file removed: %v", err)
	} else {
		rc.Close()
	}
	evs, _ := f.db.AuditLog(ctx, models.AuditFilter{Action: "import.cancelled"})
	if len(evs) != 1 || evs[0].ActorEmail != "system" || evs[0].BusinessID == nil || *evs[0].BusinessID != tn.BusinessID() {
		t.Fatalf("audit: %+v", evs)
	}
	if n, err := j.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

func TestJanitorRequeuesStalledImports(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	tn, u := f.business("Stall GmbH")
	csv := []byte("phone,name\n+4915123456789,Anna\n")
	format := importer.Format{Encoding: importer.UTF8, Delimiter: ','}
	up := f.upload(tn, u, "lost.csv", csv, format)
	lost := f.queue(tn, u, up, plan(up, contacts.DuplicateUpdate, imports.ConsentFromNone))
	f.clock.Advance(11 * time.Minute)
	up2 := f.upload(tn, u, "recent.csv", csv, format)
	recent := f.queue(tn, u, up2, plan(up2, contacts.DuplicateUpdate, imports.ConsentFromNone))
	q := jobs.New(f.db, dbtest.Quiet, jobs.Config{}) // never started: only its job table is read
	q.Add(f.eng)
	j := &contactimport.Janitor{Store: contactimport.DepsFor(f.db, f.files, q, dbtest.Quiet).Store, Files: f.files, Now: f.db.Now, Queue: q}
	n, err := j.Requeue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []contactimport.ImportArgs
	var rows []string
	col := "args"
	if f.db.Dialect == models.SQLite {
		col = "json(args)" // River keeps SQLite's args as binary JSON
	}
	if err := f.db.Gorm.Raw(`SELECT `+col+` FROM river_job WHERE kind = ?`, contactimport.ImportArgs{}.Kind()).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var a contactimport.ImportArgs
		if err := json.Unmarshal([]byte(r), &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if n != 1 || len(got) != 1 || got[0].ImportID != lost.ID || got[0].BusinessID != tn.BusinessID() {
		t.Fatalf("requeued %d: %+v (lost %d, recent %d)", n, got, lost.ID, recent.ID)
	}
}
