// Package sending is the engine that sends campaign messages. This file
// is its throughput budget: a token bucket per sender number, kept in the
// database so that every portal process on one PostgreSQL draws from the
// same budget (the platform counts per number, not per process).
package sending

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/optline/optline/models"
)

// Throughput limits per sender number (PRODUCT.md "Sending").
const (
	DefaultRate = 80
	MaxRate     = 1000
)

// Budget hands out sends per sender number at a rate, shared through the
// database. The bucket holds at most one second's worth.
type Budget struct {
	DB *models.DB
	// Now is the clock (default the database's).
	Now func() time.Time
	// Burst is how much time's worth of sends the bucket holds (default
	// one second). The sender keeps it short (BurstFor), so that no
	// second ever sees more than the rate, even right after a pause.
	Burst time.Duration
}

type budgetRow struct {
	PhoneNumberID string `gorm:"primaryKey"`
	MilliTokens   int64
	RefilledAt    time.Time
	PausedUntil   *time.Time
}

func (budgetRow) TableName() string { return "send_budgets" }

func (b *Budget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return b.DB.Now()
}

// Take asks for up to n sends from number's budget at rate per second
// (clamped to 1…MaxRate). It returns how many may go now (0…n) and, when
// that is fewer than n, how long to wait before asking again. The row is
// locked for the read-modify-write, so concurrent takers on any process
// never overdraw it.
func (b *Budget) Take(ctx context.Context, number string, n, rate int) (granted int, wait time.Duration, err error) {
	rate = min(max(rate, 1), MaxRate)
	capacity := int64(rate) * 1000
	if b.Burst > 0 && b.Burst < time.Second {
		capacity = max(1000, int64(rate)*int64(b.Burst/time.Millisecond))
	}
	now := b.now()
	err = b.DB.Tx(ctx, func(tx *gorm.DB) error {
		var row budgetRow
		q := tx
		if b.DB.Dialect == models.Postgres {
			q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		res := q.Where("phone_number_id = ?", number).Limit(1).Find(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			row = budgetRow{PhoneNumberID: number, MilliTokens: capacity, RefilledAt: now}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return err
			}
			// Another taker may have made it first: read it locked.
			if err := q.Where("phone_number_id = ?", number).First(&row).Error; err != nil {
				return err
			}
		}
		if row.PausedUntil != nil && now.Before(*row.PausedUntil) {
			wait = row.PausedUntil.Sub(now)
			return nil
		}
		if el := now.Sub(row.RefilledAt); el > 0 {
			row.MilliTokens = min(capacity, row.MilliTokens+int64(el/time.Microsecond)*int64(rate)/1000)
		}
		granted = int(min(int64(n), row.MilliTokens/1000))
		row.MilliTokens -= int64(granted) * 1000
		if granted < n {
			missing := int64(n-granted)*1000 - row.MilliTokens
			wait = time.Duration(missing*1000/int64(rate)) * time.Microsecond
		}
		return tx.Model(&budgetRow{}).Where("phone_number_id = ?", number).
			Updates(map[string]any{"milli_tokens": row.MilliTokens, "refilled_at": now}).Error
	})
	return granted, wait, models.Wrap("Budget.Take", err)
}

// Pause stops the number's sends until until (the platform said 130429
// or 131056, with its Retry-After); a later pause extends it, an earlier
// one changes nothing.
func (b *Budget) Pause(ctx context.Context, number string, until time.Time) error {
	err := b.DB.Tx(ctx, func(tx *gorm.DB) error {
		row := budgetRow{PhoneNumberID: number, MilliTokens: 0, RefilledAt: b.now(), PausedUntil: &until}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
		return tx.Model(&budgetRow{}).Where("phone_number_id = ? AND (paused_until IS NULL OR paused_until < ?)", number, until).
			Update("paused_until", until).Error
	})
	return models.Wrap("Budget.Pause", err)
}

// ErrBudget is returned by a caller that gave up waiting for the budget.
var ErrBudget = errors.New("sending: no budget before the deadline")

// Backoff is how long to wait before the attempt-th retry (1, 2, …) of a
// send the platform refused for now: its Retry-After when it gave one,
// else exponential from 1 s, capped at 5 minutes, with full jitter so
// that many paused sends do not come back at once.
func Backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
	}
	ceil := time.Second << min(max(attempt-1, 0), 9)
	ceil = min(ceil, 5*time.Minute)
	return time.Duration(rand.Int64N(int64(ceil))) + 100*time.Millisecond
}
