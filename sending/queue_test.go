package sending_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/sending"
)

// waitState polls the campaign until it is in state, for up to limit.
func (f *fx) waitState(c *campaigns.Campaign, state string, limit time.Duration) time.Duration {
	f.t.Helper()
	t0 := time.Now()
	for time.Since(t0) < limit {
		if f.load(c.ID).State == state {
			return time.Since(t0)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("campaign not %s within %s: %s %v", state, limit, f.load(c.ID).State, f.states(c.ID))
	return 0
}

// Two servers on one database: two clicks on Send (one on each) and both
// schedulers give one run; every recipient gets one message.
func TestTwoServersGiveOneRun(t *testing.T) {
	f := newFx(t)
	const m = 80
	f.contacts(m, "")
	now := f.clk.Now()
	clicked := f.campaign(nil)
	later := now.Add(700 * time.Millisecond)
	scheduled := f.campaign(func(c *campaigns.Campaign) { c.ScheduledAt = &later })
	var engines []*sending.Engine
	for range 2 {
		e := f.engine(sending.Options{BatchSize: 10, Workers: 4, ScheduleEvery: 200 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		q := f.queue
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			sctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
			defer c2()
			_ = q.Stop(sctx)
		})
		engines = append(engines, e)
	}
	var wg sync.WaitGroup
	for _, e := range engines {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.Start(context.Background(), f.tn, f.owner, clicked.ID); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	f.waitState(clicked, campaigns.Done, 30*time.Second)
	f.waitState(scheduled, campaigns.Done, 30*time.Second)
	for _, c := range []*campaigns.Campaign{clicked, scheduled} {
		if st := f.states(c.ID); st["accepted"] != m || len(st) != 1 {
			t.Fatalf("campaign %d: %v", c.ID, st)
		}
		if got := f.load(c.ID); got.Recipients != m {
			t.Fatalf("recipients %d", got.Recipients)
		}
	}
	if n := len(f.p.sends()); n != 2*m {
		t.Fatalf("platform took %d", n)
	}
	f.noDuplicates()
	var starts int64
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM audit_events WHERE action = 'campaign.started' AND business_id = ?`, f.tn.BusinessID()).Scan(&starts)
	if starts != 2 {
		t.Fatalf("%d starts recorded for two campaigns", starts)
	}
}

// A portal stopped (SIGTERM) in the middle of a campaign, and another
// started after it: the campaign goes on by itself within 30 s and every
// recipient gets one message.
func TestRestartResumesWithin30s(t *testing.T) {
	f := newFx(t)
	const m = 120
	f.contacts(m, "")
	c := f.campaign(nil)
	f.p.delay = 10 * time.Millisecond
	first := f.engine(sending.Options{BatchSize: 10, Workers: 2})
	q1 := f.queue
	ctx1, stop1 := context.WithCancel(context.Background())
	if err := q1.Start(ctx1); err != nil {
		t.Fatal(err)
	}
	f.start(first, c)
	for f.p.total.Load() < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	stop1() // SIGTERM
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = q1.Stop(sctx)
	st := f.states(c.ID)
	if st["sending"] != 0 || st["accepted"] == m {
		t.Fatalf("after the stop: %v", st)
	}
	second := f.engine(sending.Options{BatchSize: 10, Workers: 4})
	_ = second
	q2 := f.queue
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	if err := q2.Start(ctx2); err != nil {
		t.Fatal(err)
	}
	defer func() {
		s, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = q2.Stop(s)
	}()
	took := f.waitState(c, campaigns.Done, 30*time.Second)
	t.Logf("resumed and finished %s after the restart", took)
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
}
