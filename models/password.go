package models

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Password rules: at least 8 characters (not bytes), at most 128, so that a
// 64-character passphrase with umlauts passes and a megabyte never reaches
// the hash function.
const (
	PasswordMinChars = 8
	PasswordMaxChars = 128
)

// argonParams follow the argon2id RFC 9106 second recommended option,
// sized for a 2-core server: 64 MiB, 1 pass, 2 lanes.
var defaultArgonParams = argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// argonParams makes new hashes; only test suites change it (UseTestHashing).
var argonParams = &defaultArgonParams

// UseTestHashing makes new password hashes cheap (64 KiB, one lane) for a
// test binary, which hashes hundreds of passwords; a hash records its
// parameters, so comparing still works either way. Call it before any
// test runs (dbtest.Main does); the portal never calls it.
func UseTestHashing() {
	argonParams = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	dummyHash, _ = argon2id.CreateHash("optline-timing-equaliser", argonParams)
}

// HashWait is how long a request waits for a free hashing slot before it
// is refused with a ThrottleError (429, Retry-After: HashRetryAfter).
const (
	HashWait       = 2 * time.Second
	HashRetryAfter = 2
)

// CheckPasswordRules validates a new password for field.
func CheckPasswordRules(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return Invalid(field, "password.invalid_utf8")
	case n < PasswordMinChars:
		return Invalid(field, "password.too_short", PasswordMinChars)
	case n > PasswordMaxChars:
		return Invalid(field, "password.too_long", PasswordMaxChars)
	}
	return nil
}

// HashLimiter bounds how many argon2id computations run at once: each
// takes 64 MiB, so without a bound forty parallel log-ins cost 2.6 GB.
type HashLimiter struct {
	slots chan struct{}
	mu    sync.Mutex
	now   int
	peak  int
}

// NewHashLimiter allows n hashes at once (at least 1).
func NewHashLimiter(n int) *HashLimiter {
	if n < 1 {
		n = 1
	}
	return &HashLimiter{slots: make(chan struct{}, n)}
}

// Limit is the number of hashes allowed at once.
func (l *HashLimiter) Limit() int { return cap(l.slots) }

// Peak is the most hashes that ran at once so far.
func (l *HashLimiter) Peak() int { l.mu.Lock(); defer l.mu.Unlock(); return l.peak }

// Acquire waits up to wait (forever when wait <= 0) for a slot. It returns
// a ThrottleError when none became free in time, or ctx's error.
func (l *HashLimiter) Acquire(ctx context.Context, wait time.Duration) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	default:
		var timeout <-chan time.Time
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case l.slots <- struct{}{}:
		case <-timeout:
			return nil, &ThrottleError{RetryAfterSeconds: HashRetryAfter}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l.mu.Lock()
	l.now++
	if l.now > l.peak {
		l.peak = l.now
	}
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.now--
			l.mu.Unlock()
			<-l.slots
		})
	}, nil
}

// hashLimiter is the process-wide limiter every hash goes through.
var hashLimiter atomic.Pointer[HashLimiter]

func init() { hashLimiter.Store(NewHashLimiter(2 * runtime.GOMAXPROCS(0))) }

// SetHashConcurrency replaces the process-wide limiter with one allowing n
// hashes at once (n <= 0: twice GOMAXPROCS, the default). Call it at start
// up; hashes already running keep their old slots.
func SetHashConcurrency(n int) *HashLimiter {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	l := NewHashLimiter(n)
	hashLimiter.Store(l)
	return l
}

// CurrentHashLimiter is the process-wide limiter.
func CurrentHashLimiter() *HashLimiter { return hashLimiter.Load() }

// HashPassword returns the argon2id PHC string for pw. It waits up to
// HashWait for a hashing slot and otherwise fails with a ThrottleError.
func HashPassword(pw string) (string, error) {
	release, err := hashLimiter.Load().Acquire(context.Background(), HashWait)
	if err != nil {
		return "", Wrap("models.HashPassword", err)
	}
	defer release()
	return argon2id.CreateHash(pw, argonParams)
}

// dummyHash is compared against when no user exists, so that a login for
// an unknown address takes as long as one with a wrong password.
var dummyHash, _ = argon2id.CreateHash("optline-timing-equaliser", argonParams)

// passwordMatches compares pw with hash, waiting as long as it takes for a
// hashing slot (a busy server must not call a right password wrong). The
// log-in uses matchPassword, which gives up after HashWait.
func passwordMatches(pw, hash string) bool {
	ok, _ := matchPassword(context.Background(), pw, hash, 0)
	return ok
}

// matchPassword compares pw with hash within a hashing slot, waiting up
// to wait for one (forever when wait <= 0).
func matchPassword(ctx context.Context, pw, hash string, wait time.Duration) (bool, error) {
	if len(pw) > PasswordMaxChars*4 {
		return false, nil
	}
	release, err := hashLimiter.Load().Acquire(ctx, wait)
	if err != nil {
		return false, err
	}
	defer release()
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok, nil
}
