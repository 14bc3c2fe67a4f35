package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/models"
)

// Resumer finds the work items of one kind (imports, campaign sends)
// whose run stopped showing signs of life before a time (a heartbeat on
// the item, see models.Lease): the process working them died. It returns
// the jobs that take them up again. Each job's arguments must be unique
// to the stall (its kind's InsertOpts unique by args), so that every
// process finding the same stall queues one job, and the item's lease
// makes sure only one run works it even if two jobs exist.
type Resumer interface {
	Stalled(ctx context.Context, before time.Time) ([]river.JobArgs, error)
}

// ResumeEvery is how often the queue asks its resumers for stalled work.
// With models.WorkStale it bounds how long a crash stalls work: a
// restarted portal takes an item up within WorkStale + ResumeEvery of the
// crash, plus the time to fetch the job.
const ResumeEvery = 3 * time.Second

// resumeLoop runs in every process beside the queue, whether or not it
// leads River's maintenance (after a crash, leadership itself takes a
// while to expire), until stop is closed.
type resumeLoop struct {
	q        *Queue
	db       *models.DB
	resumers []Resumer
	every    time.Duration
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func (r *resumeLoop) start(ctx context.Context) {
	if len(r.resumers) == 0 {
		return
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			r.once(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (r *resumeLoop) stop() {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
}

// once queues a job for every stalled item the resumers report.
func (r *resumeLoop) once(ctx context.Context) {
	before := r.db.Now().Add(-models.WorkStale)
	for _, res := range r.resumers {
		stalled, err := res.Stalled(ctx, before)
		if err != nil {
			if ctx.Err() == nil {
				r.q.log.Warn("looking for stalled work failed", "error", err.Error())
			}
			continue
		}
		for _, args := range stalled {
			ins, err := r.q.insert(ctx, args, nil)
			if err != nil {
				if ctx.Err() == nil {
					r.q.log.Warn("queuing stalled work failed", "kind", args.Kind(), "error", err.Error())
				}
				continue
			}
			if !ins.UniqueSkippedAsDuplicate {
				r.q.log.Info("stalled work queued again", "kind", args.Kind(), "job", ins.Job.ID)
			}
		}
	}
}
