package contactimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// Outcome says whether an import needs another slice.
type Outcome int

const (
	// Finished: the import is done, failed, cancelled or not this job's.
	Finished Outcome = iota
	// More: the slice ended with rows left; run another.
	More
)

// DefaultSliceTime is how long one slice of an import job works before it
// saves its place and yields.
const DefaultSliceTime = 20 * time.Second

// Store is what the engine needs from the database beyond a business's
// scope (models.Tenant, which it gets from Tenant): the cross-business
// reads of its clean-up and resume, and the planner statistics after a
// big import. *models.DB is one.
type Store interface {
	Tenant(businessID int64) (models.Tenant, error)
	StalledImportRuns(ctx context.Context, before time.Time, limit int) ([]models.StalledWork, error)
	StalledImports(ctx context.Context, before time.Time, limit int) ([]imports.Import, error)
	AbandonedUploads(ctx context.Context, before time.Time, limit int) ([]imports.Import, error)
	RefreshContactStats(ctx context.Context) error
}

// Queue is what the engine needs from the job queue: inserting a job on
// its own (clean-up) or inside the transaction that starts the work.
// *jobs.Queue is one.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error)
	InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) (int64, error)
}

// Deps are the engine's collaborators, built once by cmd/portal.
type Deps struct {
	Store Store
	Files blobstore.Store
	Queue Queue
	Log   *slog.Logger
	// Now is the clock (the database's, so tests move it); default time.Now.
	Now func() time.Time
	// ParallelWrites says the database takes several batch writers at
	// once (PostgreSQL); SQLite has one writer.
	ParallelWrites bool
}

// Options tune the engine; zero values keep the defaults.
type Options struct {
	// SliceTime bounds one slice (default DefaultSliceTime).
	SliceTime time.Duration
	// BatchSize is the rows per batch of imports queued from now on
	// (default importer.DefaultBatchSize). An import keeps the size it was
	// queued with, so resumed runs cut the same batches.
	BatchSize int
	// Workers is the number of parallel row mappers (default: all cores).
	Workers int
	// Appliers is the number of batches applied at once when the
	// database takes parallel writes (default 2).
	Appliers int
	// Hooks observe the work (tests, the benchmark); nil in the portal.
	Hooks *Hooks
}

// Hooks observe an import's batches. Tests stop a run at a chosen batch
// as a crash would; the benchmark times where a batch's time goes.
type Hooks struct {
	// AfterApply runs after a batch was applied to the contacts and
	// before its checkpoint is saved; an error ends the slice there.
	AfterApply func(importID int64, b importer.Batch) error
	// Timed gets each batch's time in ApplyImportBatch, saving its
	// checkpoint, and waiting for its mapped rows, once the checkpoint is
	// saved (before the import is reported finished).
	Timed func(apply, record, wait time.Duration)
}

// Engine runs imports: the job queue's worker calls its slices, handlers
// start imports through Start.
type Engine struct {
	Deps
	Options
	janitor *Janitor

	// fresh holds, per import, the contacts.FreshBook of imports into a book
	// that was empty when they began, for as long as this process runs
	// their slices (import id → *contacts.FreshBook).
	fresh sync.Map
}

// New returns an engine for d, with o's tuning.
func New(d Deps, o Options) *Engine {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if o.SliceTime <= 0 {
		o.SliceTime = DefaultSliceTime
	}
	if o.BatchSize <= 0 {
		o.BatchSize = importer.DefaultBatchSize
	}
	if o.Appliers <= 0 {
		o.Appliers = 2
	}
	if !d.ParallelWrites {
		o.Appliers = 1
	}
	e := &Engine{Deps: d, Options: o}
	e.janitor = &Janitor{Store: d.Store, Files: d.Files, Log: d.Log, Now: d.Now, Queue: d.Queue}
	return e
}

// hook returns the hooks, never nil.
func (e *Engine) hook() *Hooks {
	if e.Hooks == nil {
		return &Hooks{}
	}
	return e.Hooks
}

// freshBook returns the import's record of numbers written, when the book
// was empty as it began: started on the import's first slice, kept for the
// later slices this process runs. An import resumed by another process, or
// after a restart, looks every number up.
func (e *Engine) freshBook(ctx context.Context, tn models.Tenant, imp *imports.Import) (*contacts.FreshBook, error) {
	if v, ok := e.fresh.Load(imp.ID); ok {
		return v.(*contacts.FreshBook), nil
	}
	if imp.RowsDone > 0 || !e.ParallelWrites {
		return nil, nil
	}
	has, err := contacts.HasAny(ctx, tn)
	if err != nil || has {
		return nil, err
	}
	f := contacts.NewFreshBook()
	e.fresh.Store(imp.ID, f)
	return f, nil
}

// BatchSizeFor is the batch size to record on an import being queued.
func (e *Engine) BatchSizeFor() int {
	if e == nil || e.BatchSize <= 0 {
		return importer.DefaultBatchSize
	}
	return min(e.BatchSize, contacts.MaxImportBatch)
}

var (
	errSliceEnd  = errors.New("slice used up")
	errCancelled = errors.New("import cancelled")
	errLost      = errors.New("another worker moved the checkpoint")
)

// RunSlice works on the import from its checkpoint until the file ends,
// the slice time is used up (More), the import is cancelled or fails. An
// error means nothing after the last checkpoint was kept; run it again.
// It holds the import's work lease while it runs (see models.Lease) and
// ends at once, Finished, when another live run holds it.
func (e *Engine) RunSlice(ctx context.Context, args ImportArgs) (Outcome, error) {
	return e.runSlice(ctx, args, "")
}

// runSlice is RunSlice for holder: a job's slices share its lease, so its
// next slice continues while another job of the import (queued by the
// resume loop while this one waited for a worker) ends without work.
func (e *Engine) runSlice(ctx context.Context, args ImportArgs, holder string) (outcome Outcome, err error) {
	tn, terr := e.Store.Tenant(args.BusinessID)
	if terr != nil {
		return Finished, fmt.Errorf("%w: %w", ErrForeignImport, terr)
	}
	imp, err := imports.StartRun(ctx, tn, args.ImportID)
	if errors.Is(err, models.ErrNotFound) {
		return Finished, ErrForeignImport
	}
	if err != nil {
		return Finished, err
	}
	switch {
	case imp.Finished():
		e.removeFile(ctx, imp)
		return Finished, nil
	case imp.Status != imports.ImportRunning:
		e.Log.Warn("import job for an import not confirmed", "import", imp.ID, "status", imp.Status)
		return Finished, nil
	}
	// One run at a time: a job rescued after a crash, or queued again by
	// the resume loop while another run works, ends here without work.
	lease, err := imports.Claim(ctx, tn, imp.ID, holder)
	if errors.Is(err, models.ErrLeaseTaken) {
		e.Log.Info("import is being worked by another job; this one ends", "import", imp.ID)
		return Finished, nil
	}
	if err != nil {
		return Finished, err
	}
	outer := ctx
	ctx, release := lease.Hold(ctx)
	// A job keeps the lease for its next slice, or its retry.
	defer func() { release(holder != "" && (outcome == More || err != nil)) }()
	defer func() {
		// Lost the lease (this run's heartbeat was too late and another
		// run took over): the other run continues from the checkpoint.
		if outer.Err() == nil && errors.Is(context.Cause(ctx), models.ErrLeaseLost) {
			e.Log.Warn("import lease taken over by another job; this one stops", "import", imp.ID)
			e.fresh.Delete(imp.ID)
			outcome, err = Finished, nil
		}
	}()
	f, err := e.Files.Open(ctx, imp.FileKey)
	if errors.Is(err, blobstore.ErrNotFound) || errors.Is(err, blobstore.ErrBadKey) {
		return Finished, imports.Finish(ctx, tn, imp.ID, imports.ImportFailed, "The uploaded file is no longer available. Upload it again.")
	}
	if err != nil {
		return Finished, err
	}
	defer f.Close()

	batch, err := imports.FixBatchSize(ctx, tn, imp, e.BatchSizeFor())
	if err != nil {
		return Finished, err
	}
	fresh, err := e.freshBook(ctx, tn, imp)
	if err != nil {
		return Finished, err
	}
	defer func() {
		if outcome == Finished {
			e.fresh.Delete(imp.ID)
		}
	}()
	cfg := importer.Config{Format: imp.Format, Mapping: imp.Mapping, Defaults: imp.ImporterDefaults(e.Now()),
		SkipRows: int(imp.RowsDone), BatchSize: batch, Workers: e.Workers, TotalBytes: imp.FileSize}
	slice := e.SliceTime
	if slice <= 0 {
		slice = DefaultSliceTime
	}
	deadline := time.Now().Add(slice)
	done := imp.RowsDone
	mark := time.Now()
	// Batches are applied by up to appliers goroutines (two on PostgreSQL,
	// whose backends are processes of their own: two connections use both
	// cores), each after the previous one as ApplyImportBatchWith
	// describes; results are recorded one by one in file order, so the
	// checkpoint only ever moves over a contiguous run of committed
	// batches. A batch committed but not recorded when the slice ends is
	// replayed from the ledger by the next run.
	appliers := e.Appliers
	hooks := e.hook()
	var queue []*pendingBatch
	defer func() { // never leave a batch running behind the slice
		for _, p := range queue {
			<-p.done
		}
	}()
	record := func(p *pendingBatch) error {
		<-p.done
		if p.err != nil {
			return p.err
		}
		t1 := time.Now()
		b, res := p.batch, p.res
		if hooks.AfterApply != nil {
			if err := hooks.AfterApply(imp.ID, b); err != nil {
				return err
			}
		}
		rowErrs := mergeErrors(b.Errors, res.RowErrors)
		d := imports.ImportBatchDelta{RowsDone: int64(b.RowsDone), BytesDone: b.BytesRead, Imported: int64(res.Imported),
			Updated: int64(res.Updated), Skipped: int64(res.Skipped), Suppressed: int64(res.Suppressed),
			Failed: int64(len(rowErrs)), Duplicates: int64(res.Duplicates), Blank: int64(b.Blank), Repeats: res.Repeats}
		status, err := imports.RecordBatch(ctx, tn, imp.ID, done, d, rowErrs)
		if hooks.Timed != nil {
			hooks.Timed(p.apply, time.Since(t1), p.wait)
		}
		if errors.Is(err, models.ErrConflict) {
			return errLost
		}
		if err != nil {
			return err
		}
		done = int64(b.RowsDone)
		switch {
		case status == imports.ImportCancelled:
			return errCancelled
		case time.Now().After(deadline):
			return errSliceEnd
		}
		return nil
	}
	_, err = importer.Run(ctx, f, cfg, func(b importer.Batch) error {
		p := &pendingBatch{batch: b, done: make(chan struct{}), wait: time.Since(mark)}
		defer func() { mark = time.Now() }()
		opt := contacts.ImportBatchOptions{Fresh: fresh}
		if n := len(queue); n > 0 && appliers > 1 {
			opt.After = queue[n-1].pending()
		}
		go func() {
			defer close(p.done)
			t0 := time.Now()
			p.res, p.err = contacts.ApplyImportBatchWith(ctx, tn, imp.ID, b.Contacts, imp.Policy, "", opt)
			p.apply = time.Since(t0)
		}()
		queue = append(queue, p)
		for len(queue) >= appliers {
			head := queue[0]
			queue = queue[1:]
			if err := record(head); err != nil {
				return err
			}
		}
		return nil
	})
	// Record the batches still in flight when the file ended, or when it
	// ended in a broken row (an importer.Error comes from the file, never
	// from the sink): the rows before it count.
	var fileErr *importer.Error
	if err == nil || errors.As(err, &fileErr) {
		for len(queue) > 0 {
			head := queue[0]
			queue = queue[1:]
			if rerr := record(head); rerr != nil {
				err = rerr
				break
			}
		}
	}
	switch {
	case errors.Is(err, errSliceEnd):
		return More, nil
	case errors.Is(err, errCancelled):
		e.removeFile(ctx, imp)
		return Finished, nil
	case errors.Is(err, errLost):
		e.Log.Warn("import checkpoint moved by another worker; this one stops", "import", imp.ID)
		return Finished, nil
	case errors.As(err, &fileErr) && fileErr.Fatal:
		if err := imports.Finish(ctx, tn, imp.ID, imports.ImportFailed, fileErr.Message); err != nil {
			return Finished, err
		}
		e.removeFile(ctx, imp)
		return Finished, nil
	case err != nil:
		return Finished, err
	}
	if err := imports.Finish(ctx, tn, imp.ID, imports.ImportDone, ""); err != nil {
		return Finished, err
	}
	e.removeFile(ctx, imp)
	if imp.RowsTotal >= contacts.AnalyzeImportLimit {
		// The import is done either way; stale statistics only make
		// pages slower until autovacuum catches up.
		if err := e.Store.RefreshContactStats(ctx); err != nil {
			e.Log.Warn("refreshing contact statistics after an import failed", "import", imp.ID, "err", err)
		}
	}
	return Finished, nil
}

// pendingBatch is a batch handed to an applier.
type pendingBatch struct {
	batch importer.Batch
	res   contacts.BatchResult
	err   error
	done  chan struct{}
	// wait is how long the batch's rows took to arrive, apply how long
	// its write took (for Hooks.Timed).
	wait, apply time.Duration
}

var errPreviousFailed = errors.New("the previous batch failed")

// pending describes p to the next batch.
func (p *pendingBatch) pending() *contacts.PendingBatch {
	phones := make(map[string]struct{}, len(p.batch.Contacts))
	for i := range p.batch.Contacts {
		phones[p.batch.Contacts[i].Phone] = struct{}{}
	}
	return &contacts.PendingBatch{Phones: phones, Wait: func(ctx context.Context) error {
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.err != nil {
			return errPreviousFailed
		}
		return nil
	}}
}

// removeFile deletes an ended import's upload: the contacts are stored,
// the rejected rows are in the report, and a list of personal data should
// not be kept longer than needed.
func (e *Engine) removeFile(ctx context.Context, imp *imports.Import) {
	if imp.FileKey == "" {
		return
	}
	if err := e.Files.Delete(context.WithoutCancel(ctx), imp.FileKey); err != nil {
		e.Log.Warn("remove import file", "import", imp.ID, "error", err.Error())
	}
}

// mergeErrors joins the importer's and the store's rejected rows in row
// order.
func mergeErrors(a, b []importer.RowError) []importer.RowError {
	if len(b) == 0 {
		return a
	}
	out := append(append(make([]importer.RowError, 0, len(a)+len(b)), a...), b...)
	slices.SortStableFunc(out, func(x, y importer.RowError) int { return x.Row - y.Row })
	return out
}
