package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/imports"
)

// resumeLimit is the requirement: a restarted portal takes up the imports
// a killed one was working within 30 seconds.
const resumeLimit = 30 * time.Second

// TestKilledPortalResumesImportWithin30s builds the portal, runs it as a
// real process on SQLite (and, with TEST_DATABASE_URL, on a fresh
// PostgreSQL database), starts a big import, kills the process with
// SIGKILL mid-import, starts it again and measures how long the new
// process takes until the import moves again; at the end no row is lost
// or doubled. The test drives the database through models, beside the
// running process, as the upload and mapping pages would.
func TestKilledPortalResumesImportWithin30s(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the portal; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) { killAndResume(t, bin, "") })
	t.Run("postgres", func(t *testing.T) {
		if dbtest.URL() == "" {
			t.Skip("TEST_DATABASE_URL not set")
		}
		killAndResume(t, bin, freshPostgres(t))
	})
}

// freshPostgres creates an empty database beside TEST_DATABASE_URL's,
// dropped at cleanup, and returns its URL; the portal migrates it.
func freshPostgres(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("optline_kill_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dbtest.URL())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(dbtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func killAndResume(t *testing.T, bin, dsn string) {
	data := filepath.Join(t.TempDir(), "data")
	p1 := startProcess(t, bin, data, dsn, "first")

	ctx := context.Background()
	db, err := models.Open(ctx, dsn, data, dbtest.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tn, imp := queueBigImport(t, db, data, 120_000)

	// Wait until the first process is well into the file, then kill it.
	waitFor(t, 2*time.Minute, "import under way", func() bool {
		return load(t, tn, imp.ID).RowsDone >= 10_000
	})
	if err := p1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p1.exited
	killed := time.Now()
	atKill := load(t, tn, imp.ID)
	if atKill.Finished() || atKill.RowsDone >= atKill.RowsTotal {
		t.Fatalf("import ended before the kill: %s %d of %d", atKill.Status, atKill.RowsDone, atKill.RowsTotal)
	}
	t.Logf("killed at %d of %d rows", atKill.RowsDone, atKill.RowsTotal)

	restarted := time.Now()
	p2 := startProcess(t, bin, data, dsn, "second")
	defer p2.stop(t)
	var moved time.Time
	waitFor(t, 2*resumeLimit, "import moving after the restart", func() bool {
		if load(t, tn, imp.ID).RowsDone > atKill.RowsDone {
			moved = time.Now()
			return true
		}
		return false
	})
	resumed := moved.Sub(restarted)
	t.Logf("import moved again %.1f s after the restart (%.1f s after the kill; requirement ≤ %s)",
		resumed.Seconds(), moved.Sub(killed).Seconds(), resumeLimit)
	if resumed > resumeLimit {
		t.Errorf("resumed %.1f s after the restart, want ≤ %s", resumed.Seconds(), resumeLimit)
	}

	var done *imports.Import
	waitFor(t, 5*time.Minute, "import finished", func() bool {
		done = load(t, tn, imp.ID)
		return done.Finished()
	})
	if done.Status != imports.ImportDone {
		t.Fatalf("import %s: %s\n%s", done.Status, done.Error, p2.out.String())
	}
	if done.RowsDone != done.RowsTotal || done.Counted() != done.RowsDone {
		t.Errorf("rows %d of %d, counted %d (new %d, updated %d, skipped %d, kept opted out %d, rejected %d, repeated %d, blank %d)",
			done.RowsDone, done.RowsTotal, done.Counted(), done.Imported, done.Updated, done.Skipped, done.Suppressed, done.Failed, done.Duplicates, done.Blank)
	}
	var contacts, rejected int64
	db.Gorm.Raw(`SELECT COUNT(*) FROM contacts WHERE business_id = ?`, tn.BusinessID()).Scan(&contacts)
	db.Gorm.Raw(`SELECT COUNT(*) FROM import_row_errors WHERE business_id = ? AND import_id = ?`, tn.BusinessID(), imp.ID).Scan(&rejected)
	// The book was empty: every contact is a new one, once.
	if contacts != done.Imported || done.Updated != 0 {
		t.Errorf("%d contacts for %d new (%d updated): rows lost or doubled", contacts, done.Imported, done.Updated)
	}
	if rejected != done.Failed {
		t.Errorf("%d rejected rows stored, %d counted", rejected, done.Failed)
	}
	t.Logf("finished: %d rows, %d new, %d repeated, %d rejected", done.RowsDone, done.Imported, done.Duplicates, done.Failed)
}

// process is a running portal binary.
type process struct {
	cmd    *exec.Cmd
	out    *syncBuf
	exited chan struct{}
}

// startProcess runs the portal with its data folder data, on dsn (""
// for SQLite in data), and waits until it listens.
func startProcess(t *testing.T, bin, data, dsn, name string) *process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORTAL_DATA_DIR="+data, "PORTAL_ADDR=127.0.0.1:0", "DATABASE_URL="+dsn, "PORTAL_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: &syncBuf{}, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if !once && strings.Contains(line, "portal listening") {
				once = true
				close(ready)
			}
		}
	}()
	go func() { _ = cmd.Wait(); pw.Close(); close(p.exited) }()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%s portal did not start:\n%s", name, p.out.String())
	}
	return p
}

// stop ends the process with SIGTERM (a clean shutdown).
func (p *process) stop(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Error("portal did not stop on SIGTERM")
	}
}

// queueBigImport signs up a business, stores a generated file of rows
// rows as its upload, confirms the detected mapping with consent from the
// file's columns and queues the import's job, as the pages do.
func queueBigImport(t *testing.T, db *models.DB, data string, rows int) (models.Tenant, *imports.Import) {
	t.Helper()
	ctx := context.Background()
	u, b, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Kill Test GmbH",
		NewUserInput: models.NewUserInput{Name: "Owner", Email: "owner@kill.example", Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var content bytes.Buffer
	if err := importer.Generate(&content, rows, 3); err != nil {
		t.Fatal(err)
	}
	files := blobstore.InDataDir(data)
	key := blobstore.NewKey(fmt.Sprintf("imports/%d", b.ID), ".csv")
	if _, err := files.Put(ctx, key, bytes.NewReader(content.Bytes())); err != nil {
		t.Fatal(err)
	}
	a, err := contactimport.Analyze(ctx, bytes.NewReader(content.Bytes()), importer.Format{}, importer.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := imports.Create(ctx, tn, imports.NewImport{By: u, FileName: "kunden.csv", FileKey: key, FileSize: int64(content.Len()),
		Format: a.Format, Headers: a.Header, Mapping: a.Mapping, Region: "DE", Policy: contacts.DuplicateUpdate, TimeZone: "Europe/Berlin", RowsTotal: int64(a.Rows)})

	if err != nil {
		t.Fatal(err)
	}
	p := imports.ImportPlan{Region: "DE", Policy: string(contacts.DuplicateUpdate), ConsentMode: imports.ConsentFromColumns}
	for _, c := range imp.Mapping.Columns {
		p.Fields = append(p.Fields, c.Field)
		p.AttrKeys = append(p.AttrKeys, c.AttrKey)
	}
	chk, err := p.Check(imp.Headers, db.Now(), imp.Location())
	if err != nil {
		t.Fatal(err)
	}
	// A queue that is never started, only to insert the job, the way the
	// portal starts an import.
	q := jobs.New(db, dbtest.Quiet, jobs.Config{})
	eng := contactimport.New(contactimport.DepsFor(db, files, q, dbtest.Quiet), contactimport.Options{})
	q.Add(eng)
	if _, err := eng.Start(ctx, tn, imp.ID, chk, u); err != nil {
		t.Fatal(err)
	}
	return tn, imp
}

func load(t *testing.T, tn models.Tenant, id int64) *imports.Import {
	t.Helper()
	imp, err := imports.Get(context.Background(), tn, id)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
