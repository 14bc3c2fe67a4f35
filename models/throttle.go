package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// LoginThrottle counts failed log-ins per key (an account or a client
// address) within a window.
type LoginThrottle struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

// Throttle policy: the first few failures are free; from SlowAfter on each
// further failure locks the key for a growing delay; from LockAfter on it
// is refused for LockFor. A success clears the key.
const (
	throttleWindow    = 15 * time.Minute
	throttleSlowAfter = 5
	throttleLockAfter = 10
	throttleLockFor   = 15 * time.Minute
)

// CheckThrottle returns a ThrottleError when any key is locked now.
func (db *DB) CheckThrottle(ctx context.Context, keys ...string) error {
	var rows []LoginThrottle
	if err := db.WithContext(ctx).Where("key IN ?", keys).Find(&rows).Error; err != nil {
		return err
	}
	now := db.Now()
	wait := time.Duration(0)
	for _, r := range rows {
		if r.LockedUntil != nil && r.LockedUntil.After(now) && r.LockedUntil.Sub(now) > wait {
			wait = r.LockedUntil.Sub(now)
		}
	}
	if wait > 0 {
		return &ThrottleError{RetryAfterSeconds: int(wait.Seconds()) + 1}
	}
	return nil
}

// RecordLoginFailure counts one failure against each key.
func (db *DB) RecordLoginFailure(ctx context.Context, keys ...string) error {
	now := db.Now()
	return db.Tx(ctx, func(tx *gorm.DB) error {
		for _, k := range keys {
			var r LoginThrottle
			err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&r, "key = ?", k).Error
			if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && now.Sub(r.WindowStart) > throttleWindow && (r.LockedUntil == nil || r.LockedUntil.Before(now))) {
				r = LoginThrottle{Key: k, WindowStart: now}
			} else if err != nil {
				return err
			}
			r.Failures++
			switch {
			case r.Failures >= throttleLockAfter:
				t := now.Add(throttleLockFor)
				r.LockedUntil = &t
			case r.Failures >= throttleSlowAfter:
				t := now.Add(time.Duration(1<<(r.Failures-throttleSlowAfter)) * 2 * time.Second)
				r.LockedUntil = &t
			}
			if err := tx.Save(&r).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// ClearThrottle forgets failures for key after a successful log-in.
func (db *DB) ClearThrottle(ctx context.Context, key string) error {
	return db.WithContext(ctx).Where("key = ?", key).Delete(&LoginThrottle{}).Error
}
