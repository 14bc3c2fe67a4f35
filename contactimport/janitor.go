package contactimport

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
)

// JanitorArgs is the periodic job that removes abandoned uploads (files
// uploaded but never confirmed within imports.AbandonedUploadAge) and gives
// stalled imports their job back.
type JanitorArgs struct{}

// Kind names the job.
func (JanitorArgs) Kind() string { return "contact_import_janitor" }

// PeriodicJobs are the import area's scheduled jobs (jobs.Area).
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return JanitorArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

// Janitor works JanitorArgs.
type Janitor struct {
	river.WorkerDefaults[JanitorArgs]
	Store Store
	Files blobstore.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Queue takes the import jobs it gives back (unique per import, so a
	// job that still exists is not doubled).
	Queue interface {
		Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error)
	}
}

// Work implements river.Worker.
func (j *Janitor) Work(ctx context.Context, _ *river.Job[JanitorArgs]) error {
	if _, err := j.Sweep(ctx); err != nil {
		return models.Wrap("Janitor.Work", err)
	}
	_, err := j.Requeue(ctx)
	return models.Wrap("Janitor.Work", err)
}

// Requeue inserts the job again for imports that stopped making progress
// (imports.StalledImportAge); the import resumes from its checkpoint. It
// returns how many it requeued.
func (j *Janitor) Requeue(ctx context.Context) (int, error) {
	stalled, err := j.Store.StalledImports(ctx, j.Now().Add(-imports.StalledImportAge), 500)
	if err != nil {
		return 0, models.Wrap("Janitor.Requeue", err)
	}
	for i, imp := range stalled {
		if _, err := j.Queue.Insert(ctx, ImportArgs{ImportID: imp.ID, BusinessID: imp.BusinessID}, nil); err != nil {
			return i, models.Wrap("Janitor.Requeue", err)
		}
		if j.Log != nil {
			j.Log.Warn("import made no progress; job queued again", "import", imp.ID, "status", imp.Status)
		}
	}
	return len(stalled), nil
}

// Sweep cancels abandoned uploads through their business's scope (an
// audit entry each) and deletes their files. It returns how many went.
func (j *Janitor) Sweep(ctx context.Context) (int, error) {
	stale, err := j.Store.AbandonedUploads(ctx, j.Now().Add(-imports.AbandonedUploadAge), 500)
	if err != nil {
		return 0, models.Wrap("Janitor.Sweep", err)
	}
	n := 0
	for _, imp := range stale {
		tn, err := j.Store.Tenant(imp.BusinessID)
		if err != nil {
			return n, models.Wrap("Janitor.Sweep", err)
		}
		if _, err := imports.Cancel(ctx, tn, imp.ID, nil); errors.Is(err, models.ErrConflict) {
			continue // confirmed or cancelled meanwhile
		} else if err != nil {
			return n, models.Wrap("Janitor.Sweep", err)
		}
		if err := j.Files.Delete(ctx, imp.FileKey); err != nil && j.Log != nil {
			j.Log.Warn("remove abandoned upload", "import", imp.ID, "error", err.Error())
		}
		n++
	}
	if n > 0 && j.Log != nil {
		j.Log.Info("abandoned uploads removed", "count", n)
	}
	return n, nil
}
