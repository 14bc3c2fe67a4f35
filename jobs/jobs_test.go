package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	q, err := jobs.New(db, dbtest.Quiet, jobs.Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := db.SessionByID(ctx, "old")
		if errors.Is(err, models.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cleanup job never removed the expired session")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := db.SessionByID(ctx, "fresh"); err != nil {
		t.Fatalf("fresh session removed: %v", err)
	}
}
