// Package contactimport is the contact import engine: it checks uploaded
// files, previews their rows, runs the import job on the job queue and
// writes the error report. It builds on package importer (parsing and
// mapping, no database) and models (Tenant.ApplyImportBatch and the
// imports table); handlers and the benchmark command drive it.
//
// The job works through a file in slices of about SliceTime: after each
// committed batch it saves the checkpoint (rows handled) with the counts,
// and when the slice is used up it returns river.JobSnooze(0), so the job
// is picked up again at once and no job runs longer than a minute. A job
// holds the import's work lease (models.Lease) and beats its heartbeat
// every few seconds; after a crash the heartbeat goes stale, the resume
// loop of every running portal (jobs.Resumer, here Engine.Stalled) queues
// a fresh job within seconds and it resumes after the last checkpoint.
// The dead run's job, rescued by the queue minutes later, finds the lease
// taken or the import done and ends. A batch that was applied but not yet
// checkpointed is recognised by the batch ledger of ApplyImportBatch, so
// nothing is imported or counted twice.
package contactimport

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
)

// ImportArgs is the job of one import. It carries the business, so the job
// works in that business's scope only.
type ImportArgs struct {
	ImportID   int64 `json:"import_id"`
	BusinessID int64 `json:"business_id"`
	// Resume is set on a job the resume loop queued for a stalled import:
	// the stall's last sign of life (Unix µs). It makes the job unique per
	// stall, so it is queued beside the dead run's job (still "running"
	// until the queue rescues it), and several processes finding the same
	// stall queue one job.
	Resume int64 `json:"resume,omitempty"`
}

// Kind names the job.
func (ImportArgs) Kind() string { return "contact_import" }

// MaxAttempts is how often the job is tried after errors (snoozes between
// slices do not count).
const MaxAttempts = 8

// InsertOpts makes the job unique per import: a double click queues one.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// AddWorkers adds the import worker and its janitor to the queue's
// workers (the engine is the import area's jobs.Area).
func (e *Engine) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &Worker{e: e})
	river.AddWorker(workers, e.janitor)
}

// Worker runs import jobs on the queue.
type Worker struct {
	river.WorkerDefaults[ImportArgs]
	e *Engine
}

// Timeout bounds one slice; it stays below the queue's stuck-job rescue
// time, so a healthy job is never rescued while it runs.
func (w *Worker) Timeout(*river.Job[ImportArgs]) time.Duration {
	return 2*w.e.SliceTime + 30*time.Second
}

// Work runs one slice of the import.
func (w *Worker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	out, err := w.e.runSlice(ctx, job.Args, "job "+strconv.FormatInt(job.ID, 10))
	switch {
	case errors.Is(err, ErrForeignImport):
		return river.JobCancel(err)
	case err != nil && ctx.Err() != nil:
		// Shut down or timed out: the checkpoint is saved; come back at
		// once without using up an attempt.
		return river.JobSnooze(0)
	case err != nil:
		if job.Attempt >= job.MaxAttempts {
			w.e.fail(context.WithoutCancel(ctx), job.Args, "The import stopped after repeated errors; the rows counted so far were imported.")
			w.e.Log.Error("import gave up", "import", job.Args.ImportID, "error", err.Error())
			return nil
		}
		return models.Wrap("Worker.Work", err)
	case out == More:
		return river.JobSnooze(0)
	}
	return nil
}

// Stalled lists the jobs that resume running imports whose run has
// shown no sign of life since before (its process died): one per import,
// unique to the stall. It is the import area's jobs.Resumer.
func (e *Engine) Stalled(ctx context.Context, before time.Time) ([]river.JobArgs, error) {
	stalled, err := e.Store.StalledImportRuns(ctx, before, 100)
	if err != nil {
		return nil, models.Wrap("Engine.Stalled", err)
	}
	out := make([]river.JobArgs, len(stalled))
	for i, w := range stalled {
		out[i] = ImportArgs{ImportID: w.ID, BusinessID: w.BusinessID, Resume: w.Beat.UnixMicro()}
	}
	return out, nil
}

// ErrForeignImport is a job whose import does not exist in its business:
// the job is cancelled and writes nothing.
var ErrForeignImport = errors.New("import not found in the job's business")

func (e *Engine) fail(ctx context.Context, args ImportArgs, msg string) {
	tn, err := e.Store.Tenant(args.BusinessID)
	if err != nil {
		return
	}
	if err := imports.Finish(ctx, tn, args.ImportID, imports.ImportFailed, msg); err != nil {
		e.Log.Warn("mark import failed", "import", args.ImportID, "error", err.Error())
	}
}
