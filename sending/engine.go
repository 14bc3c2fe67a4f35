package sending

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
)

// Deps is what the campaign sender uses.
type Deps struct {
	DB       *models.DB
	Queue    *jobs.Queue
	Provider channel.Provider
	Log      *slog.Logger
	// Now is the clock (default the database's).
	Now func() time.Time
}

// Options tune the sender.
type Options struct {
	// Rate is the messages per second per sender number (default
	// DefaultRate, at most MaxRate); 0 keeps the default.
	Rate int
	// Unthrottled turns the budget off (benchmarks only).
	Unthrottled bool
}

// Engine sends campaigns: it freezes a confirmed campaign's audience into
// messages and sends them through the provider in slices of jobs.
type Engine struct {
	d Deps
	o Options
}

// New is the sender.
func New(d Deps, o Options) *Engine { return &Engine{d: d, o: o} }

var errUnbuilt = errors.New("sending: the campaign sender is being built")

// Start begins a confirmed campaign whose time has come (freeze and
// enqueue, once however often it is called); a campaign scheduled for
// later is started by the scheduler.
func (e *Engine) Start(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	return errUnbuilt
}

// Pause pauses a sending or scheduled campaign.
func (e *Engine) Pause(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	return errUnbuilt
}

// Resume resumes a paused campaign.
func (e *Engine) Resume(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	return errUnbuilt
}

// Cancel cancels a campaign that is not over; its queued messages are skipped.
func (e *Engine) Cancel(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	return errUnbuilt
}

// RetryFailed queues again the campaign's failed messages that may be
// retried and returns how many.
func (e *Engine) RetryFailed(ctx context.Context, tn models.Tenant, actor *models.User, id int64) (int, error) {
	return 0, errUnbuilt
}

// AddWorkers adds the sender's workers (jobs.Area).
func (e *Engine) AddWorkers(w *river.Workers) {}

// PeriodicJobs are the sender's scheduled jobs (jobs.Area).
func (e *Engine) PeriodicJobs() []*river.PeriodicJob { return nil }
