// Package benchkit is what the benchmark commands share: a scratch
// PostgreSQL database of their own, and a description of the machine and
// the process's memory for their figures.
package benchkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/optline/optline/models"
)

// AdminExec runs one statement on the server url names (CREATE or DROP
// DATABASE, which cannot run inside a transaction).
func AdminExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// WithDB is the PostgreSQL URL raw pointed at database name, its query
// (sslmode…) kept.
func WithDB(raw, name string) string {
	i := strings.Index(raw, "://")
	rest := raw[i+3:]
	slash := strings.Index(rest, "/")
	q := ""
	if j := strings.Index(rest, "?"); j >= 0 {
		q = rest[j:]
		rest = rest[:j]
	}
	if slash >= 0 {
		rest = rest[:slash]
	}
	return raw[:i+3] + rest + "/" + name + q
}

// RandHex is ten random hex digits, for a scratch database's name.
func RandHex() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Machine describes the CPU, cores and memory this runs on.
func Machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line := strings.SplitN(string(b), "\n", 2)[0]
		mem = strings.Join(strings.Fields(line)[1:], " ")
	}
	return fmt.Sprintf("%s, %d cores, %s RAM", cpu, runtime.NumCPU(), mem)
}

// ResetPeakRSS starts VmHWM afresh (Linux: clear_refs 5), so what ran
// before (generating files) does not count.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakRSS is VmHWM, the process's peak resident memory, in MB.
func PeakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				return fmt.Sprintf("%.0f MB", kb/1024)
			}
		}
	}
	return "unknown"
}

// Scratch makes a scratch PostgreSQL database (prefix + random digits)
// on the server url names, opens it and migrates it. done closes it and
// drops the database, unless keep: then its name is printed on out and
// it stays for a later look.
func Scratch(ctx context.Context, url, prefix string, keep bool, out io.Writer) (db *models.DB, done func(), err error) {
	name := prefix + RandHex()
	if err := AdminExec(ctx, url, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		if keep {
			fmt.Fprintf(out, "database %s kept\n", name)
			return
		}
		if err := AdminExec(context.Background(), url, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop benchmark database:", err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err = models.Open(ctx, WithDB(url, name), "", quiet)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if err := db.Migrate(ctx, quiet); err != nil {
		db.Close()
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}
