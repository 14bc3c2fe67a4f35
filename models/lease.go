package models

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// Work leases: long work on one row (an import, later a campaign send) is
// done by one job run at a time. The run claims the row's lease (its
// lease_token and heartbeat_at columns), refreshes the heartbeat every
// WorkHeartbeat while it works, and frees the lease when it returns. A
// process that dies leaves a lease whose heartbeat stops: after WorkStale
// any run may take it over, and the queue's resume loop (jobs.Resumer)
// enqueues a fresh job for it at once. A job of a lease that is held and
// alive ends without work, so a crashed job rescued late by the queue
// does nothing.

const (
	// WorkHeartbeat is how often a run refreshes the heartbeat of its lease.
	WorkHeartbeat = 2 * time.Second
	// WorkStale is how old a heartbeat must be before the lease is free
	// for another run and its work counts as stalled.
	WorkStale = 10 * time.Second
)

// ErrLeaseTaken is returned when another live run holds the lease.
var ErrLeaseTaken = errors.New("models: another job is working on this item")

// ErrLeaseLost is the cause of a held lease's context ending because
// another run took the lease over (this one's heartbeat was too late).
var ErrLeaseLost = errors.New("models: the work lease was taken over")

// leaseTables are the tables with a work lease (lease_token,
// heartbeat_at, business_id).
var leaseTables = map[string]bool{"imports": true, "campaigns": true}

// Lease is one run's hold on one work item.
type Lease struct {
	db         *DB
	table      string
	id         int64
	businessID int64
	token      string
}

// Token names the run holding the lease.
func (l *Lease) Token() string { return l.token }

// ClaimLease takes the lease of row id of table (in t's business) for
// holder when the row matches cond (SQL with args) and the lease is free,
// already holder's, or its heartbeat is older than WorkStale. An empty
// holder is a one-off run: a random token.
func (t Tenant) ClaimLease(ctx context.Context, table string, id int64, holder string, cond string, args ...any) (*Lease, error) {
	if err := t.Check(); err != nil {
		return nil, Wrap("Tenant.ClaimLease", err)
	}
	if !leaseTables[table] {
		return nil, fmt.Errorf("models: %s has no work lease", table)
	}
	if holder == "" {
		holder = rand.Text()
	}
	if len(holder) > 64 {
		return nil, errors.New("models: lease holder longer than 64 bytes")
	}
	now := t.db.Now()
	l := &Lease{db: t.db, table: table, id: id, businessID: t.businessID, token: holder}
	q := `UPDATE ` + table + ` SET lease_token = ?, heartbeat_at = ? WHERE id = ? AND business_id = ? AND (` + cond + `)
		AND (lease_token = '' OR lease_token = ? OR heartbeat_at IS NULL OR heartbeat_at < ?)`
	res := t.db.WithContext(ctx).Exec(q, append(append([]any{l.token, now, id, t.businessID}, args...), l.token, now.Add(-WorkStale))...)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, ErrLeaseTaken
	}
	return l, nil
}

// beat refreshes the heartbeat; false when the lease is no longer this
// run's.
func (l *Lease) beat(ctx context.Context) (bool, error) {
	res := l.db.WithContext(ctx).Exec(`UPDATE `+l.table+` SET heartbeat_at = ? WHERE id = ? AND business_id = ? AND lease_token = ?`,
		l.db.Now(), l.id, l.businessID, l.token)
	return res.RowsAffected > 0, res.Error
}

// Hold refreshes the lease's heartbeat every WorkHeartbeat until release
// is called, which stops the heartbeat and beats once more: the item
// counts as stalled only if no run claims it within WorkStale. With keep
// the lease stays its holder's, for the holder's next run (a job's next
// slice: another job may take it only once it is stale); without, it is
// free. The returned context ends, with cause ErrLeaseLost, when another
// run has taken the lease over.
func (l *Lease) Hold(ctx context.Context) (_ context.Context, release func(keep bool)) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(WorkHeartbeat)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if ok, err := l.beat(ctx); err == nil && !ok {
				cancel(ErrLeaseLost)
				return
			}
			// A failed heartbeat (database busy) is tried again at the
			// next tick; the lease stays this run's for WorkStale.
		}
	}()
	return ctx, func(keep bool) {
		close(stop)
		<-done
		next := ""
		if keep {
			next = l.token
		}
		l.db.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE `+l.table+` SET lease_token = ?, heartbeat_at = ? WHERE id = ? AND business_id = ? AND lease_token = ?`,
			next, l.db.Now(), l.id, l.businessID, l.token)
		cancel(context.Canceled)
	}
}

// StalledWork is a leased item whose heartbeat went stale.
type StalledWork struct {
	ID, BusinessID int64
	// Beat is its last sign of life (heartbeat, else update time): the
	// same for every process that finds this stall, different for the
	// next one.
	Beat time.Time
}

// StalledLeases lists the rows of a lease table matching cond (SQL with
// args) whose heartbeat, or update time when they never had one (work
// begun before its table had a lease), is older than before.
func (db *DB) StalledLeases(ctx context.Context, table string, before time.Time, limit int, cond string, args ...any) ([]StalledWork, error) {
	if !leaseTables[table] {
		return nil, fmt.Errorf("models: %s has no work lease", table)
	}
	var rows []struct {
		ID, BusinessID       int64
		HeartbeatAt, Updated *time.Time
	}
	// Each time column is compared (and read) on its own: SQLite returns
	// an expression over them as text.
	q := `SELECT id, business_id, heartbeat_at, updated_at AS updated FROM ` + table + ` WHERE (` + cond + `)
		AND (heartbeat_at < ? OR (heartbeat_at IS NULL AND updated_at < ?)) ORDER BY id LIMIT ?`
	if err := db.WithContext(ctx).Raw(q, append(args, before, before, limit)...).Scan(&rows).Error; err != nil {
		return nil, Wrap("DB.StalledLeases", err)
	}
	out := make([]StalledWork, 0, len(rows))
	for _, r := range rows {
		w := StalledWork{ID: r.ID, BusinessID: r.BusinessID}
		if r.HeartbeatAt != nil {
			w.Beat = *r.HeartbeatAt
		} else if r.Updated != nil {
			w.Beat = *r.Updated
		}
		out = append(out, w)
	}
	return out, nil
}
