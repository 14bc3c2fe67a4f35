// Command monthendbench measures the month-end on PostgreSQL: it makes a
// fresh database with B businesses (German, Austrian with a VAT ID,
// American, in turn) and N delivered template messages in October 2026
// spread over them (mixed categories and countries), then, with the
// clock at 1 November, runs the month-end as the portal's job does —
// charging every message onto a usage record, building each business's
// invoice, numbering it and storing its PDF and XRechnung XML — and
// prints the time of each phase and the peak memory (RSS).
//
//	go run ./cmd/monthendbench -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	# -businesses 200 -messages 2000000 -keep
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/optline/optline/cmd/internal/benchkit"
	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/models/billing"
)

type options struct {
	dbURL      string
	businesses int
	messages   int
	keep       bool
}

func main() {
	var o options
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("TEST_DATABASE_URL"), "postgres:// URL of a server where a database may be created")
	flag.IntVar(&o.businesses, "businesses", 200, "businesses with usage")
	flag.IntVar(&o.messages, "messages", 2_000_000, "billable delivered messages in the month, over all businesses")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "monthendbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if !strings.HasPrefix(o.dbURL, "postgres://") && !strings.HasPrefix(o.dbURL, "postgresql://") {
		return errors.New("-database-url (or TEST_DATABASE_URL) must be a postgres:// URL")
	}
	if o.businesses < 1 || o.messages < o.businesses {
		return errors.New("need at least one business and one message per business")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, done, err := benchkit.Scratch(ctx, o.dbURL, "optline_mebench_", o.keep, out)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(out, "machine: %s\n", benchkit.Machine())
	now := time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }

	// Seed: issuer settings, businesses with legal profiles, messages.
	t0 := time.Now()
	if _, err := billing.SaveSettings(ctx, db, nil, billing.SettingsInput{Name: "Optline Reseller GmbH", Street: "Friedrichstraße 10",
		Postcode: "10117", City: "Berlin", Country: "DE", VATID: "DE123456789", ContactName: "Petra Paul", ContactPhone: "+49 30 1234567",
		ContactEmail: "billing@optline.example", BankAccountName: "Optline Reseller GmbH", IBAN: "DE89370400440532013000",
		BIC: "COBADEFFXXX", PaymentTermsDays: "14"}, "bench"); err != nil {
		return err
	}
	seed := []string{
		`INSERT INTO businesses (name, created_at, updated_at) SELECT 'Bench business ' || g, now(), now() FROM generate_series(1, $1::int) g`,
		`INSERT INTO business_profiles (business_id, legal_name, registered_address, country, vat_id, billing_email, time_zone, created_at, updated_at)
			SELECT id, name || ' GmbH', 'Hauptstraße ' || id || E'\n10115 Berlin',
				(ARRAY['DE','AT','US'])[1 + id % 3], (ARRAY['DE123456789','ATU12345678',''])[1 + id % 3],
				'ap' || id || '@bench.example', 'Europe/Berlin', now(), now() FROM businesses`,
		`INSERT INTO messages (business_id, to_phone, state, state_rank, category, country, window_open, pricing_type, delivered_at, created_at, updated_at)
			SELECT 1 + g % $1::int, CASE WHEN g % 5 = 0 THEN '+919876543210' ELSE '+4915123456789' END, 'delivered', 5,
				(ARRAY['marketing','utility','authentication','marketing'])[1 + g % 4], CASE WHEN g % 5 = 0 THEN 'IN' ELSE 'DE' END,
				g % 7 = 0, 'regular', t, t, t
			FROM generate_series(1, $2::int) g, LATERAL (SELECT timestamptz '2026-10-01 00:00:00+02' + (g % 2592000) * interval '1 second' AS t) x`,
		`ANALYZE`,
	}
	for i, s := range seed {
		var args []any
		switch i {
		case 0:
			args = []any{o.businesses}
		case 2:
			args = []any{o.businesses, o.messages}
		}
		if _, err := db.Pool.Exec(ctx, s, args...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	fmt.Fprintf(out, "seeded %d businesses, %d delivered messages in October 2026 in %s\n", o.businesses, o.messages, time.Since(t0).Round(time.Millisecond))

	// The month-end, phase by phase as Engine.MonthEnd runs them.
	runtime.GC()
	benchkit.ResetPeakRSS()
	start := time.Now()
	n, err := billing.Charge(ctx, db, now)
	if err != nil {
		return err
	}
	charged := time.Since(start)
	fmt.Fprintf(out, "charge: %d usage records in %s (%.0f/s)\n", n, charged.Round(time.Millisecond), float64(n)/charged.Seconds())
	t1 := time.Now()
	months, err := billing.PendingMonths(ctx, db, now)
	if err != nil {
		return err
	}
	built := 0
	for _, m := range months {
		inv, err := billing.BuildMonth(ctx, db, m.BusinessID, m.Period, now)
		if err != nil {
			return err
		}
		if inv != nil {
			built++
		}
	}
	fmt.Fprintf(out, "build: %d drafts in %s\n", built, time.Since(t1).Round(time.Millisecond))
	// The engine's month-end finds nothing left to charge or build and
	// issues the drafts.
	e := invoicing.New(invoicing.Deps{DB: db, Log: quiet, Now: db.Now})
	t2 := time.Now()
	if _, err := e.MonthEnd(ctx); err != nil {
		return err
	}
	rest := time.Since(t2)
	var issued, docs int64
	var bytes int64
	if err := db.Pool.QueryRow(ctx, `SELECT COUNT(*) FROM invoices WHERE state = 'issued'`).Scan(&issued); err != nil {
		return err
	}
	if err := db.Pool.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM invoice_documents`).Scan(&docs, &bytes); err != nil {
		return err
	}
	fmt.Fprintf(out, "number + PDF + XML stored: %d issued, %d documents (%.1f MB) in %s\n",
		issued, docs, float64(bytes)/1e6, rest.Round(time.Millisecond))
	var first, last string
	_ = db.Pool.QueryRow(ctx, `SELECT MIN(number), MAX(number) FROM invoices WHERE number IS NOT NULL`).Scan(&first, &last)
	fmt.Fprintf(out, "numbers %s … %s\n", first, last)
	fmt.Fprintf(out, "month-end total: %s, peak RSS %s\n", time.Since(start).Round(time.Millisecond), benchkit.PeakRSS())
	if int(issued) != o.businesses || n != o.messages {
		return fmt.Errorf("expected %d invoices and %d records", o.businesses, o.messages)
	}
	return nil
}
