// Package models holds Optline's storage: GORM models, the versioned schema
// migrations, business-scoped queries and the domain rules with their errors.
// It knows nothing about HTTP or views.
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the opened database: GORM for queries plus the raw handles the job
// queue and bulk loaders need.
type DB struct {
	Gorm *gorm.DB
	SQL  *sql.DB
	Pool *pgxpool.Pool // nil on SQLite
	// QueueSQL (SQLite) and QueuePool (PostgreSQL) are the job queue's
	// own connections (the other is nil), so River's leader election,
	// fetches and completions never wait behind page reads for one of
	// the pool's connections (on SQLite 50 clients searching kept all
	// four busy for seconds and the election timed out). The queue's
	// workers still do their work through Gorm and Pool.
	QueueSQL  *sql.DB
	QueuePool *pgxpool.Pool
	// Dialect is chosen once, when the store opens: code that differs per
	// database switches on it (Pool and QueuePool are set exactly when it
	// is Postgres).
	Dialect Dialect
	// Now is the clock every model rule uses; tests replace it.
	Now func() time.Time
}

// Open connects to dsn. An empty dsn, or one starting with "sqlite:", opens
// the embedded SQLite file (default: <dataDir>/optline.db). A postgres:// or
// postgresql:// URL opens PostgreSQL.
func Open(ctx context.Context, dsn, dataDir string, log *slog.Logger) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                 newGormLogger(log),
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pcfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
		}
		if pcfg.MaxConns < 8 {
			pcfg.MaxConns = 8
		}
		qcfg := pcfg.Copy()
		qcfg.MaxConns, qcfg.MinConns = queueConns+2, 0 // River's notifier holds one for LISTEN
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		queuePool, err := pgxpool.NewWithConfig(ctx, qcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		sqlDB := stdlib.OpenDBFromPool(pool)
		g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
		if err != nil {
			pool.Close()
			queuePool.Close()
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return &DB{Gorm: g, SQL: sqlDB, Pool: pool, QueuePool: queuePool, Dialect: Postgres, Now: utcNow}, nil
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("create data folder: %w", err)
			}
			path = filepath.Join(dataDir, "optline.db")
		}
		// WAL lets readers run beside the one writer; IMMEDIATE transactions
		// take the write lock up front so two writers queue on the busy
		// timeout instead of failing with SQLITE_BUSY half way. (No
		// _time_format: the driver stops reading options after it, and its
		// default is already SQLite's own time format.)
		full := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(15000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		g, err := gorm.Open(sqlite.Open(full), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open SQLite %s: %w", path, err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, Wrap("models.Open", err)
		}
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		// The same file and settings, on connections of the queue's own.
		queueSQL, err := sql.Open(sqliteDriverName, full)
		if err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("open SQLite %s for the job queue: %w", path, err)
		}
		queueSQL.SetMaxOpenConns(queueConns)
		queueSQL.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{Gorm: g, SQL: sqlDB, QueueSQL: queueSQL, Dialect: SQLite, Now: utcNow}, nil
	}
}

// queueConns is the size of the job queue's own pool (on PostgreSQL plus
// River's LISTEN connection). River's statements are short; its SQLite
// driver advises few connections, as SQLite has one writer anyway.
const queueConns = 2

// sqliteDriverName is the database/sql driver glebarez/sqlite registers
// (github.com/glebarez/go-sqlite).
const sqliteDriverName = "sqlite"

func utcNow() time.Time { return time.Now().UTC() }

// Close releases the connections.
func (db *DB) Close() error {
	var errs []error
	if db.QueueSQL != nil {
		errs = append(errs, db.QueueSQL.Close())
	}
	errs = append(errs, db.SQL.Close())
	if db.QueuePool != nil {
		db.QueuePool.Close()
	}
	if db.Pool != nil {
		db.Pool.Close()
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return db.SQL.PingContext(ctx)
}

// WithContext returns a GORM handle bound to ctx.
func (db *DB) WithContext(ctx context.Context) *gorm.DB { return db.Gorm.WithContext(ctx) }

// Tx runs fn in one transaction.
func (db *DB) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.Gorm.WithContext(ctx).Transaction(fn)
}

type gormLogger struct {
	log *slog.Logger
	logger.Interface
}

func newGormLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		log = slog.Default()
	}
	return gormLogger{log: log, Interface: logger.Discard}
}

// Trace logs slow queries and unexpected errors without their arguments, so
// no personal data or secret reaches the log.
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) {
		sqlText, _ := fc()
		l.log.LogAttrs(ctx, slog.LevelWarn, "query failed", slog.String("error", err.Error()), slog.String("sql", firstWords(sqlText, 5)))
		return
	}
	if elapsed > 500*time.Millisecond {
		sqlText, _ := fc()
		l.log.LogAttrs(ctx, slog.LevelWarn, "slow query", slog.Duration("took", elapsed), slog.String("sql", firstWords(sqlText, 5)))
	}
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}
