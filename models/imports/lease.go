package imports

import (
	"context"
	"time"

	"github.com/optline/optline/models"
)

// Claim takes the work lease of a running import for holder (a
// job, whose slices all hold it; "" for a one-off run); ErrLeaseTaken
// when another live holder has it.
func Claim(ctx context.Context, t models.Tenant, id int64, holder string) (*models.Lease, error) {
	return t.ClaimLease(ctx, "imports", id, holder, "status = ?", ImportRunning)
}

// StalledRuns lists, across businesses, running imports whose last
// sign of life is older than before: the run working them died. Only the
// resume loop uses it; it enqueues a job that works through the import's
// own business scope.
func StalledRuns(ctx context.Context, db *models.DB, before time.Time, limit int) ([]models.StalledWork, error) {
	return db.StalledLeases(ctx, "imports", before, limit, "status = ?", ImportRunning)
}

// Stalled reports whether a running import's run has shown no sign of
// life for WorkStale at now, and for how long: its process died (or the
// queue has not given it a worker yet) and the resume loop is about to
// take it up again.
func (i *Import) Stalled(now time.Time) (bool, time.Duration) {
	if i.Status != ImportRunning {
		return false, 0
	}
	last := i.HeartbeatAt
	if last == nil {
		last = i.ProgressAt
	}
	if last == nil || now.Sub(*last) <= models.WorkStale {
		return false, 0
	}
	return true, now.Sub(*last)
}
