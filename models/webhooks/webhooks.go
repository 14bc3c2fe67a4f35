// Package webhooks stores what the platform posts to Optline: every body,
// raw, as it came (table webhook_events), before it is answered and before
// anything in it is believed; and the parts that could not be applied to
// any business (table webhook_unmatched), kept for administrators to review
// and for later matching. These tables belong to the platform, not to a
// business: a body is routed to a business only while it is processed
// (channel/webhook), by its phone-number id.
package webhooks

import (
	"context"
	"database/sql/driver"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Event is one stored body.
type Event struct {
	ID          int64
	ReceivedAt  time.Time
	Body        []byte
	ProcessedAt *time.Time
	Error       string
}

// TableName is the table.
func (Event) TableName() string { return "webhook_events" }

// Insert stores bodies received at one time, in tx (the intake enqueues
// their processing job in the same transaction).
func Insert(tx *gorm.DB, bodies [][]byte, at time.Time) error {
	if len(bodies) == 0 {
		return nil
	}
	rows := make([]Event, len(bodies))
	for i, b := range bodies {
		rows[i] = Event{ReceivedAt: at.UTC(), Body: b}
	}
	return models.Wrap("webhooks.Insert", tx.CreateInBatches(&rows, 200).Error)
}

// Claim takes up to limit bodies not processed yet, oldest first, for
// the next claimFor: another processing job (in this process or another)
// skips them meanwhile; a claim left by a crashed job runs out. One
// statement on both databases (PostgreSQL skips rows another claim locks).
func Claim(ctx context.Context, db *models.DB, limit int, claimFor time.Duration) ([]Event, error) {
	now := db.Now().UTC()
	lock := ""
	if db.Dialect == models.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []Event
	err := db.WithContext(ctx).Raw(`UPDATE webhook_events SET claimed_until = ? WHERE id IN (
		SELECT id FROM webhook_events WHERE processed_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)
		ORDER BY id LIMIT ?`+lock+`) RETURNING id, received_at, body`, now.Add(claimFor), now, limit).Scan(&out).Error
	return out, models.Wrap("webhooks.Claim", err)
}

// Done marks bodies processed, with the error of those that had one.
func Done(ctx context.Context, db *models.DB, ids []int64, errs map[int64]string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Event{}).Where("id IN ?", ids).Update("processed_at", at.UTC()).Error; err != nil {
			return err
		}
		for id, e := range errs {
			if err := tx.Model(&Event{}).Where("id = ?", id).Update("error", e).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return models.Wrap("webhooks.Done", err)
}

// Reasons an event part is unmatched.
const (
	UnknownNumber  = "unknown_number"  // no business has the phone-number id
	UnknownMessage = "unknown_message" // a status for no message of the business
	UnknownAccount = "unknown_account" // a template event no template took
)

// Unmatched is a part of a body that was not applied.
type Unmatched struct {
	ID            int64
	EventID       int64
	Reason        string
	PhoneNumberID string
	BusinessID    *int64
	WAMID         string `gorm:"column:wamid"`
	Callback      string // biz_opaque_callback_data
	Kind          string // status, message, template
	Detail        string // the part's JSON
	ReceivedAt    time.Time
	MatchedAt     *time.Time
}

// TableName is the table.
func (Unmatched) TableName() string { return "webhook_unmatched" }

// Keep stores unmatched parts.
func Keep(ctx context.Context, db *models.DB, parts []Unmatched) error {
	if len(parts) == 0 {
		return nil
	}
	for i := range parts {
		parts[i].ID = 0
	}
	return models.Wrap("webhooks.Keep", db.WithContext(ctx).CreateInBatches(&parts, 200).Error)
}

// OpenUnmatched is up to limit unmatched parts of reason not matched since,
// received after since, oldest first (for later matching).
func OpenUnmatched(ctx context.Context, db *models.DB, reason string, since time.Time, limit int) ([]Unmatched, error) {
	var out []Unmatched
	err := db.WithContext(ctx).Where("reason = ? AND matched_at IS NULL AND received_at > ?", reason, since.UTC()).
		Order("id").Limit(limit).Find(&out).Error
	return out, models.Wrap("webhooks.OpenUnmatched", err)
}

// MarkMatched records that unmatched parts were applied after all.
func MarkMatched(ctx context.Context, db *models.DB, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.WithContext(ctx).Model(&Unmatched{}).Where("id IN ?", ids).Update("matched_at", at.UTC()).Error
	return models.Wrap("webhooks.MarkMatched", err)
}

// Count is how many open unmatched parts share a reason and number.
type Count struct {
	Reason        string
	PhoneNumberID string
	N             int64
	Last          time.Time
}

// Review is the administrators' view: open counts by reason and number,
// and the newest open parts.
type Review struct {
	Counts  []Count
	Recent  []Unmatched
	Pending int64 // bodies not processed yet
	Failed  int64 // bodies whose processing had an error
}

// ForReview reads the review page's data.
func ForReview(ctx context.Context, db *models.DB, limit int) (*Review, error) {
	r := &Review{}
	g := db.WithContext(ctx)
	type row struct {
		Reason        string
		PhoneNumberID string
		N             int64
		Last          anyTime
	}
	var rows []row
	if err := g.Model(&Unmatched{}).Select("reason, phone_number_id, COUNT(*) AS n, MAX(received_at) AS last").
		Where("matched_at IS NULL").Group("reason, phone_number_id").Order("n DESC, reason, phone_number_id").Limit(200).Scan(&rows).Error; err != nil {
		return nil, models.Wrap("webhooks.ForReview", err)
	}
	for _, x := range rows {
		r.Counts = append(r.Counts, Count{Reason: x.Reason, PhoneNumberID: x.PhoneNumberID, N: x.N, Last: x.Last.t})
	}
	if err := g.Where("matched_at IS NULL").Order("id DESC").Limit(limit).Find(&r.Recent).Error; err != nil {
		return nil, models.Wrap("webhooks.ForReview", err)
	}
	if err := g.Model(&Event{}).Where("processed_at IS NULL").Count(&r.Pending).Error; err != nil {
		return nil, models.Wrap("webhooks.ForReview", err)
	}
	if err := g.Model(&Event{}).Where("error <> ''").Count(&r.Failed).Error; err != nil {
		return nil, models.Wrap("webhooks.ForReview", err)
	}
	return r, nil
}

// anyTime scans an aggregate time: PostgreSQL gives a time, SQLite the
// text it stored.
type anyTime struct{ t time.Time }

// Value implements driver.Valuer (GORM wants both halves).
func (a anyTime) Value() (driver.Value, error) { return a.t, nil }

// Scan implements sql.Scanner.
func (a *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		a.t = x
	case string:
		a.t = parseTime(x)
	case []byte:
		a.t = parseTime(string(x))
	}
	return nil
}

func parseTime(s string) time.Time {
	for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Retention is how long processed bodies are kept (the evidence of what the
// platform said); unmatched parts stay until an administrator's review
// outlives them too.
const Retention = 30 * 24 * time.Hour

// Prune deletes processed bodies and unmatched parts received before
// before, at most limit of each per call. It walks ids from the oldest
// (ids follow arrival), so received_at needs no index of its own.
func Prune(ctx context.Context, db *models.DB, before time.Time, limit int) error {
	g := db.WithContext(ctx)
	err := g.Exec(`DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE processed_at IS NOT NULL AND received_at < ? ORDER BY id LIMIT ?)`, before.UTC(), limit).Error
	if err == nil {
		err = g.Exec(`DELETE FROM webhook_unmatched WHERE id IN (SELECT id FROM webhook_unmatched WHERE received_at < ? ORDER BY id LIMIT ?)`, before.UTC(), limit).Error
	}
	return models.Wrap("webhooks.Prune", err)
}

// InsertNow stores bodies received at one time in a transaction of its
// own: one statement on PostgreSQL (the intake's group commits that need
// no job), Insert's batched insert on SQLite.
func InsertNow(ctx context.Context, db *models.DB, bodies [][]byte, at time.Time) error {
	if len(bodies) == 0 {
		return nil
	}
	if db.Dialect != models.Postgres {
		return db.Tx(ctx, func(tx *gorm.DB) error { return Insert(tx, bodies, at) })
	}
	_, err := db.Pool.Exec(ctx, `INSERT INTO webhook_events (received_at, body) SELECT $1, b FROM unnest($2::bytea[]) AS b`, at.UTC(), bodies)
	return models.Wrap("webhooks.InsertNow", err)
}
