package sending_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/sending"
)

// Paused twice and resumed twice while sending, the campaign still gets
// every recipient exactly once.
func TestPauseResumeTwiceSendsMOfM(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	const m = 60
	f.contacts(m, "")
	c := f.campaign(nil)
	var sent atomic.Int64
	var e *sending.Engine
	pauseAt := []int64{12, 33}
	e = f.engine(sending.Options{BatchSize: 5, Workers: 2, Pipeline: 1, Hooks: &sending.Hooks{Sent: func(int64) {
		n := sent.Add(1)
		for _, at := range pauseAt {
			if n == at {
				if err := e.Pause(ctx, f.tn, f.owner, c.ID); err != nil {
					t.Error(err)
				}
			}
		}
	}}})
	f.start(e, c)
	for round := range 2 {
		f.drive(e, c, "job 1", 20*time.Second)
		got := f.load(c.ID)
		if got.State != campaigns.Paused || got.StateReason != campaigns.ReasonStaff {
			t.Fatalf("round %d: state %s (%s), want paused by staff", round, got.State, got.StateReason)
		}
		st := f.states(c.ID)
		if st["accepted"] == 0 || st["accepted"] >= m || st["sending"] != 0 {
			t.Fatalf("round %d: paused with %v", round, st)
		}
		// A second pause click changes nothing.
		if err := e.Pause(ctx, f.tn, f.owner, c.ID); err != nil {
			t.Fatal(err)
		}
		for range 2 { // two resume clicks
			if err := e.Resume(ctx, f.tn, f.owner, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.load(c.ID); got.State != campaigns.Sending {
			t.Fatalf("after resume: %s", got.State)
		}
	}
	f.drive(e, c, "job 2", 20*time.Second)
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v, want %d accepted", st, m)
	}
	if got := f.load(c.ID); got.State != campaigns.Done {
		t.Fatalf("state %s", got.State)
	}
	if n := len(f.p.sends()); n != m {
		t.Fatalf("platform took %d of %d", n, m)
	}
	f.noDuplicates()
}

// Cancelling mid-run stops it: the messages in flight keep their answer,
// every queued one is skipped as cancelled, nothing is left to send.
func TestCancelSkipsQueued(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(50, "")
	c := f.campaign(nil)
	var sent atomic.Int64
	var e *sending.Engine
	e = f.engine(sending.Options{BatchSize: 5, Workers: 2, Pipeline: 1, Hooks: &sending.Hooks{Sent: func(int64) {
		if sent.Add(1) == 8 {
			if err := e.Cancel(ctx, f.tn, f.owner, c.ID); err != nil {
				t.Error(err)
			}
		}
	}}})
	f.start(e, c)
	f.drive(e, c, "job 1", 20*time.Second)
	st := f.states(c.ID)
	if st["accepted"]+st["skipped:cancelled"] != 50 || st["accepted"] < 8 || st["accepted"] > 15 {
		t.Fatalf("states %v", st)
	}
	got := f.load(c.ID)
	if got.State != campaigns.Cancelled || got.CancelledAt == nil {
		t.Fatalf("state %s", got.State)
	}
	if err := e.Resume(ctx, f.tn, f.owner, c.ID); !errors.Is(err, campaigns.ErrState) {
		t.Fatalf("resume a cancelled campaign: %v", err)
	}
	if n := len(f.p.sends()); n != st["accepted"] {
		t.Fatalf("platform took %d, %d accepted", n, st["accepted"])
	}
}

// A worker killed inside a batch (sends made, answers not stored) leaves
// its messages "sending"; the next run, once the lease is stale, marks
// them unconfirmed and never sends them again; their status webhooks
// reconcile them. Killed between batches, nothing is lost either.
func TestKilledWorkerNeitherDuplicatesNorLoses(t *testing.T) {
	for _, stage := range []string{"sent", "stored"} {
		t.Run(stage, func(t *testing.T) {
			f := newFx(t)
			ctx := context.Background()
			const m = 40
			f.contacts(m, "")
			c := f.campaign(nil)
			dying := f.engine(sending.Options{BatchSize: 10, Workers: 4, Pipeline: 1, Hooks: &sending.Hooks{Crash: func(batch int, st string) bool {
				return batch == 2 && st == stage
			}}})
			f.start(dying, c)
			_, err := dying.RunSlice(ctx, sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, "job 1")
			if !sending.ErrCrashed(err) {
				t.Fatalf("dying run: %v", err)
			}
			st := f.states(c.ID)
			wantSending := 0
			if stage == "sent" {
				wantSending = 10
			}
			if st["accepted"] != 20-wantSending || st["sending"] != wantSending {
				t.Fatalf("after the crash: %v", st)
			}
			// Another server's run: the dead run's lease is still fresh.
			next := f.engine(sending.Options{BatchSize: 10, Workers: 4})
			if res, err := next.RunSlice(ctx, sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID, Resume: 1}, "job 2"); err != nil || res.More {
				t.Fatalf("run beside a live lease: %+v %v", res, err)
			}
			if f.states(c.ID)["accepted"] != 20-wantSending {
				t.Fatal("a second run worked beside the first one's lease")
			}
			// The lease goes stale; the resume loop would queue this job.
			f.clk.Jump(models.WorkStale + time.Second)
			stalled, err := next.Stalled(ctx, f.db.Now().Add(-models.WorkStale))
			if err != nil || len(stalled) != 1 {
				t.Fatalf("stalled: %v %v", stalled, err)
			}
			f.clk.Jump(5 * time.Second) // the claims are older than ClaimStale
			f.drive(next, c, "job 2", 20*time.Second)
			st = f.states(c.ID)
			if st["accepted"] != m-wantSending || st["unconfirmed"] != wantSending {
				t.Fatalf("after the second run: %v", st)
			}
			if got := f.load(c.ID); got.State != campaigns.Done {
				t.Fatalf("state %s", got.State)
			}
			f.noDuplicates()
			if n := len(f.p.sends()); n != m {
				t.Fatalf("platform took %d of %d", n, m)
			}
			// The platform's "sent" webhooks reconcile every message.
			if _, err := messages.ApplyStatuses(ctx, f.tn, f.p.statuses(messages.Sent)); err != nil {
				t.Fatal(err)
			}
			var wamids int64
			f.db.Gorm.Raw(`SELECT COUNT(*) FROM messages WHERE campaign_id = ? AND wamid IS NOT NULL`, c.ID).Scan(&wamids)
			if st := f.states(c.ID); st["sent"] != m || wamids != m {
				t.Fatalf("after the webhooks: %v, %d with a wamid", st, wamids)
			}
		})
	}
}

// When the job's context ends (SIGTERM) inside a batch, the sends in
// flight finish and are stored, the rest go back to the queue; the next
// slice sends them, once each.
func TestShutdownPutsBackUnsent(t *testing.T) {
	f := newFx(t)
	const m = 60
	f.contacts(m, "")
	c := f.campaign(nil)
	ctx, cancel := context.WithCancel(context.Background())
	f.p.delay = 5 * time.Millisecond
	var sent atomic.Int64
	e := f.engine(sending.Options{BatchSize: 30, Workers: 3, Hooks: &sending.Hooks{Sent: func(int64) {
		if sent.Add(1) == 7 {
			cancel()
		}
	}}})
	f.start(e, c)
	if _, err := e.RunSlice(ctx, sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, "job 1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped slice: %v", err)
	}
	st := f.states(c.ID)
	if st["sending"] != 0 || st["accepted"] < 7 || st["accepted"] > 12 || st["accepted"]+st["queued"] != m {
		t.Fatalf("after the stop: %v", st)
	}
	f.drive(e, c, "job 1", 20*time.Second)
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
}

// Rate-limit storms (130429, 131056) slow the number down through the
// shared budget and the run still completes, each message taken once.
func TestRateLimitStormsSlowDownAndComplete(t *testing.T) {
	f := newFx(t)
	const m = 30
	f.contacts(m, "")
	c := f.campaign(nil)
	var calls, second atomic.Int64
	var firstAt atomic.Int64
	f.p.fail = func(id int64, n int) (int, int, int) {
		k := calls.Add(1)
		if k <= 3 { // a throughput storm
			firstAt.CompareAndSwap(0, time.Now().UnixNano())
			return 400, 130429, 1
		}
		// Once the number may send again, a storm of 131056.
		if time.Since(time.Unix(0, firstAt.Load())) > 900*time.Millisecond && second.Add(1) <= 2 {
			return 400, 131056, 1
		}
		return 0, 0, 0
	}
	e := f.engine(sending.Options{Rate: 1000, BatchSize: 10, Workers: 2})
	f.start(e, c)
	t0 := time.Now()
	f.drive(e, c, "job 1", 30*time.Second)
	if d := time.Since(t0); d < 2*time.Second {
		t.Fatalf("two storms with Retry-After 1 s took only %s", d)
	}
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
	var paused int64
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM send_budgets WHERE phone_number_id = ? AND paused_until IS NOT NULL`, phoneID).Scan(&paused)
	if paused != 1 {
		t.Fatal("the number's budget was never paused")
	}
}

// 131026 fails the message at once with our explanation; a 500 is tried
// up to the cap, then fails; the others go out and the campaign is done.
func TestPermanentFailsAtOnceAndServerErrorsAreRetriedThenFail(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(12, "")
	c := f.campaign(nil)
	e := f.engine(sending.Options{BatchSize: 4, Workers: 2, MaxAttempts: 3})
	f.start(e, c)
	ids := f.ids(c)
	undeliverable, broken := ids[2], ids[7]
	f.p.fail = func(id int64, n int) (int, int, int) {
		switch id {
		case undeliverable:
			return 400, 131026, 0
		case broken:
			return 500, 0, 0
		}
		return 0, 0, 0
	}
	f.drive(e, c, "job 1", 20*time.Second)
	if got := f.load(c.ID); got.State != campaigns.Done {
		t.Fatalf("state %s", got.State)
	}
	if st := f.states(c.ID); st["accepted"] != 10 || st["failed"] != 2 {
		t.Fatalf("states %v", st)
	}
	m1, _ := messages.Get(ctx, f.tn, undeliverable)
	if m1.ErrorCode == nil || *m1.ErrorCode != 131026 || m1.ErrorExplanation != "message.error.131026" || f.p.requests(undeliverable) != 1 {
		t.Fatalf("131026: code %v explanation %q requests %d", m1.ErrorCode, m1.ErrorExplanation, f.p.requests(undeliverable))
	}
	m2, _ := messages.Get(ctx, f.tn, broken)
	if m2.ErrorExplanation != "sending.failure.gave_up" || f.p.requests(broken) != 3 {
		t.Fatalf("500: explanation %q requests %d", m2.ErrorExplanation, f.p.requests(broken))
	}
	// Retry the failed ones that may be retried: the 500 one, not 131026.
	f.p.fail = nil
	n, err := e.RetryFailed(ctx, f.tn, f.owner, c.ID)
	if err != nil || n != 1 {
		t.Fatalf("retry failed: %d %v", n, err)
	}
	if got := f.load(c.ID); got.State != campaigns.Sending {
		t.Fatalf("after retry: %s", got.State)
	}
	f.drive(e, c, "job 2", 20*time.Second)
	if st := f.states(c.ID); st["accepted"] != 11 || st["failed"] != 1 {
		t.Fatalf("after the retry: %v", st)
	}
	f.noDuplicates()
}

// Contacts who opt out or are suppressed after the freeze are skipped at
// send time; so is one whose variable lost its value meanwhile (no
// fallback).
func TestOptOutMidCampaignIsSkipped(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	ids := f.contacts(30, "")
	c := f.campaign(func(c *campaigns.Campaign) {
		c.Mapping = campaigns.Mapping{{Part: "body", N: 1, Source: campaigns.SourceField, Key: "first_name"}}
	})
	var once sync.Once
	e := f.engine(sending.Options{BatchSize: 5, Workers: 1, Pipeline: 1, Hooks: &sending.Hooks{Sent: func(int64) {
		once.Do(func() {
			if err := f.db.Gorm.Exec(`UPDATE contacts SET first_name = '' WHERE id = ?`, ids[29]).Error; err != nil {
				t.Error(err)
			}
			if err := contacts.OptOut(ctx, f.tn, ids[20], "reply STOP", "test"); err != nil {
				t.Error(err)
			}
			var ct contacts.Contact
			f.db.Gorm.First(&ct, ids[21])
			if err := contacts.OptOutPhone(ctx, f.tn, ct.Phone, "complaint", "test", f.db.Now()); err != nil {
				t.Error(err)
			}
		})
	}}})
	f.start(e, c)
	f.drive(e, c, "job 1", 20*time.Second)
	st := f.states(c.ID)
	if st["accepted"] != 27 || st["skipped:opted_out"]+st["skipped:suppressed"] != 2 || st["skipped:missing_variable"] != 1 {
		t.Fatalf("states %v", st)
	}
	if n := len(f.p.sends()); n != 27 {
		t.Fatalf("platform took %d", n)
	}
}

// A template the platform pauses mid-run pauses the campaign with the
// reason; it cannot resume until the template is approved again.
func TestTemplatePausedMidRunPausesCampaign(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(30, "")
	c := f.campaign(nil)
	var sent atomic.Int64
	e := f.engine(sending.Options{BatchSize: 5, Workers: 1, Pipeline: 1, Hooks: &sending.Hooks{Sent: func(int64) {
		if sent.Add(1) == 6 {
			f.db.Gorm.Exec(`UPDATE message_templates SET status = 'PAUSED' WHERE id = ?`, f.tpl.ID)
		}
	}}})
	f.start(e, c)
	f.drive(e, c, "job 1", 20*time.Second)
	got := f.load(c.ID)
	if got.State != campaigns.Paused || got.StateReason != campaigns.ReasonTemplatePaused {
		t.Fatalf("state %s (%s)", got.State, got.StateReason)
	}
	if st := f.states(c.ID); st["accepted"] != 10 || st["queued"] != 20 {
		t.Fatalf("states %v", st)
	}
	if _, ok := models.AsValidation(e.Resume(ctx, f.tn, f.owner, c.ID)); !ok {
		t.Fatal("resumed with a paused template")
	}
	f.db.Gorm.Exec(`UPDATE message_templates SET status = 'APPROVED' WHERE id = ?`, f.tpl.ID)
	if err := e.Resume(ctx, f.tn, f.owner, c.ID); err != nil {
		t.Fatal(err)
	}
	f.drive(e, c, "job 2", 20*time.Second)
	if st := f.states(c.ID); st["accepted"] != 30 {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
}

// A business suspended mid-run stops sending at the next batch.
func TestBusinessSuspendedMidRunStops(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(30, "")
	c := f.campaign(nil)
	var sent atomic.Int64
	e := f.engine(sending.Options{BatchSize: 5, Workers: 1, Pipeline: 1, Hooks: &sending.Hooks{Sent: func(int64) {
		if sent.Add(1) == 3 {
			f.db.Gorm.Exec(`UPDATE businesses SET status = ? WHERE id = ?`, models.BusinessSuspended, f.tn.BusinessID())
		}
	}}})
	f.start(e, c)
	f.drive(e, c, "job 1", 20*time.Second)
	got := f.load(c.ID)
	if got.State != campaigns.Paused || got.StateReason != campaigns.ReasonSuspended {
		t.Fatalf("state %s (%s)", got.State, got.StateReason)
	}
	if n := len(f.p.sends()); n != 5 {
		t.Fatalf("platform took %d after the suspension's batch", n)
	}
	if _, ok := models.AsValidation(e.Resume(ctx, f.tn, f.owner, c.ID)); !ok {
		t.Fatal("resumed a suspended business's campaign")
	}
}

// Outside the send window the run waits (still sending, with the reason)
// and is not taken for stalled; once the window opens it sends.
func TestSendWindowWaits(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(10, "")
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := f.db.Now().In(loc)
	start := (now.Hour()*60 + now.Minute() + 120) % 1440 // opens in two hours
	end := (start + 60) % 1440
	c := f.campaign(func(c *campaigns.Campaign) { c.WindowStart, c.WindowEnd = &start, &end })
	e := f.engine(sending.Options{})
	f.start(e, c)
	res, err := e.RunSlice(ctx, sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, "job 1")
	if err != nil || !res.More || res.Wait < 100*time.Minute || res.Wait > 121*time.Minute {
		t.Fatalf("outside the window: %+v %v", res, err)
	}
	got := f.load(c.ID)
	if got.State != campaigns.Sending || got.StateReason != campaigns.ReasonWindow || len(f.p.sends()) != 0 {
		t.Fatalf("state %s (%s), %d sent", got.State, got.StateReason, len(f.p.sends()))
	}
	f.clk.Jump(time.Minute)
	if st, _ := e.Stalled(ctx, f.db.Now().Add(-models.WorkStale)); len(st) != 0 {
		t.Fatalf("a waiting campaign counted as stalled: %v", st)
	}
	f.clk.Jump(res.Wait)
	f.drive(e, c, "job 1", 20*time.Second)
	if got := f.load(c.ID); got.State != campaigns.Done || got.StateReason != "" {
		t.Fatalf("state %s (%s)", got.State, got.StateReason)
	}
}

// With the budget on, no second sees more sends than the rate.
func TestThrottleNeverExceedsTheRate(t *testing.T) {
	f := newFx(t)
	const m, rate = 300, 100
	f.contacts(m, "")
	c := f.campaign(nil)
	var mu sync.Mutex
	perSecond := map[int64]int{}
	f.p.onSend = func(int64) {
		mu.Lock()
		perSecond[time.Now().Unix()]++
		mu.Unlock()
	}
	e := f.engine(sending.Options{Rate: rate, BatchSize: 50, Workers: 8})
	f.start(e, c)
	t0 := time.Now()
	f.drive(e, c, "job 1", 30*time.Second)
	if d := time.Since(t0); d < 2500*time.Millisecond {
		t.Fatalf("%d messages at %d/s took only %s", m, rate, d)
	}
	for sec, n := range perSecond {
		if n > rate {
			t.Fatalf("second %d saw %d sends, above %d: %v", sec, n, rate, perSecond)
		}
	}
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
}

// A run whose lease another run took over (its heartbeat came too late)
// stops: its sends in flight finish and are stored, the rest go back;
// the new holder sends them, each once.
func TestLeaseLostStopsTheRun(t *testing.T) {
	f := newFx(t)
	const m = 150
	f.contacts(m, "")
	c := f.campaign(nil)
	f.p.delay = 30 * time.Millisecond
	var sent atomic.Int64
	e := f.engine(sending.Options{BatchSize: 10, Workers: 2, Pipeline: 2, Hooks: &sending.Hooks{Sent: func(int64) {
		if sent.Add(1) == 5 {
			f.db.Gorm.Exec(`UPDATE campaigns SET lease_token = 'job 2', heartbeat_at = ? WHERE id = ?`, f.db.Now(), c.ID)
		}
	}}})
	f.start(e, c)
	res, err := e.RunSlice(context.Background(), sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, "job 1")
	if err != nil || res.More {
		t.Fatalf("run that lost its lease: %+v %v", res, err)
	}
	st := f.states(c.ID)
	if st["sending"] != 0 || st["queued"] == 0 || st["accepted"]+st["queued"] != m {
		t.Fatalf("after losing the lease: %v", st)
	}
	f.drive(e, c, "job 2", 30*time.Second)
	if st := f.states(c.ID); st["accepted"] != m {
		t.Fatalf("states %v", st)
	}
	f.noDuplicates()
}
