package jobs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestCleanupJobExpiresSessions runs the real queue on the test database
// (SQLite, or PostgreSQL with TEST_DATABASE_URL) and waits for the
// periodic cleanup to remove a timed-out session while keeping a fresh one.
func TestCleanupJobExpiresSessions(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	now := db.Now()
	for _, s := range []*models.Session{
		{ID: "old", Data: "{}", CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-90 * time.Minute)},
		{ID: "fresh", Data: "{}", CreatedAt: now, LastSeenAt: now},
	} {
		if err := db.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	q := jobs.New(db, dbtest.Quiet, jobs.Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, Poll: 100 * time.Millisecond})
	done, stop := q.Finished()
	defer stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := q.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopCtx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		_ = q.Stop(stopCtx)
	}()
	timeout := time.After(20 * time.Second)
	for cleaned := false; !cleaned; {
		select {
		case ev := <-done:
			cleaned = ev.Job.Kind == (jobs.CleanupArgs{}).Kind() && ev.Kind == river.EventKindJobCompleted
		case <-timeout:
			t.Fatal("the cleanup job never completed")
		}
	}
	if _, err := db.SessionByID(ctx, "old"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("cleanup job kept the expired session: %v", err)
	}
	if _, err := db.SessionByID(ctx, "fresh"); err != nil {
		t.Fatalf("fresh session removed: %v", err)
	}
}

// TestSweepFilesKeepsWhatRowsName: the cleanup removes an old file no row
// names (an upload whose row was never saved, a replaced photo left by a
// crash), and keeps files rows name and files younger than the grace time,
// which may be waiting for their row.
func TestSweepFilesKeepsWhatRowsName(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	dir := t.TempDir()
	files := blobstore.NewLocal(dir)
	now := db.Now()
	b := &models.Business{Name: "Laden", Status: models.BusinessActive, VerificationState: models.VerificationUnverified, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(b).Error; err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"photo": "photos/1/aaaa.png", "import": "imports/1/bbbb.csv", "orphan": "photos/1/cccc.png",
		"orphan doc": "documents/1/dddd.pdf", "young orphan": "imports/1/eeee.csv"}
	for _, k := range keys {
		if _, err := files.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Gorm.Exec(`INSERT INTO business_profiles (business_id, photo_key, created_at, updated_at) VALUES (?, ?, ?, ?)`, b.ID, keys["photo"], now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Exec(`INSERT INTO imports (business_id, file_name, file_key, created_at, updated_at) VALUES (?, 'k.csv', ?, ?, ?)`, b.ID, keys["import"], now, now).Error; err != nil {
		t.Fatal(err)
	}
	// An upload the process died writing.
	if err := os.WriteFile(filepath.Join(dir, "photos", "1", ".upload-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys["unfinished"] = "photos/1/.upload-123"
	old := time.Now().Add(-2 * jobs.FileGrace)
	for name, k := range keys {
		if name != "young orphan" {
			if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(k)), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := jobs.SweepFiles(ctx, db, files, time.Now().Add(-jobs.FileGrace))
	if err != nil || n != 3 {
		t.Fatalf("swept %d files, %v; want the two old orphans and the unfinished upload", n, err)
	}
	for name, k := range keys {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k)))
		gone := errors.Is(err, os.ErrNotExist)
		if want := strings.HasPrefix(name, "orphan") || name == "unfinished"; gone != want {
			t.Errorf("%s (%s): gone %v, want %v", name, k, gone, want)
		}
	}
}
