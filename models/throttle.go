package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
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

// Log-in policy. Every attempt is reserved (counted) before its password
// is hashed, in one transaction with the check, so parallel attempts cannot
// slip past the limit, whichever portal process or database serves them.
//
//   - account+address: LoginPairLimit attempts per LoginWindow, then 429;
//   - address (any account; IPv6 by its /64): LoginAddrLimit attempts per
//     LoginWindow, then 429;
//   - account (any address): never refused, so that a stranger cannot lock
//     the owner out; from LoginAccountSlowAfter attempts on each further
//     one first waits a delay that doubles from LoginSlowBase up to
//     LoginSlowMax.
//
// A successful log-in clears its account+address counter and gives back
// its own reservation on the other two.
const (
	LoginWindow           = 15 * time.Minute
	LoginPairLimit        = 10
	LoginAddrLimit        = 50
	LoginAccountSlowAfter = 10
	LoginSlowBase         = 250 * time.Millisecond
	LoginSlowMax          = 4 * time.Second
)

// LoginAttempt is a reserved log-in attempt.
type LoginAttempt struct {
	db                     *DB
	acctKey, addrKey, pair string
	// Delay is how long the attempt must wait before it is evaluated.
	Delay time.Duration
}

// loginKeys names the three counters of an attempt. The address of the
// account is hashed so that the table holds no personal data and keys stay
// short whatever was typed.
func loginKeys(email, addr string) (acct, ip, pair string) {
	addr = addressBlock(addr)
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	a := hex.EncodeToString(sum[:16])
	return "login:acct:" + a, "login:ip:" + addr, "login:pair:" + a + "|" + addr
}

// addressBlock is the unit an address is counted in: an IPv4 address
// itself, an IPv6 address's /64 (one subscriber's usual allocation, so
// that rotating through it gains nothing).
func addressBlock(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Unmap().Is4() {
		return addr
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

// ReserveLoginAttempt counts one attempt for email from addr, or refuses it
// with a ThrottleError when the account+address or the address budget is
// spent. The check and the count are one transaction holding the rows'
// locks (SELECT ... FOR UPDATE on PostgreSQL, an IMMEDIATE transaction on
// SQLite), always taken in the same order: account, address, pair.
func (db *DB) ReserveLoginAttempt(ctx context.Context, email, addr string) (*LoginAttempt, error) {
	acct, ip, pair := loginKeys(email, addr)
	a := &LoginAttempt{db: db, acctKey: acct, addrKey: ip, pair: pair}
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		rows := make([]LoginThrottle, 3)
		for i, k := range []string{acct, ip, pair} {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LoginThrottle{Key: k, WindowStart: now}).Error; err != nil {
				return err
			}
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&rows[i], "key = ?", k).Error; err != nil {
				return err
			}
			if !now.Before(rows[i].WindowStart.Add(LoginWindow)) {
				rows[i].Failures, rows[i].WindowStart = 0, now
			}
		}
		wait := time.Duration(0)
		for i, limit := range []int{0, LoginAddrLimit, LoginPairLimit} {
			if limit > 0 && rows[i].Failures >= limit {
				wait = max(wait, rows[i].WindowStart.Add(LoginWindow).Sub(now))
			}
		}
		if wait > 0 {
			return &ThrottleError{RetryAfterSeconds: int((wait + time.Second - 1) / time.Second)}
		}
		if n := rows[0].Failures - LoginAccountSlowAfter; n >= 0 {
			a.Delay = LoginSlowMax
			if n < 5 {
				a.Delay = min(LoginSlowBase<<n, LoginSlowMax)
			}
		}
		for i := range rows {
			rows[i].Failures++
			if err := tx.Model(&LoginThrottle{}).Where("key = ?", rows[i].Key).
				Updates(map[string]any{"failures": rows[i].Failures, "window_start": rows[i].WindowStart}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, Wrap("DB.ReserveLoginAttempt", err)
	}
	return a, nil
}

// Succeeded clears the account+address counter and gives back this
// attempt's count on the account and the address.
func (a *LoginAttempt) Succeeded(ctx context.Context) error {
	if err := a.refund(ctx, a.acctKey, a.addrKey); err != nil {
		return Wrap("LoginAttempt.Succeeded", err)
	}
	return a.db.WithContext(ctx).Where("key = ?", a.pair).Delete(&LoginThrottle{}).Error
}

// Cancel gives the reservation back when the attempt was never evaluated
// (the server was too busy to hash it).
func (a *LoginAttempt) Cancel(ctx context.Context) error {
	return a.refund(ctx, a.acctKey, a.addrKey, a.pair)
}

// refund takes one off each key, one statement each, so that it holds one
// row lock at a time and cannot deadlock with a reservation.
func (a *LoginAttempt) refund(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := a.db.WithContext(ctx).Model(&LoginThrottle{}).Where("key = ? AND failures > 0", k).
			Update("failures", gorm.Expr("failures - 1")).Error; err != nil {
			return err
		}
	}
	return nil
}

// LogIn checks email and password from addr under the log-in policy: it
// reserves the attempt, waits its delay, then hashes within a hashing slot
// (waiting up to HashWait). It fails with a ThrottleError (refused or too
// busy), ErrInvalidLogin or ErrSuspended; it takes the same time whether
// or not the address exists, and never says which part was wrong.
func (db *DB) LogIn(ctx context.Context, email, password, addr string) (*User, error) {
	att, err := db.ReserveLoginAttempt(ctx, email, addr)
	if err != nil {
		return nil, Wrap("DB.LogIn", err)
	}
	if att.Delay > 0 {
		t := time.NewTimer(att.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	u, err := db.UserByEmail(ctx, email)
	hash := dummyHash
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !errors.Is(err, ErrNotFound):
		return nil, Wrap("DB.LogIn", err)
	}
	ok, err := matchPassword(ctx, password, hash, HashWait)
	if err != nil {
		_ = att.Cancel(context.WithoutCancel(ctx))
		return nil, Wrap("DB.LogIn", err)
	}
	if !ok || u == nil {
		return nil, ErrInvalidLogin
	}
	if err := att.Succeeded(ctx); err != nil {
		return nil, Wrap("DB.LogIn", err)
	}
	if u.SuspendedAt != nil {
		return nil, ErrSuspended
	}
	now := db.Now()
	u.LastLoginAt = &now
	if err := db.WithContext(ctx).Model(u).Update("last_login_at", now).Error; err != nil {
		return nil, Wrap("DB.LogIn", err)
	}
	return u, nil
}
