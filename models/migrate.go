package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"
)

// A Migration is one versioned schema step. Each runs in its own
// transaction and is recorded in schema_migrations, on both databases.
type Migration struct {
	Version int
	Name    string
	// SQL is DDL written once for both databases; see expandDDL for the
	// placeholders that differ between SQLite and PostgreSQL.
	SQL string
	// Func, when set, runs after SQL inside the same transaction.
	Func func(tx *gorm.DB, d Dialect) error
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Optline than this binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this version of Optline knows")

// LatestVersion is the newest schema version this binary knows.
func LatestVersion() int {
	if len(migrations) == 0 {
		return 0
	}
	return migrations[len(migrations)-1].Version
}

// SchemaVersion reads the version recorded in the database (0 when new).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if err := db.WithContext(ctx).Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + ddlTypes[db.Dialect]["ts"] + ` NOT NULL)`).Error; err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	var v *int
	if err := db.WithContext(ctx).Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// Migrate brings the schema up to LatestVersion. It refuses to touch a
// database whose schema is newer than this binary.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if db.Dialect == Postgres {
		// One migrator at a time, even with several portals starting at once.
		if err := db.WithContext(ctx).Exec(`SELECT pg_advisory_lock(4242001)`).Error; err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		defer db.WithContext(context.WithoutCancel(ctx)).Exec(`SELECT pg_advisory_unlock(4242001)`)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return Wrap("DB.Migrate", err)
	}
	latest := LatestVersion()
	if current > latest {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d", ErrSchemaTooNew, current, latest)
	}
	for _, m := range migrations {
		if m.Version <= current {
			continue
		}
		start := time.Now()
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, stmt := range splitSQL(expandDDL(m.SQL, db.Dialect)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstWords(stmt, 6), err)
				}
			}
			if m.Func != nil {
				if err := m.Func(tx, db.Dialect); err != nil {
					return err
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, db.Now()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		log.Info("schema migrated", "version", m.Version, "name", m.Name, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := db.migrateJobQueue(ctx); err != nil {
		return fmt.Errorf("job queue tables: %w", err)
	}
	return nil
}

// migrateJobQueue creates or upgrades River's own tables with River's
// migrator, on either database.
func (db *DB) migrateJobQueue(ctx context.Context) error {
	if db.Dialect == Postgres {
		m, err := rivermigrate.New(riverpgxv5.New(db.Pool), nil)
		if err != nil {
			return err
		}
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	m, err := rivermigrate.New(riversqlite.New(db.SQL), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

var ddlTypes = map[Dialect]map[string]string{
	SQLite: {
		"id":     "INTEGER PRIMARY KEY AUTOINCREMENT",
		"ts":     "DATETIME",
		"bool":   "BOOLEAN",
		"blob":   "BLOB",
		"bigint": "INTEGER",
		"json":   "TEXT",
		// Exact decimals (prices) as their text; SQLite has no decimal type.
		"decimal": "TEXT",
	},
	Postgres: {
		"id":      "BIGSERIAL PRIMARY KEY",
		"ts":      "TIMESTAMPTZ",
		"bool":    "BOOLEAN",
		"blob":    "BYTEA",
		"bigint":  "BIGINT",
		"json":    "JSONB",
		"decimal": "NUMERIC(18,6)",
	},
}

// expandDDL replaces {{id}}, {{ts}}, {{bool}}, {{blob}}, {{bigint}},
// {{json}} and {{decimal}} with each database's type, and drops lines (or keeps them)
// marked "-- pg-only" / "-- sqlite-only".
func expandDDL(s string, d Dialect) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.Contains(line, "-- pg-only") && d != Postgres {
			continue
		}
		if strings.Contains(line, "-- sqlite-only") && d != SQLite {
			continue
		}
		if i := strings.Index(line, "-- pg-only"); i >= 0 {
			line = line[:i] + "\n"
		}
		if i := strings.Index(line, "-- sqlite-only"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	out := b.String()
	for k, v := range ddlTypes[d] {
		out = strings.ReplaceAll(out, "{{"+k+"}}", v)
	}
	return out
}

// splitSQL splits a script on semicolons at line ends. Migration SQL keeps
// to that shape (no semicolons inside statements' lines' ends).
func splitSQL(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSpace(cur.String())
			out = append(out, strings.TrimSuffix(stmt, ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Migrations lists the schema steps in the order they run.
func Migrations() []Migration { return append([]Migration(nil), migrations...) }
