// Package jobs runs Optline's background work on River, on PostgreSQL or
// SQLite alike. It hides River's driver-specific transaction type behind
// a small Queue, so callers never care which database runs.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
)

// Queue is the job queue. Areas with background work join it with Add;
// the River client is built on first use (an insert or Start), after
// which the set of workers is fixed.
type Queue struct {
	db   *models.DB
	log  *slog.Logger
	cfg  Config
	rc   *river.Config
	once sync.Once
	err  error
	// Set when the client is built.
	insert   func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	insertTx func(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	start    func(ctx context.Context) error
	stop     func(ctx context.Context) error
	events   func(kinds ...river.EventKind) (<-chan *river.Event, func())
	resume   *resumeLoop
}

// An Area is a part of the portal with background work (imports, later
// sends and invoices): its workers and scheduled jobs join the queue.
type Area interface {
	AddWorkers(w *river.Workers)
	PeriodicJobs() []*river.PeriodicJob
}

// Config tunes the queue.
type Config struct {
	// SessionIdle and SessionMax are the session time-outs the cleanup
	// job applies.
	SessionIdle, SessionMax time.Duration
	// CleanupEvery is how often expired sessions and invitations go.
	CleanupEvery time.Duration
	// Poll is how often workers look for new jobs (SQLite has no
	// LISTEN/NOTIFY); zero keeps River's default.
	Poll time.Duration
	// Files, when set, is swept by the cleanup job: a file no row names
	// (a crash between storing an upload and saving its row, a photo
	// replaced just before a crash) goes once it is FileGrace old.
	Files blobstore.Store
	// ResumeEvery is how often the queue looks for stalled leased work
	// (Queue.Resume); zero keeps ResumeEvery.
	ResumeEvery time.Duration
}

// FileGrace is how old a file no row names must be before the cleanup
// removes it: an upload is stored a moment before its row is saved.
const FileGrace = time.Hour

// sweptFolders are the file store's folders whose files rows name.
var sweptFolders = []string{"photos", "documents", "imports"}

// New prepares the queue for db with the built-in clean-up; areas join
// with Add before the queue is used.
func New(db *models.DB, log *slog.Logger, cfg Config) *Queue {
	if cfg.CleanupEvery == 0 {
		cfg.CleanupEvery = 15 * time.Minute
	}
	if cfg.ResumeEvery <= 0 {
		cfg.ResumeEvery = ResumeEvery
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &CleanupWorker{db: db, idle: cfg.SessionIdle, max: cfg.SessionMax, log: log, files: cfg.Files})
	q := &Queue{db: db, log: log, cfg: cfg}
	q.rc = &river.Config{
		// River reports routine counts at info level every few seconds;
		// only its warnings belong in the portal's log.
		Logger:  slog.New(minLevel{log.Handler(), slog.LevelWarn}).With("component", "jobs"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.CleanupEvery),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
		FetchPollInterval: cfg.Poll,
		FetchCooldown:     min(cfg.Poll, 100*time.Millisecond),
		// No job runs long: long work (imports) goes in slices that save
		// a checkpoint and snooze. A job left "running" by a crashed
		// process is rescued within minutes; its work is taken up long
		// before by the resume loop (Queue.Resume), and the rescued job
		// finds the work item's lease taken or the work done.
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 3 * time.Minute,
	}
	q.resume = &resumeLoop{q: q, db: db, every: cfg.ResumeEvery}
	return q
}

// Add joins areas' workers and scheduled jobs to the queue. It panics
// once the queue has been used: River fixes its workers then.
func (q *Queue) Add(areas ...Area) {
	if q.insert != nil {
		panic("jobs: Add after the queue was first used")
	}
	for _, a := range areas {
		a.AddWorkers(q.rc.Workers)
		q.rc.PeriodicJobs = append(q.rc.PeriodicJobs, a.PeriodicJobs()...)
	}
}

// build makes the River client once, for the database's dialect, on
// connections of its own (models.DB.QueueSQL, QueuePool), so its leader
// election and fetches cannot starve behind page reads holding every
// connection of the portal's pool. Jobs
// inserted inside a caller's transaction go through database/sql (the
// transaction GORM holds); on PostgreSQL that is an insert-only client
// beside the pgx one that works the jobs.
func (q *Queue) build() error {
	q.once.Do(func() {
		switch q.db.Dialect {
		case models.Postgres:
			c, err := river.NewClient(riverpgxv5.New(q.db.QueuePool), q.rc)
			if err != nil {
				q.err = fmt.Errorf("job queue: %w", err)
				return
			}
			ins, err := river.NewClient(riverdatabasesql.New(q.db.SQL), &river.Config{Logger: q.rc.Logger, Workers: q.rc.Workers})
			if err != nil {
				q.err = fmt.Errorf("job queue (transactional inserts): %w", err)
				return
			}
			q.insert, q.insertTx, q.start, q.stop, q.events = c.Insert, ins.InsertTx, c.Start, c.Stop, c.Subscribe
		default:
			c, err := river.NewClient(riversqlite.New(q.db.QueueSQL), q.rc)
			if err != nil {
				q.err = fmt.Errorf("job queue: %w", err)
				return
			}
			q.insert, q.insertTx, q.start, q.stop, q.events = c.Insert, c.InsertTx, c.Start, c.Stop, c.Subscribe
		}
	})
	return q.err
}

// Insert enqueues a job.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	if err := q.build(); err != nil {
		return 0, models.Wrap("Queue.Insert", err)
	}
	res, err := q.insert(ctx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// InsertTx enqueues a job inside tx, a GORM transaction on the queue's
// database: the job exists exactly when the transaction commits, so work
// is never marked started without its job, nor a job left for work that
// was rolled back.
func (q *Queue) InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	if err := q.build(); err != nil {
		return 0, models.Wrap("Queue.InsertTx", err)
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return 0, fmt.Errorf("enqueue %s: not inside a transaction", args.Kind())
	}
	res, err := q.insertTx(ctx, sqlTx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Finished reports each job that ends (completed, failed, cancelled or
// snoozed) until stop is called; tests wait on it instead of sleeping.
func (q *Queue) Finished() (events <-chan *river.Event, stop func()) {
	if err := q.build(); err != nil {
		panic(err)
	}
	return q.events(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
}

// Start begins working jobs, and looking for stalled work (Queue.Resume).
func (q *Queue) Start(ctx context.Context) error {
	if err := q.build(); err != nil {
		return models.Wrap("Queue.Start", err)
	}
	if err := q.start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	q.resume.start(ctx)
	return nil
}

// Resume adds kinds of leased work whose stalled items (their process
// died) this process queues again every Config.ResumeEvery, without
// waiting for River to rescue their jobs. Call it before Start.
func (q *Queue) Resume(r ...Resumer) { q.resume.resumers = append(q.resume.resumers, r...) }

// Stop lets running jobs finish (up to ctx's deadline), then returns.
func (q *Queue) Stop(ctx context.Context) error {
	q.resume.stop()
	if q.stop == nil {
		return nil
	}
	err := q.stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		q.log.Warn("job queue stopped before every job finished; they will be retried")
	}
	return models.Wrap("Queue.Stop", err)
}

// CleanupArgs is the periodic job that expires sessions and invitations.
type CleanupArgs struct{}

// Kind names the job.
func (CleanupArgs) Kind() string { return "cleanup_expired" }

// CleanupWorker deletes timed-out sessions, long-expired invitations and
// spent or expired password resets, and files no row names.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	db        *models.DB
	idle, max time.Duration
	log       *slog.Logger
	files     blobstore.Store
}

// Work implements river.Worker.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	now := w.db.Now()
	s, i, err := w.db.PurgeExpired(ctx, now.Add(-w.idle), now.Add(-w.max))
	if err != nil {
		return models.Wrap("CleanupWorker.Work", err)
	}
	r, err := w.db.PurgePasswordResets(ctx)
	if err != nil {
		return err
	}
	if s+i+r > 0 {
		w.log.Info("expired rows removed", "sessions", s, "invitations", i, "password_resets", r)
	}
	if w.files == nil {
		return nil
	}
	n, err := SweepFiles(ctx, w.db, w.files, time.Now().Add(-FileGrace))
	if n > 0 {
		w.log.Info("files no row names removed", "files", n)
	}
	return models.Wrap("CleanupWorker.Work", err)
}

// SweepFiles deletes the files of the swept folders that were last
// changed before cutoff and that no row names, and the store's unfinished
// uploads of before cutoff, and returns how many.
func SweepFiles(ctx context.Context, db *models.DB, files blobstore.Store, cutoff time.Time) (int, error) {
	var old []string
	for _, folder := range sweptFolders {
		err := files.Walk(ctx, folder, func(key string, modified time.Time) error {
			if modified.Before(cutoff) {
				old = append(old, key)
			}
			return nil
		})
		if err != nil {
			return 0, models.Wrap("jobs.SweepFiles", err)
		}
	}
	n := 0
	if st, ok := files.(interface {
		RemoveStale(context.Context, time.Time) (int, error)
	}); ok {
		var err error
		if n, err = st.RemoveStale(ctx, cutoff); err != nil {
			return n, models.Wrap("jobs.SweepFiles", err)
		}
	}
	if len(old) == 0 {
		return n, nil
	}
	used, err := db.BlobKeysInUse(ctx, old)
	if err != nil {
		return 0, models.Wrap("jobs.SweepFiles", err)
	}
	for _, key := range old {
		if used[key] {
			continue
		}
		if err := files.Delete(ctx, key); err != nil {
			return n, models.Wrap("jobs.SweepFiles", err)
		}
		n++
	}
	return n, nil
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.min}
}
func (m minLevel) WithGroup(n string) slog.Handler { return minLevel{m.Handler.WithGroup(n), m.min} }
