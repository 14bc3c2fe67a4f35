package sending

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/campaigns"
)

// Deps is what the campaign sender uses.
type Deps struct {
	DB       *models.DB
	Queue    *jobs.Queue
	Provider channel.Provider
	Log      *slog.Logger
	// Now is the clock (default the database's).
	Now func() time.Time
	// Spending is the month's spending so far, for the headroom of a
	// campaign that sends to as many as fit (FitPartial), taken again
	// when it starts; nil is billing.Spending (the usage records).
	Spending campaigns.Spending
}

// Options tune the sender; zero values keep the defaults.
type Options struct {
	// Rate is the messages per second per sender number (default
	// DefaultRate, at most MaxRate); 0 keeps the default.
	Rate int
	// Unthrottled turns the budget off (benchmarks only).
	Unthrottled bool
	// SliceTime bounds one job's slice (default DefaultSliceTime); the
	// job then snoozes and goes on at once.
	SliceTime time.Duration
	// BatchSize is the messages claimed at once at most (default 500).
	BatchSize int
	// Workers is the number of sends in flight at once (default 64).
	Workers int
	// Pipeline is the number of batches in flight at once (default 4 on
	// PostgreSQL, 2 on SQLite).
	Pipeline int
	// GateEvery is how often at most a run reads, before a batch, whether
	// the campaign may go on (its state, the business suspended, the
	// template paused or disabled); default 100 ms, negative: before
	// every batch.
	GateEvery time.Duration
	// MaxAttempts is how often a send refused for now (rate limit, 5xx,
	// time-out) is tried before the message fails (default 6).
	MaxAttempts int
	// Backoff is the wait before the attempt-th retry (default Backoff).
	Backoff func(attempt int, retryAfter time.Duration) time.Duration
	// ClaimStale is how long a claimed message may stay "sending" without
	// an answer before a later run marks it unconfirmed (default 60 s:
	// longer than a send's time-out plus the lease's staleness).
	ClaimStale time.Duration
	// SendTimeout bounds one send (default 30 s). Sends run on a context
	// of their own, so a stopping job finishes its sends in flight.
	SendTimeout time.Duration
	// ScheduleEvery is how often due scheduled campaigns are started
	// (default 5 s).
	ScheduleEvery time.Duration
	// Hooks observe a run (tests, the benchmark); nil in the portal.
	Hooks *Hooks
}

// Hooks observe a run's batches.
type Hooks struct {
	// Sent is called after each send's answer, before it is stored.
	Sent func(messageID int64)
	// Crash, when it returns true, ends the run there as a dying process
	// would: nothing more is stored or put back, and the lease is left to
	// go stale. It is asked after each batch's sends ("sent": their
	// answers not stored yet) and after they were stored ("stored").
	Crash func(batch int, stage string) bool
}

// Defaults.
const (
	DefaultSliceTime = 20 * time.Second
	defaultBatch     = 500
	defaultWorkers   = 64
	defaultAttempts  = 6
)

// Engine sends campaigns: it freezes a confirmed campaign's audience into
// messages and sends them through the provider in slices of jobs.
type Engine struct {
	d         Deps
	o         Options
	budget    *Budget
	countries countries
}

// New is the sender.
func New(d Deps, o Options) *Engine {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	o.Rate = min(o.Rate, MaxRate)
	if o.SliceTime <= 0 {
		o.SliceTime = DefaultSliceTime
	}
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatch
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.Pipeline <= 0 {
		o.Pipeline = 4
		if d.DB != nil && d.DB.Dialect != models.Postgres {
			o.Pipeline = 2 // one writer: more batches only wait for it
		}
	}
	if o.GateEvery == 0 {
		o.GateEvery = 100 * time.Millisecond
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultAttempts
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	if o.ClaimStale <= 0 {
		o.ClaimStale = 60 * time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.ScheduleEvery <= 0 {
		o.ScheduleEvery = 5 * time.Second
	}
	e := &Engine{d: d, o: o}
	e.budget = &Budget{DB: d.DB, Now: d.Now, Burst: burst}
	return e
}

// burst is the budget's bucket size in time: a batch takes up to a tenth
// of a second's sends at once (one database round trip per batch, not per
// message). Within a run the sends are then spaced evenly at the rate
// (pacer), so no second sees more than the rate; several processes
// sending for one number share the bucket, which bounds them together.
const burst = 100 * time.Millisecond

// effectiveRate is the rate the sender aims at: 1.5% under the
// configured one, at least 3 messages/s under (from 20/s), so that
// network jitter moving sends into the next second never makes a second
// exceed it.
func (e *Engine) effectiveRate() int {
	r := e.o.Rate
	if r >= 20 {
		r -= max(r*15/1000, 3)
	}
	return r
}

func (e *Engine) now() time.Time {
	if e.d.Now != nil {
		return e.d.Now()
	}
	return e.d.DB.Now()
}

// Start begins a confirmed campaign whose time has come (freeze and
// enqueue, once however often it is called); a campaign scheduled for
// later is started by the scheduler.
func (e *Engine) Start(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	_, err := e.start(ctx, tn, actor, id)
	return err
}

// start reports whether this call started the campaign.
func (e *Engine) start(ctx context.Context, tn models.Tenant, actor *models.User, id int64) (bool, error) {
	c, err := campaigns.Load(ctx, tn, id)
	if err != nil {
		return false, err
	}
	switch c.State {
	case campaigns.Scheduled:
	case campaigns.Sending, campaigns.Paused, campaigns.Done:
		return false, nil // started before (a second click, another server)
	default:
		return false, campaigns.ErrState
	}
	now := e.now()
	if c.ScheduledAt != nil && c.ScheduledAt.After(now) {
		return false, nil // the scheduler starts it when its time comes
	}
	g, err := campaigns.CheckGate(ctx, tn, id)
	if err != nil {
		return false, err
	}
	if g.Suspended {
		_, err := campaigns.Pause(ctx, tn, id, campaigns.ReasonSuspended)
		return false, err
	}
	if r := campaigns.TemplateReason(g.TemplateStatus); r != "" {
		_, err := campaigns.Pause(ctx, tn, id, r)
		return false, err
	}
	fit := -1
	if c.FitMode == campaigns.FitPartial {
		if fit, err = e.fit(ctx, tn, c, now); err != nil {
			return false, err
		}
	}
	started := false
	t0 := time.Now()
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		moved, err := campaigns.Begin(ctx, tx, id, now)
		if err != nil || !moved {
			return err
		}
		n, err := campaigns.Freeze(ctx, tx, c, fit)
		if err != nil {
			return err
		}
		started = true
		if n == 0 {
			_, err := campaigns.Finish(ctx, tx, id)
			return err
		}
		g, _ := tx.InTx()
		_, err = e.d.Queue.InsertTx(ctx, g, SendArgs{CampaignID: id, BusinessID: tn.BusinessID()}, nil)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("start campaign %d: %w", id, err)
	}
	if started {
		e.d.Log.Info("campaign started", "campaign", id, "business", tn.BusinessID(), "recipients", c.Recipients,
			"left_out", c.LeftOut, "freeze", time.Since(t0).Round(time.Millisecond))
		e.audit(ctx, tn, actor, id, "campaign.started", fmt.Sprintf("%d recipients, %d left out", c.Recipients, c.LeftOut))
	}
	return started, nil
}

// fit is how many of a FitPartial campaign's recipients fit the tier and
// the month's budget now (-1: all).
func (e *Engine) fit(ctx context.Context, tn models.Tenant, c *campaigns.Campaign, now time.Time) (int, error) {
	sp := e.d.Spending
	if sp == nil {
		sp = billing.Spending{DB: e.d.DB}
	}
	est, err := campaigns.EstimateCost(ctx, tn, c, now)
	if err != nil {
		return 0, err
	}
	h, err := campaigns.HeadroomFor(ctx, tn, c, est, sp, now)
	if err != nil {
		return 0, err
	}
	if h.AllFit() {
		return -1, nil
	}
	return h.Fits, nil
}

func (e *Engine) audit(ctx context.Context, tn models.Tenant, actor *models.User, id int64, action, detail string) {
	entry := models.AuditEntry{BusinessID: tn.BusinessID(), Action: action, TargetType: "campaign", TargetID: models.Itoa(id), Detail: detail}
	if actor != nil {
		entry.ActorID, entry.ActorEmail = actor.ID, actor.Email
	}
	if err := e.d.DB.Audit(context.WithoutCancel(ctx), entry); err != nil {
		e.d.Log.Warn("audit entry not written", "action", action, "campaign", id, "error", err.Error())
	}
}

// Pause pauses a sending or scheduled campaign.
func (e *Engine) Pause(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	c, err := campaigns.Load(ctx, tn, id)
	if err != nil {
		return err
	}
	if c.State == campaigns.Paused {
		return nil
	}
	if _, err := campaigns.Pause(ctx, tn, id, campaigns.ReasonStaff); err != nil {
		return err
	}
	e.audit(ctx, tn, actor, id, "campaign.paused", "")
	return nil
}

// Resume resumes a paused campaign.
func (e *Engine) Resume(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	c, err := campaigns.Load(ctx, tn, id)
	if err != nil {
		return err
	}
	if c.State != campaigns.Paused {
		if c.State == campaigns.Sending || c.State == campaigns.Scheduled {
			return nil // a second click
		}
		return campaigns.ErrState
	}
	g, err := campaigns.CheckGate(ctx, tn, id)
	if err != nil {
		return err
	}
	if g.Suspended {
		return models.Invalid("campaign", "sending.error.suspended")
	}
	if campaigns.TemplateReason(g.TemplateStatus) != "" {
		return models.Invalid("campaign", "sending.error.template_not_approved")
	}
	var moved bool
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		var c *campaigns.Campaign
		var err error
		c, moved, err = campaigns.Resume(ctx, tx, id)
		if err != nil || !moved || c.State != campaigns.Sending {
			return err
		}
		g, _ := tx.InTx()
		_, err = e.d.Queue.InsertTx(ctx, g, SendArgs{CampaignID: id, BusinessID: tn.BusinessID(), Resume: e.now().UnixMicro()}, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("resume campaign %d: %w", id, err)
	}
	if moved {
		e.audit(ctx, tn, actor, id, "campaign.resumed", "")
		// A scheduled campaign whose time passed while it was paused
		// starts now.
		if _, err := e.start(ctx, tn, actor, id); err != nil && !errors.Is(err, campaigns.ErrState) {
			return err
		}
	}
	return nil
}

// Cancel cancels a campaign that is not over; its queued messages are skipped.
func (e *Engine) Cancel(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	c, err := campaigns.Load(ctx, tn, id)
	if err != nil {
		return err
	}
	if c.State == campaigns.Cancelled {
		return nil
	}
	if _, err := campaigns.Cancel(ctx, tn, id); err != nil {
		return err
	}
	e.audit(ctx, tn, actor, id, "campaign.cancelled", "")
	return nil
}

// RetryFailed queues again the campaign's failed messages that may be
// retried and returns how many.
func (e *Engine) RetryFailed(ctx context.Context, tn models.Tenant, actor *models.User, id int64) (int, error) {
	c, err := campaigns.Load(ctx, tn, id)
	if err != nil {
		return 0, err
	}
	if c.State == campaigns.Cancelled || c.State == campaigns.Draft || c.State == campaigns.Scheduled {
		return 0, campaigns.ErrState
	}
	n := 0
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		var err error
		if n, err = campaigns.RequeueFailed(ctx, tx, id); err != nil || n == 0 {
			return err
		}
		sending, err := campaigns.Reopen(ctx, tx, id)
		if err != nil || !sending {
			return err
		}
		g, _ := tx.InTx()
		_, err = e.d.Queue.InsertTx(ctx, g, SendArgs{CampaignID: id, BusinessID: tn.BusinessID(), Resume: e.now().UnixMicro()}, nil)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry failed messages of campaign %d: %w", id, err)
	}
	if n > 0 {
		e.audit(ctx, tn, actor, id, "campaign.retried", strconv.Itoa(n)+" failed messages queued again")
	}
	return n, nil
}

// SendArgs is the job of one campaign's run. It carries the business, so
// the job works in that business's scope only.
type SendArgs struct {
	CampaignID int64 `json:"campaign_id"`
	BusinessID int64 `json:"business_id"`
	// Resume is set on jobs queued after the start (a resume, a retry of
	// failed messages, a stall found by the resume loop: its last sign of
	// life, Unix µs), so each is unique to its cause; the campaign's work
	// lease lets only one run work at a time however many exist.
	Resume int64 `json:"resume,omitempty"`
}

// Kind names the job.
func (SendArgs) Kind() string { return "campaign_send" }

// InsertOpts makes the job unique by its arguments: two clicks, or two
// servers finding the same stall, queue one.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleArgs is the periodic job that starts due scheduled campaigns.
type ScheduleArgs struct{}

// Kind names the job.
func (ScheduleArgs) Kind() string { return "campaign_schedule" }

// AddWorkers adds the sender's workers (jobs.Area).
func (e *Engine) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &sendWorker{e: e})
	river.AddWorker(w, &scheduleWorker{e: e})
}

// PeriodicJobs are the sender's scheduled jobs (jobs.Area).
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(e.o.ScheduleEvery),
		func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	e *Engine
}

// Timeout bounds one slice: its time, the sends in flight finishing, and
// storing them; below the queue's stuck-job rescue.
func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration {
	return w.e.o.SliceTime + w.e.o.SendTimeout + 30*time.Second
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	res, err := w.e.runSlice(ctx, job.Args, "job "+strconv.FormatInt(job.ID, 10))
	switch {
	case errors.Is(err, models.ErrNotFound):
		return river.JobCancel(err)
	case err != nil && ctx.Err() != nil:
		// Shut down: the work in hand is stored or put back; come back
		// at once (the next process) without using up an attempt.
		return river.JobSnooze(0)
	case err != nil:
		w.e.d.Log.Warn("campaign run failed; it is retried", "campaign", job.Args.CampaignID, "error", err.Error())
		return err
	case res.More:
		return river.JobSnooze(res.Wait)
	}
	return nil
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	e *Engine
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	_, err := w.e.StartDue(ctx)
	return err
}

// StartDue starts every scheduled campaign whose time has come and
// returns how many this call started.
func (e *Engine) StartDue(ctx context.Context) (int, error) {
	due, err := campaigns.Due(ctx, e.d.DB, e.now(), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		tn, err := e.d.DB.Tenant(d.BusinessID)
		if err != nil {
			continue
		}
		ok, err := e.start(ctx, tn, nil, d.ID)
		if err != nil {
			e.d.Log.Warn("starting a scheduled campaign failed", "campaign", d.ID, "error", err.Error())
			continue
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Stalled lists the jobs that take up sending campaigns whose run shows
// no sign of life since before (jobs.Resumer): one per campaign, unique
// to the stall.
func (e *Engine) Stalled(ctx context.Context, before time.Time) ([]river.JobArgs, error) {
	st, err := campaigns.Stalled(ctx, e.d.DB, before, 100)
	if err != nil {
		return nil, err
	}
	out := make([]river.JobArgs, len(st))
	for i, w := range st {
		out[i] = SendArgs{CampaignID: w.ID, BusinessID: w.BusinessID, Resume: w.Beat.UnixMicro()}
	}
	return out, nil
}
