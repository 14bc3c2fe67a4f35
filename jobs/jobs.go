// Package jobs runs Optline's background work on River, on PostgreSQL or
// SQLite alike. It hides River's driver-specific transaction type behind
// a small Queue, so callers never care which database runs.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
)

// Queue is the started job client.
type Queue struct {
	insert func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	start  func(ctx context.Context) error
	stop   func(ctx context.Context) error
	log    *slog.Logger
}

// Config tunes the queue.
type Config struct {
	// SessionIdle and SessionMax are the session time-outs the cleanup
	// job applies.
	SessionIdle, SessionMax time.Duration
	// CleanupEvery is how often expired sessions and invitations go.
	CleanupEvery time.Duration
	// Periodic adds scheduled jobs of other areas (their workers come
	// through Register).
	Periodic []*river.PeriodicJob
	// Register adds more workers (imports, sends) to the bundle.
	Register func(w *river.Workers)
	// Poll is how often workers look for new jobs (SQLite has no
	// LISTEN/NOTIFY); zero keeps River's default.
	Poll time.Duration
	// Files, when set, is swept by the cleanup job: a file no row names
	// (a crash between storing an upload and saving its row, a photo
	// replaced just before a crash) goes once it is FileGrace old.
	Files blobstore.Store
}

// FileGrace is how old a file no row names must be before the cleanup
// removes it: an upload is stored a moment before its row is saved.
const FileGrace = time.Hour

// sweptFolders are the file store's folders whose files rows name.
var sweptFolders = []string{"photos", "documents", "imports"}

// New builds the queue for db with the built-in workers plus cfg.Register.
func New(db *models.DB, log *slog.Logger, cfg Config) (*Queue, error) {
	if cfg.CleanupEvery == 0 {
		cfg.CleanupEvery = 15 * time.Minute
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &CleanupWorker{db: db, idle: cfg.SessionIdle, max: cfg.SessionMax, log: log, files: cfg.Files})
	if cfg.Register != nil {
		cfg.Register(workers)
	}
	rc := &river.Config{
		// River reports routine counts at info level every few seconds;
		// only its warnings belong in the portal's log.
		Logger:  slog.New(minLevel{log.Handler(), slog.LevelWarn}).With("component", "jobs"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: workers,
		PeriodicJobs: append([]*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.CleanupEvery),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}, cfg.Periodic...),
		FetchPollInterval: cfg.Poll,
		FetchCooldown:     min(cfg.Poll, 100*time.Millisecond),
		// No job runs long: long work (imports) goes in slices that save
		// a checkpoint and snooze. A job left "running" by a crashed
		// process is then rescued and resumed within minutes.
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 3 * time.Minute,
	}
	q := &Queue{log: log}
	// The queue runs on connections of its own (models.DB.QueueSQL,
	// QueuePool), so its leader election and fetches cannot starve
	// behind page reads holding every connection of the portal's pool.
	switch db.Dialect {
	case models.Postgres:
		c, err := river.NewClient(riverpgxv5.New(db.QueuePool), rc)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.insert, q.start, q.stop = c.Insert, c.Start, c.Stop
	default:
		c, err := river.NewClient(riversqlite.New(db.QueueSQL), rc)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.insert, q.start, q.stop = c.Insert, c.Start, c.Stop
	}
	return q, nil
}

// Insert enqueues a job.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := q.insert(ctx, args, opts)
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

// Start begins working jobs.
func (q *Queue) Start(ctx context.Context) error { return q.start(ctx) }

// Stop lets running jobs finish (up to ctx's deadline), then returns.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		q.log.Warn("job queue stopped before every job finished; they will be retried")
	}
	return err
}

// CleanupArgs is the periodic job that expires sessions and invitations.
type CleanupArgs struct{}

// Kind names the job.
func (CleanupArgs) Kind() string { return "cleanup_expired" }

// CleanupWorker deletes timed-out sessions and long-expired invitations,
// and files no row names.
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
		return err
	}
	if s+i > 0 {
		w.log.Info("expired rows removed", "sessions", s, "invitations", i)
	}
	if w.files == nil {
		return nil
	}
	n, err := SweepFiles(ctx, w.db, w.files, time.Now().Add(-FileGrace))
	if n > 0 {
		w.log.Info("files no row names removed", "files", n)
	}
	return err
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
			return 0, err
		}
	}
	n := 0
	if st, ok := files.(interface {
		RemoveStale(context.Context, time.Time) (int, error)
	}); ok {
		var err error
		if n, err = st.RemoveStale(ctx, cutoff); err != nil {
			return n, err
		}
	}
	if len(old) == 0 {
		return n, nil
	}
	used, err := db.BlobKeysInUse(ctx, old)
	if err != nil {
		return 0, err
	}
	for _, key := range old {
		if used[key] {
			continue
		}
		if err := files.Delete(ctx, key); err != nil {
			return n, err
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
