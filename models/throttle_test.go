package models_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

// TestLoginReservationCannotBeRaced: forty parallel attempts for one
// account from one address; exactly the limit are let through.
func TestLoginReservationCannotBeRaced(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	db.Now = dbtest.NewClock().Now
	ctx := context.Background()
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.ReserveLoginAttempt(ctx, "race@example.com", "198.51.100.7")
			var te *models.ThrottleError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &te) && te.RetryAfterSeconds > 0:
				refused.Add(1)
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != models.LoginPairLimit || refused.Load() != 40-models.LoginPairLimit {
		t.Fatalf("%d let through, %d refused; want %d and %d", ok.Load(), refused.Load(), models.LoginPairLimit, 40-models.LoginPairLimit)
	}
}

// TestStrangerCannotLockOutOwner: address A spends its budget on the
// owner's account; the owner, from address B, still logs in, after the
// account-wide delay.
func TestStrangerCannotLockOutOwner(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	ctx := context.Background()
	const pw = "owner's long password"
	if _, _, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Owned", NewUserInput: models.NewUserInput{Name: "O", Email: "owner@example.com", Password: pw}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < models.LoginPairLimit; i++ {
		if _, err := db.LogIn(ctx, "owner@example.com", "guess", "203.0.113.1"); !errors.Is(err, models.ErrInvalidLogin) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var te *models.ThrottleError
	if _, err := db.LogIn(ctx, "owner@example.com", pw, "203.0.113.1"); !errors.As(err, &te) || te.RetryAfterSeconds < 14*60 {
		t.Fatalf("stranger not refused after its budget: %v", err)
	}
	start := time.Now()
	u, err := db.LogIn(ctx, "OWNER@example.com", pw, "192.0.2.9")
	if err != nil || u.Email != "owner@example.com" {
		t.Fatalf("owner locked out: %v", err)
	}
	if d := time.Since(start); d < models.LoginSlowBase {
		t.Errorf("no account-wide delay after %d failures: %v", models.LoginPairLimit, d)
	}
	// The window ends: the stranger's address may try again.
	clock.Advance(models.LoginWindow)
	if _, err := db.LogIn(ctx, "owner@example.com", "guess", "203.0.113.1"); !errors.Is(err, models.ErrInvalidLogin) {
		t.Fatalf("after the window: %v", err)
	}
}

// TestAccountDelayGrowsAndIsCapped: the account-wide rule never refuses.
func TestAccountDelayGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	db.Now = dbtest.NewClock().Now
	ctx := context.Background()
	var last time.Duration
	for i := 0; i < 40; i++ {
		a, err := db.ReserveLoginAttempt(ctx, "many@example.com", "10.0.0."+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		switch {
		case i < models.LoginAccountSlowAfter && a.Delay != 0:
			t.Fatalf("attempt %d delayed %v", i, a.Delay)
		case i >= models.LoginAccountSlowAfter && (a.Delay < last || a.Delay == 0 || a.Delay > models.LoginSlowMax):
			t.Fatalf("attempt %d delay %v after %v", i, a.Delay, last)
		}
		last = a.Delay
	}
	if last != models.LoginSlowMax {
		t.Fatalf("delay not capped at %v: %v", models.LoginSlowMax, last)
	}
}

// TestAddressLimitAcrossAccounts: one address trying many accounts is
// refused after LoginAddrLimit attempts.
func TestAddressLimitAcrossAccounts(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	db.Now = dbtest.NewClock().Now
	ctx := context.Background()
	for i := 0; i < models.LoginAddrLimit; i++ {
		if _, err := db.ReserveLoginAttempt(ctx, "user"+strconv.Itoa(i)+"@example.com", "198.51.100.1"); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := db.ReserveLoginAttempt(ctx, "another@example.com", "198.51.100.1"); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("address not limited: %v", err)
	}
	if _, err := db.ReserveLoginAttempt(ctx, "another@example.com", "198.51.100.2"); err != nil {
		t.Fatalf("other address refused: %v", err)
	}
}

// TestIPv6CountsPerSlash64: rotating through one /64 gains nothing.
func TestIPv6CountsPerSlash64(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	db.Now = dbtest.NewClock().Now
	ctx := context.Background()
	for i := 0; i < models.LoginPairLimit; i++ {
		if _, err := db.ReserveLoginAttempt(ctx, "v6@example.com", "2001:db8:1:2::"+strconv.Itoa(i+1)); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := db.ReserveLoginAttempt(ctx, "v6@example.com", "2001:db8:1:2:ffff::1"); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("same /64 not limited: %v", err)
	}
	if _, err := db.ReserveLoginAttempt(ctx, "v6@example.com", "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64 refused: %v", err)
	}
}

// TestSuccessClearsPairCounter: nine failures, a success, and the next
// nine failures are still allowed.
func TestSuccessClearsPairCounter(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	db.Now = dbtest.NewClock().Now
	ctx := context.Background()
	for round := 0; round < 2; round++ {
		for i := 0; i < models.LoginPairLimit-1; i++ {
			if _, err := db.ReserveLoginAttempt(ctx, "me@example.com", "192.0.2.1"); err != nil {
				t.Fatalf("round %d attempt %d: %v", round, i, err)
			}
		}
		a, err := db.ReserveLoginAttempt(ctx, "me@example.com", "192.0.2.1")
		if err != nil {
			t.Fatalf("round %d last attempt: %v", round, err)
		}
		if err := a.Succeeded(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHashLimiterBoundsConcurrency: no more than the limit hold a slot at
// once; beyond it callers wait, and give up with a ThrottleError.
func TestHashLimiterBoundsConcurrency(t *testing.T) {
	t.Parallel()
	l := models.NewHashLimiter(3)
	var now, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := l.Acquire(context.Background(), 0)
			if err != nil {
				t.Errorf("acquire: %v", err)
				return
			}
			n := now.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(10 * time.Millisecond)
			now.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if peak.Load() > 3 || l.Peak() != int(peak.Load()) || l.Peak() < 2 {
		t.Fatalf("peak %d in flight (limiter says %d), limit 3", peak.Load(), l.Peak())
	}
	release, err := l.Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // twice is harmless
	for i := 0; i < 3; i++ {
		if _, err := l.Acquire(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Acquire(context.Background(), 20*time.Millisecond); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("fourth slot: %v", err)
	}
}

// TestPasswordHashingUsesTheLimiter: with the process-wide slot taken,
// HashPassword (sign-up, password change) waits HashWait and is refused.
func TestPasswordHashingUsesTheLimiter(t *testing.T) {
	old := models.CurrentHashLimiter()
	t.Cleanup(func() { models.SetHashConcurrency(old.Limit()) })
	l := models.SetHashConcurrency(1)
	release, err := l.Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := models.HashPassword("waiting password"); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("hash with no slot: %v", err)
	}
	if d := time.Since(start); d < models.HashWait {
		t.Fatalf("gave up after %v", d)
	}
	release()
	if _, err := models.HashPassword("waiting password"); err != nil {
		t.Fatal(err)
	}
	if l.Peak() != 1 {
		t.Fatalf("peak %d", l.Peak())
	}
}
