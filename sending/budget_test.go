package sending_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/sending"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A fresh number may send one second's worth at once, then as fast as its
// rate refills; two processes draw from one budget.
func TestBudgetRefillsAtTheRateAndIsShared(t *testing.T) {
	t.Parallel()
	db, clock := dbtest.OpenClocked(t)
	ctx := context.Background()
	a := &sending.Budget{DB: db}
	b := &sending.Budget{DB: db} // another portal process
	got, wait, err := a.Take(ctx, "1001", 100, 80)
	if err != nil || got != 80 || wait != 250*time.Millisecond {
		t.Fatalf("first take: %d, wait %v, %v; want 80 and 250ms", got, wait, err)
	}
	if got, _, _ := b.Take(ctx, "1001", 10, 80); got != 0 {
		t.Fatalf("the other process overdrew the budget: %d", got)
	}
	if got, _, _ := b.Take(ctx, "2002", 10, 80); got != 10 {
		t.Fatalf("another number has its own budget: %d", got)
	}
	clock.Advance(500 * time.Millisecond)
	if got, _, _ := b.Take(ctx, "1001", 100, 80); got != 40 {
		t.Fatalf("after half a second: %d, want 40", got)
	}
	clock.Advance(time.Hour)
	if got, _, _ := a.Take(ctx, "1001", 1000, 80); got != 80 {
		t.Fatalf("after an hour the bucket holds one second's worth: %d", got)
	}
	if got, _, _ := a.Take(ctx, "3003", 5000, 5000); got != sending.MaxRate {
		t.Fatalf("a rate above the platform's maximum: %d, want %d", got, sending.MaxRate)
	}
}

// Many takers at once never get more than the budget holds.
func TestBudgetHoldsUnderConcurrentTakers(t *testing.T) {
	t.Parallel()
	db, _ := dbtest.OpenClocked(t)
	ctx := context.Background()
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &sending.Budget{DB: db}
			got, _, err := b.Take(ctx, "4004", 10, 80)
			if err != nil {
				t.Errorf("take: %v", err)
			}
			total.Add(int64(got))
		}()
	}
	wg.Wait()
	if total.Load() != 80 {
		t.Fatalf("20 takers of 10 got %d in all, want exactly 80", total.Load())
	}
}

// A pause (the platform's 130429 with Retry-After) stops the number until
// it ends; an earlier pause does not shorten it.
func TestBudgetPause(t *testing.T) {
	t.Parallel()
	db, clock := dbtest.OpenClocked(t)
	ctx := context.Background()
	b := &sending.Budget{DB: db}
	until := clock.Now().Add(2 * time.Second)
	if err := b.Pause(ctx, "5005", until); err != nil {
		t.Fatal(err)
	}
	if err := b.Pause(ctx, "5005", clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, wait, err := b.Take(ctx, "5005", 10, 80)
	if err != nil || got != 0 || wait != 2*time.Second {
		t.Fatalf("while paused: %d, wait %v, %v", got, wait, err)
	}
	clock.Advance(2 * time.Second)
	if got, _, _ := b.Take(ctx, "5005", 10, 80); got != 10 {
		t.Fatalf("after the pause: %d", got)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for range 100 {
		if d := sending.Backoff(3, 7*time.Second); d < 7*time.Second || d > 7250*time.Millisecond {
			t.Fatalf("with Retry-After 7s: %v", d)
		}
		if d := sending.Backoff(30, 0); d > 5*time.Minute+100*time.Millisecond || d < 100*time.Millisecond {
			t.Fatalf("capped backoff: %v", d)
		}
		if d := sending.Backoff(1, 0); d > 1100*time.Millisecond {
			t.Fatalf("first retry: %v", d)
		}
	}
}
