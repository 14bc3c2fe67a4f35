// Package dbtest gives each test a fresh, migrated database: an SQLite
// file always, or a PostgreSQL database when TEST_DATABASE_URL is set.
// On PostgreSQL the schema is migrated once per test binary into a
// template database, and each test clones it (fast), then drops it.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/optline/optline/models"
)

// Quiet is a logger that discards everything.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// URL is TEST_DATABASE_URL ("" means SQLite only).
func URL() string { return os.Getenv("TEST_DATABASE_URL") }

var (
	tplOnce sync.Once
	tplName string
	tplErr  error
)

// Main runs the package's tests and removes the PostgreSQL template
// afterwards. Passwords are hashed cheaply (models.UseTestHashing): the
// suites log in hundreds of times. Use it from TestMain: func TestMain(m *testing.M) { dbtest.Main(m) }.
func Main(m *testing.M) {
	models.UseTestHashing()
	code := m.Run()
	if tplName != "" {
		_ = adminExec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{tplName}.Sanitize()+" WITH (FORCE)")
	}
	os.Exit(code)
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// Now returns the current test time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Open returns a fresh migrated database closed and removed at cleanup.
func Open(t testing.TB) *models.DB {
	t.Helper()
	ctx := context.Background()
	if URL() == "" {
		dir := t.TempDir()
		db, err := models.Open(ctx, "", dir, Quiet)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		if err := db.Migrate(ctx, Quiet); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	tplOnce.Do(func() { tplName, tplErr = makeTemplate(ctx) })
	if tplErr != nil {
		t.Fatalf("postgres template: %v", tplErr)
	}
	name := "optline_test_" + randHex()
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tplName}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	db, err := models.Open(ctx, withDB(URL(), name), "", Quiet)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		_ = adminExec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return db
}

// Dialect reports which database tests run on.
func Dialect() models.Dialect {
	if URL() == "" {
		return models.SQLite
	}
	return models.Postgres
}

func makeTemplate(ctx context.Context) (string, error) {
	name := "optline_tpl_" + randHex()
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	db, err := models.Open(ctx, withDB(URL(), name), "", Quiet)
	if err != nil {
		return name, err
	}
	defer db.Close()
	if err := db.Migrate(ctx, Quiet); err != nil {
		return name, fmt.Errorf("migrate template: %w", err)
	}
	return name, nil
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		return fmt.Errorf("connect to TEST_DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

// OpenClocked is Open with the database's clock set to a Clock the test
// moves.
func OpenClocked(t testing.TB) (*models.DB, *Clock) {
	t.Helper()
	db := Open(t)
	clock := NewClock()
	db.Now = clock.Now
	return db, clock
}

// Business creates an active business called name and returns its scope.
func Business(t testing.TB, db *models.DB, name string) models.Tenant {
	t.Helper()
	now := db.Now()
	b := &models.Business{Name: name, Status: models.BusinessActive, VerificationState: models.VerificationUnverified, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(b).Error; err != nil {
		t.Fatalf("create business: %v", err)
	}
	tn, err := db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}
