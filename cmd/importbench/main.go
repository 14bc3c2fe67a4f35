// Command importbench measures the contact import and the contact list at
// scale, on PostgreSQL:
//
//	go run ./cmd/importbench -database-url postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// or on the embedded SQLite (a fresh file in a temporary folder; by
// default a file that stores about 50,000 contacts):
//
//	go run ./cmd/importbench -sqlite
//
// It creates a fresh database (dropped at the end unless -keep), generates
// a realistic CSV (importer.Generate: national and international numbers,
// ~2% bad rows, repeated numbers), and imports it through the real import
// path: the file is stored and checked as the upload does, the mapping is
// confirmed, and the job runs on the job queue (contactimport's worker),
// slice by slice, exactly as in the portal. It prints rows/s and peak
// memory (Go heap sampled every 10 ms, and the process's peak RSS).
//
// Then it builds the real HTTP server (web.New + handlers.Register), logs
// in as the business owner through the login form, and measures the
// contact list (/contacts) and a search (/contacts?q=…): the first
// request's time to first byte and full response, then p50/p95/p99 with
// 50 concurrent clients over loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/optline/optline/cmd/internal/benchkit"
	"github.com/optline/optline/models"
)

type options struct {
	rows     int
	dbURL    string
	seed     int64
	keep     bool
	requests int
	clients  int
	explain  bool
	batch    int
	cpuprof  string
	pageprof string
	reuse    string
	name     string
	sqlite   bool
	alone    int
}

// sqliteRows is the default file size with -sqlite: about 50,000 contacts
// once bad rows and repeated numbers are left out.
const sqliteRows = 52_660

func main() {
	var o options
	flag.IntVar(&o.rows, "rows", 1_000_000, "rows in the generated file")
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL server to create the benchmark database on (default $TEST_DATABASE_URL)")
	flag.Int64Var(&o.seed, "seed", 1, "generator seed (odd: German headers, semicolons, BOM; even: English, commas)")
	flag.BoolVar(&o.keep, "keep", false, "keep the benchmark database")
	flag.IntVar(&o.requests, "requests", 2000, "requests per page in the load test")
	flag.IntVar(&o.clients, "clients", 50, "concurrent clients in the load test")
	flag.BoolVar(&o.explain, "explain", false, "print EXPLAIN ANALYZE of the list and search queries")
	flag.IntVar(&o.batch, "batch", 0, "rows per import batch (default: the engine's)")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the import to this file")
	flag.StringVar(&o.pageprof, "pageprofile", "", "write a CPU profile of the page load test to this file")
	flag.StringVar(&o.name, "name", "", "search for this name instead of the last name of the contact in the middle of the book")
	flag.StringVar(&o.reuse, "reuse", "", "measure only the pages against this database kept by an earlier -keep run (no generation, no import; never dropped); with -sqlite the path of the kept file")
	flag.BoolVar(&o.sqlite, "sqlite", false, fmt.Sprintf("run on the embedded SQLite in a temporary file instead of PostgreSQL (default -rows %d: about 50,000 contacts)", sqliteRows))
	flag.IntVar(&o.alone, "alone", 50, "requests of a single client, one after the other, for each page's \"alone\" median")
	flag.Parse()
	if o.sqlite || strings.HasPrefix(o.dbURL, "sqlite:") {
		o.sqlite = true
		rowsSet := false
		flag.Visit(func(f *flag.Flag) { rowsSet = rowsSet || f.Name == "rows" })
		if !rowsSet {
			o.rows = sqliteRows
		}
	}
	// Interrupted or piped into head: still drop the benchmark database.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.sqlite {
		return runSQLite(ctx, o, out)
	}
	if !strings.HasPrefix(o.dbURL, "postgres://") && !strings.HasPrefix(o.dbURL, "postgresql://") {
		return errors.New("-database-url (or TEST_DATABASE_URL) must be a postgres:// URL")
	}
	if o.reuse != "" {
		return reuse(ctx, o, out)
	}
	db, done, err := benchkit.Scratch(ctx, o.dbURL, "optline_bench_", o.keep, out)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(out, "machine: %s\n", benchkit.Machine())
	b, err := newBench(ctx, db, o, out)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.importFile(ctx); err != nil {
		return err
	}
	return b.measurePages(ctx)
}

// runSQLite is run on the embedded SQLite: a fresh file in a temporary
// folder (kept with -keep), or the file -reuse names, opened as the portal
// opens it (models.Open: WAL, its pool and the job queue's own).
func runSQLite(ctx context.Context, o options, out io.Writer) error {
	path := o.reuse
	if path == "" {
		dir, err := os.MkdirTemp("", "importbench-sqlite-")
		if err != nil {
			return err
		}
		if o.keep {
			fmt.Fprintf(out, "SQLite file %s kept\n", filepath.Join(dir, "bench.db"))
		} else {
			defer os.RemoveAll(dir)
		}
		path = filepath.Join(dir, "bench.db")
	} else if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("-reuse: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := models.Open(ctx, "sqlite:"+path, "", quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, quiet); err != nil {
		return err
	}
	fmt.Fprintf(out, "machine: %s\ndatabase: SQLite %s\n", benchkit.Machine(), path)
	var b *bench
	if o.reuse != "" {
		b, err = openBench(ctx, db, o, out)
	} else {
		b, err = newBench(ctx, db, o, out)
	}
	if err != nil {
		return err
	}
	defer b.close()
	if o.reuse == "" {
		if err := b.importFile(ctx); err != nil {
			return err
		}
	}
	return b.measurePages(ctx)
}

// reuse measures the pages against a database an earlier run kept: it
// migrates it (new migrations only), finds the owner and the business, and
// runs the page phase.
func reuse(ctx context.Context, o options, out io.Writer) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := models.Open(ctx, benchkit.WithDB(o.dbURL, o.reuse), "", quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, quiet); err != nil {
		return err
	}
	fmt.Fprintf(out, "machine: %s\nreusing database %s\n", benchkit.Machine(), o.reuse)
	b, err := openBench(ctx, db, o, out)
	if err != nil {
		return err
	}
	defer b.close()
	return b.measurePages(ctx)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
