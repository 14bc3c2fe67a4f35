// Package invoicing is the month-end: it charges delivered messages onto
// usage records, builds each business's invoice for a calendar month
// after it ends (in the business's time zone), issues it with the next
// gapless number and stores its documents (package invoicedoc).
//
// Schedule: charging every ChargeEvery (10 s); the month-end every
// MonthEndEvery (10 min): a charging pass, then every business
// month that has ended in the business's zone and has billable usage but
// no invoice is built and issued, and drafts left by an earlier failure
// (incomplete issuer settings) are issued. Running it twice, or on two
// processes at once, makes one invoice per business and month (the
// charge lock, the unique index on business and period, and the draft
// state checked under a row lock).
package invoicing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
)

// How often the periodic jobs run.
const (
	ChargeEvery   = 10 * time.Second
	MonthEndEvery = 10 * time.Minute
)

// Deps is what the month-end uses.
type Deps struct {
	DB    *models.DB
	Queue *jobs.Queue
	Log   *slog.Logger
	// Now is the clock (default the database's).
	Now func() time.Time
}

// Engine runs charging and invoicing.
type Engine struct{ d Deps }

// New is the month-end engine.
func New(d Deps) *Engine {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil && d.DB != nil {
		d.Now = d.DB.Now
	}
	return &Engine{d: d}
}

// ChargeArgs is the periodic charging job.
type ChargeArgs struct{}

// Kind names the job.
func (ChargeArgs) Kind() string { return "billing_charge" }

// InsertOpts: a failed pass is not retried (the next comes soon).
func (ChargeArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// MonthEndArgs is the periodic month-end job.
type MonthEndArgs struct{}

// Kind names the job.
func (MonthEndArgs) Kind() string { return "billing_month_end" }

// AddWorkers adds the engine's workers (jobs.Area).
func (e *Engine) AddWorkers(w *river.Workers) {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[ChargeArgs]) error {
		n, err := billing.Charge(ctx, e.d.DB, e.d.Now())
		if n > 0 {
			e.d.Log.Debug("messages charged", "records", n)
		}
		return err
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[MonthEndArgs]) error {
		_, err := e.MonthEnd(ctx)
		return err
	}))
}

// PeriodicJobs are the engine's scheduled jobs (jobs.Area).
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(ChargeEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ChargeArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(MonthEndEvery),
			func() (river.JobArgs, *river.InsertOpts) { return MonthEndArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// MonthEnd charges what is waiting, then builds and issues the invoice of
// every business month that has ended without one, and issues drafts
// left from before. built counts the invoices made.
func (e *Engine) MonthEnd(ctx context.Context) (built int, err error) {
	now := e.d.Now()
	if _, err := billing.Charge(ctx, e.d.DB, now); err != nil {
		return 0, err
	}
	months, err := billing.PendingMonths(ctx, e.d.DB, now)
	if err != nil {
		return 0, err
	}
	for _, m := range months {
		inv, err := billing.BuildMonth(ctx, e.d.DB, m.BusinessID, m.Period, now)
		if err != nil {
			e.d.Log.Error("invoice not built", "business", m.BusinessID, "period", m.Period, "error", err)
			continue
		}
		if inv != nil {
			built++
		}
	}
	return built, e.issueDrafts(ctx, now)
}

// issueDrafts issues every draft, IssueChunk at a time in one
// transaction each (Issue one by one for a chunk that fails, so one bad
// draft does not hold up the others); incomplete issuer settings stop it
// with one warning (the drafts wait for them).
func (e *Engine) issueDrafts(ctx context.Context, now time.Time) error {
	ids, err := billing.Drafts(ctx, e.d.DB)
	if err != nil {
		return err
	}
	return e.issue(ctx, ids, now, false)
}

// IssueChunk is how many drafts one issuing transaction takes.
const IssueChunk = 50

func (e *Engine) issue(ctx context.Context, ids []int64, now time.Time, strict bool) error {
	for start := 0; start < len(ids); start += IssueChunk {
		chunk := ids[start:min(start+IssueChunk, len(ids))]
		_, err := billing.IssueMany(ctx, e.d.DB, chunk, now)
		if err == nil {
			continue
		}
		if errors.Is(err, billing.ErrIssuerIncomplete) || errors.Is(err, billing.ErrNoRenderer) {
			if strict {
				return err
			}
			e.d.Log.Warn("invoices wait as drafts", "drafts", len(ids), "reason", err.Error())
			return nil
		}
		for _, id := range chunk {
			_, err := billing.Issue(ctx, e.d.DB, id, now)
			switch {
			case err == nil, errors.Is(err, billing.ErrWrongState):
			case strict:
				return err
			default:
				e.d.Log.Error("invoice not issued", "invoice", id, "error", err)
			}
		}
	}
	return nil
}

// RunMonth is the month-end for one month on an administrator's demand:
// a charging pass, then every business whose month (the calendar
// month of month, YYYY-MM) has ended in its time zone and has billable
// usage gets its invoice built and issued. Businesses whose month has not
// ended yet are left (their month is still open). built counts the
// invoices made; an error of issuing (incomplete issuer settings) is
// returned after the drafts are built. A month that has ended in no time
// zone yet is billing.ErrMonthOpen.
func (e *Engine) RunMonth(ctx context.Context, month time.Time) (built int, err error) {
	now := e.d.Now()
	period := month.Format("2006-01")
	// The month has ended nowhere yet (not even at UTC+14): refuse.
	if period >= now.In(time.FixedZone("UTC+14", 14*3600)).Format("2006-01") {
		return 0, billing.ErrMonthOpen
	}
	if _, err := billing.Charge(ctx, e.d.DB, now); err != nil {
		return 0, err
	}
	months, err := billing.PendingMonths(ctx, e.d.DB, now)
	if err != nil {
		return 0, err
	}
	for _, m := range months {
		if m.Period != period {
			continue
		}
		inv, err := billing.BuildMonth(ctx, e.d.DB, m.BusinessID, m.Period, now)
		if err != nil {
			return built, err
		}
		if inv != nil {
			built++
		}
	}
	drafts, err := e.draftsOf(ctx, period)
	if err != nil {
		return built, err
	}
	return built, e.issue(ctx, drafts, now, true)
}

func (e *Engine) draftsOf(ctx context.Context, period string) ([]int64, error) {
	var ids []int64
	err := e.d.DB.WithContext(ctx).Table("invoices").Where("state = ? AND period = ?", billing.Draft, period).Order("id").Pluck("id", &ids).Error
	return ids, models.Wrap("invoicing.draftsOf", err)
}

// Issue issues one draft (an administrator's retry).
func (e *Engine) Issue(ctx context.Context, id int64) (*billing.Invoice, error) {
	return billing.Issue(ctx, e.d.DB, id, e.d.Now())
}

// Charge runs one charging pass now (tests, the sandbox).
func (e *Engine) Charge(ctx context.Context) (int, error) {
	return billing.Charge(ctx, e.d.DB, e.d.Now())
}
