package sending

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/messages"
)

// Result is how one slice of a campaign's run ended.
type Result struct {
	// More: another slice follows, after Wait (0: at once).
	More bool
	Wait time.Duration
}

// errCrashed ends a run at the Crash hook.
var errCrashed = errors.New("sending: the run was stopped as by a crash (test hook)")

// ErrCrashed reports whether err is a run stopped by Hooks.Crash.
func ErrCrashed(err error) bool { return errors.Is(err, errCrashed) }

// RunSlice works on the campaign's run for up to one slice, as holder
// (the job; "" is a one-off run). The job queue's worker calls it; tests
// and the benchmark call it directly.
func (e *Engine) RunSlice(ctx context.Context, args SendArgs, holder string) (Result, error) {
	return e.runSlice(ctx, args, holder)
}

func (e *Engine) hooks() *Hooks {
	if e.o.Hooks == nil {
		return &Hooks{}
	}
	return e.o.Hooks
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run is one slice's state. Batches are pipelined: up to
// Options.Pipeline are in flight at once (claimed, being sent, being
// stored), sharing Options.Workers sends in flight, so the sender never
// waits for a batch's slowest send or its storing before it claims the
// next.
type run struct {
	e       *Engine
	tn      models.Tenant
	c       *campaigns.Campaign
	ctx     context.Context // ends when the job stops or the lease is lost
	store   context.Context // never ends early: what was sent is always stored
	batches int
	slots   chan struct{} // batches in flight
	sends   chan struct{} // sends in flight
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error // the first batch's error (storing failed)
	config  error // the platform refused the sender or the token
	crashed atomic.Bool
	// halt stops every batch from starting more sends (rate limited, or
	// the sender is misconfigured); holdUntil is when the platform lets
	// this number send again (Unix ns).
	halt      atomic.Bool
	holdUntil atomic.Int64
	// cursor is the highest message id claimed; a batch that claimed
	// nothing sets empty (and emptyFrom, the cursor it claimed from).
	cursor    atomic.Int64
	empty     atomic.Bool
	emptyFrom atomic.Int64
	sentSome  atomic.Bool
	pace      pacer
}

// pacer spaces a run's sends evenly at a rate: each send waits for the
// next free moment, 1/rate after the previous one's. A run that fell
// behind (a slow database, a pause of the process) may catch up by at
// most paceSlack's worth, which the 1.5% margin under the rate absorbs.
type pacer struct {
	mu   sync.Mutex
	next time.Time
}

const paceSlack = 10 * time.Millisecond

// wait blocks until the send may go (false when ctx ended first).
func (p *pacer) wait(ctx context.Context, rate int) bool {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if floor := now.Add(-paceSlack); at.Before(floor) {
		at = floor
	}
	p.next = at.Add(time.Second / time.Duration(rate))
	p.mu.Unlock()
	return sleep(ctx, time.Until(at)) == nil
}

func (e *Engine) runSlice(ctx context.Context, args SendArgs, holder string) (res Result, err error) {
	tn, err := e.d.DB.Tenant(args.BusinessID)
	if err != nil {
		return Result{}, models.ErrNotFound
	}
	c, err := campaigns.Load(ctx, tn, args.CampaignID)
	if err != nil {
		return Result{}, err
	}
	if c.State != campaigns.Sending {
		return Result{}, nil // paused, cancelled, done: nothing to do
	}
	lease, err := tn.ClaimLease(ctx, "campaigns", c.ID, holder, "state = ?", campaigns.Sending)
	if errors.Is(err, models.ErrLeaseTaken) {
		e.d.Log.Info("campaign is being sent by another run; this one ends", "campaign", c.ID)
		return Result{}, nil
	}
	if err != nil {
		return Result{}, err
	}
	outer := ctx
	lctx, release := lease.Hold(ctx)
	store := context.WithoutCancel(ctx)
	crashed := false
	defer func() {
		switch {
		case crashed, err != nil:
			release(true) // this job's retry (or nobody, as after a crash) goes on
		case res.More && res.Wait > 0:
			release(false)
			if werr := campaigns.Wake(store, tn, c.ID, e.now().Add(res.Wait)); werr != nil {
				e.d.Log.Warn("recording a campaign's wake-up failed", "campaign", c.ID, "error", werr.Error())
			}
		case res.More:
			release(true)
		default:
			release(false)
		}
	}()
	r := &run{e: e, tn: tn, c: c, ctx: lctx, store: store,
		slots: make(chan struct{}, e.o.Pipeline), sends: make(chan struct{}, e.o.Workers)}
	res, err = r.work()
	if errors.Is(err, errCrashed) {
		crashed = true
		return Result{}, err
	}
	if err != nil && outer.Err() == nil && errors.Is(context.Cause(lctx), models.ErrLeaseLost) {
		e.d.Log.Warn("campaign lease taken over by another run; this one stops", "campaign", c.ID)
		return Result{}, nil
	}
	if err != nil && outer.Err() != nil {
		return Result{}, outer.Err()
	}
	return res, err
}

// flush waits for the batches in flight and reports how they ended:
// errCrashed (the Crash hook), a failure to store, or nil.
func (r *run) flush() error {
	r.wg.Wait()
	if r.crashed.Load() {
		return errCrashed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// failed reports, without waiting, whether a batch in flight crashed,
// failed or found the sender misconfigured.
func (r *run) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.crashed.Load() || r.err != nil || r.config != nil
}

// record stores a batch's outcomes, trying again for about half a minute
// when the database refuses (a deadlock with the webhook intake updating
// the same messages, a restart): answers the platform gave must not be
// lost to a transient error, or the messages would end unconfirmed.
func (r *run) record(outs []campaigns.Outcome) error {
	var err error
	wait := 50 * time.Millisecond
	for attempt := 0; attempt < 10; attempt++ {
		if err = campaigns.Record(r.store, r.tn, outs, r.e.now()); err == nil {
			return nil
		}
		if attempt == 0 {
			r.e.d.Log.Warn("storing a batch's outcomes failed; trying again", "campaign", r.c.ID, "error", err.Error())
		}
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
	return err
}

// fail records a batch's error (not the run's own stop).
func (r *run) fail(err error) {
	if r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// batch is one batch, a goroutine: it takes its share of the number's
// budget, claims that many messages, sends them and stores their
// outcomes. Batches in flight do this at once, so the database round
// trips of one overlap the sends of the others.
func (r *run) batch(k int, sender channel.Sender) {
	defer func() {
		<-r.slots
		r.wg.Done()
	}()
	e := r.e
	n := e.o.BatchSize
	if !e.o.Unthrottled {
		rate := e.effectiveRate()
		ask := min(n, max(1, rate*int(burst/time.Millisecond)/1000))
		for {
			granted, wait, err := e.budget.Take(r.ctx, sender.PhoneNumberID, ask, rate)
			if err != nil {
				r.fail(err)
				return
			}
			if granted > 0 {
				n = granted
				break
			}
			if sleep(r.ctx, min(wait, 250*time.Millisecond)) != nil || r.halt.Load() {
				return
			}
		}
	}
	if r.halt.Load() || r.crashed.Load() || r.ctx.Err() != nil {
		return
	}
	from := r.cursor.Load()
	// On the storing context: a claim that committed is always read back
	// (a stop after it puts the messages back, see send).
	claimed, err := campaigns.Claim(r.store, r.tn, r.c.ID, from, n, e.now())
	if err != nil {
		r.fail(err)
		return
	}
	if len(claimed) == 0 {
		r.emptyFrom.Store(from)
		r.empty.Store(true)
		return
	}
	last := claimed[len(claimed)-1].ID
	for {
		old := r.cursor.Load()
		if old >= last || r.cursor.CompareAndSwap(old, last) {
			break
		}
	}
	r.sentSome.Store(true)
	outs, stop := r.send(claimed, sender)
	h := r.e.hooks()
	if stop.config != nil {
		r.mu.Lock()
		r.config = stop.config
		r.mu.Unlock()
	}
	if h.Crash != nil && h.Crash(k, "sent") {
		r.crashed.Store(true)
	}
	if r.crashed.Load() {
		return // a dying process stores nothing more
	}
	if err := r.record(outs); err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err // storing never stops with the run: a real failure
		}
		r.mu.Unlock()
		return
	}
	if h.Crash != nil && h.Crash(k, "stored") {
		r.crashed.Store(true)
	}
}

// work is the slice's loop: a batch at a time until the slice is used up,
// the campaign cannot go on, or nothing is left.
func (r *run) work() (Result, error) {
	e, tn, c := r.e, r.tn, r.c
	defer func() { _ = r.flush() }()
	deadline := time.Now().Add(e.o.SliceTime)
	if err := r.orphans(); err != nil {
		return Result{}, err
	}
	var g campaigns.Gate
	var gateAt time.Time
	var err error
	for {
		if err := r.ctx.Err(); err != nil {
			return Result{}, err
		}
		if r.failed() {
			if err := r.flush(); err != nil {
				return Result{}, err
			}
			r.mu.Lock()
			cfg := r.config
			r.mu.Unlock()
			e.d.Log.Error("campaign paused: the platform refused the sender or the access token", "campaign", c.ID, "error", cfg.Error())
			return Result{}, r.pause(campaigns.ReasonSender)
		}
		if until := r.holdUntil.Load(); until > 0 {
			// Rate limited: let the batches in flight end, wait for the
			// platform's time, then go on.
			if err := r.flush(); err != nil {
				return Result{}, err
			}
			if err := sleep(r.ctx, time.Until(time.Unix(0, until))); err != nil {
				return Result{}, err
			}
			r.holdUntil.Store(0)
			r.halt.Store(false)
		}
		if time.Now().After(deadline) {
			return Result{More: true}, r.flush()
		}
		// A free slot first, so that the gate is read right before the
		// claim and no batch waits claimed.
		select {
		case r.slots <- struct{}{}:
		case <-r.ctx.Done():
			return Result{}, r.ctx.Err()
		}
		free := func() { <-r.slots }
		if r.failed() || r.holdUntil.Load() > 0 {
			free() // a batch ended badly, or was rate limited, meanwhile
			continue
		}
		// The gate is read before each batch, at most every GateEvery
		// (at 1,000/s the batches are a few milliseconds apart).
		if time.Since(gateAt) >= e.o.GateEvery {
			if g, err = campaigns.CheckGate(r.ctx, tn, c.ID); err != nil {
				free()
				return Result{}, err
			}
			gateAt = time.Now()
		}
		if g.State != campaigns.Sending || g.Suspended || campaigns.TemplateReason(g.TemplateStatus) != "" {
			// Stop at once: the batches in flight start no more sends.
			free()
			r.halt.Store(true)
			if err := r.flush(); err != nil {
				return Result{}, err
			}
			switch {
			case g.State == campaigns.Cancelled:
				// What the batches put back was queued after the cancel.
				return Result{}, campaigns.SkipQueued(r.store, tn, c.ID, campaigns.SkipCancelled)
			case g.State != campaigns.Sending:
				return Result{}, nil
			case g.Suspended:
				return Result{}, r.pause(campaigns.ReasonSuspended)
			default:
				return Result{}, r.pause(campaigns.TemplateReason(g.TemplateStatus))
			}
		}
		now := e.now()
		if in, opens := c.InWindow(now); !in {
			free()
			if err := r.flush(); err != nil {
				return Result{}, err
			}
			if err := campaigns.SetReason(r.ctx, tn, c.ID, campaigns.ReasonWindow); err != nil {
				return Result{}, err
			}
			return Result{More: true, Wait: max(opens.Sub(now), time.Second)}, nil
		}
		if r.empty.Load() {
			// A batch found nothing due: once the others are in, look
			// behind the cursor (retries queued again), then idle.
			free()
			if err := r.flush(); err != nil {
				return Result{}, err
			}
			r.empty.Store(false)
			if from := r.emptyFrom.Load(); from > 0 {
				r.cursor.Store(0)
				continue
			}
			res, done, err := r.idle(g, deadline)
			if err != nil || done {
				return res, err
			}
			continue
		}
		if g.StateReason != "" && r.sentSome.Load() {
			if err := campaigns.SetReason(r.ctx, tn, c.ID, ""); err != nil {
				free()
				return Result{}, err
			}
			g.StateReason = ""
		}
		sender := sandbox.SenderFor(&models.Business{ID: tn.BusinessID(), PhoneNumberID: g.PhoneNumberID, WABAID: g.WABAID})
		r.batches++
		r.wg.Add(1)
		go r.batch(r.batches, sender)
	}
}

// idle handles a claim that found nothing due: the run is done, or waits
// for messages to retry or for a dead run's claims to age.
func (r *run) idle(g campaigns.Gate, deadline time.Time) (Result, bool, error) {
	e, tn, c := r.e, r.tn, r.c
	if err := r.flush(); err != nil {
		return Result{}, true, err
	}
	if err := r.orphans(); err != nil {
		return Result{}, true, err
	}
	now := e.now()
	left, err := campaigns.Left(r.ctx, tn, c.ID, now)
	if err != nil {
		return Result{}, true, err
	}
	if left.Queued == 0 && left.Sending == 0 {
		done, err := campaigns.Finish(r.ctx, tn, c.ID)
		if err != nil {
			return Result{}, true, err
		}
		if done {
			e.d.Log.Info("campaign done", "campaign", c.ID, "business", tn.BusinessID())
			return Result{}, true, nil
		}
		return Result{}, false, nil // queued again meanwhile, or no longer sending: look again
	}
	var wait time.Duration
	switch {
	case left.Queued > 0 && left.NextAttempt == nil:
		return Result{}, false, nil // due now (claimed by nobody): look again
	case left.NextAttempt != nil:
		wait = max(left.NextAttempt.Sub(now), 20*time.Millisecond)
	}
	if left.Sending > 0 {
		// A dead run's claims, not yet old enough to be unconfirmed.
		w := min(e.o.ClaimStale/4, 5*time.Second)
		if wait == 0 || w < wait {
			wait = w
		}
	}
	if wait > time.Second && g.StateReason != campaigns.ReasonRetry && left.Sending == 0 {
		if err := campaigns.SetReason(r.ctx, tn, c.ID, campaigns.ReasonRetry); err != nil {
			return Result{}, true, err
		}
	}
	if wait <= 2*time.Second && time.Now().Add(wait).Before(deadline) {
		return Result{}, false, sleep(r.ctx, wait)
	}
	return Result{More: true, Wait: wait}, true, nil
}

func (r *run) pause(reason string) error {
	if err := r.flush(); err != nil {
		return err
	}
	_, err := campaigns.Pause(r.store, r.tn, r.c.ID, reason)
	if errors.Is(err, campaigns.ErrState) {
		return nil // cancelled or paused meanwhile
	}
	if err == nil {
		r.e.d.Log.Info("campaign paused", "campaign", r.c.ID, "reason", reason)
	}
	return err
}

// orphans marks unconfirmed the messages a dead run claimed long enough
// ago that it cannot still be sending them (the caller holds the lease):
// whether the platform got them is unknown, so they are never sent again;
// their status webhooks (biz_opaque_callback_data is our id) reconcile them.
func (r *run) orphans() error {
	before := r.e.now().Add(-r.e.o.ClaimStale)
	total := 0
	for {
		os, err := campaigns.Orphans(r.ctx, r.tn, r.c.ID, before, 1000)
		if err != nil || len(os) == 0 {
			if total > 0 {
				r.e.d.Log.Warn("messages of a dead run marked unconfirmed", "campaign", r.c.ID, "messages", total)
			}
			return err
		}
		outs := make([]campaigns.Outcome, len(os))
		for i, o := range os {
			outs[i] = campaigns.Outcome{ID: o.ID, Kind: campaigns.OutUnconfirmed, Country: r.e.countries.of(o.ToPhone)}
		}
		if err := campaigns.Record(r.store, r.tn, outs, r.e.now()); err != nil {
			return err
		}
		total += len(os)
	}
}

// stopped is why a batch stopped sending early.
type stopped struct {
	config error // the sender or the access is wrong: pause the campaign
}

// send sends a batch with up to Workers sends in flight and returns each
// message's outcome. Once the run's context ends, the platform asks to
// slow down, or the sender is misconfigured, no further send starts: the
// rest are put back as they were. Sends in flight finish (on a context of
// their own) and their answers are kept.
func (r *run) send(claimed []campaigns.Claimed, sender channel.Sender) ([]campaigns.Outcome, stopped) {
	e := r.e
	outs := make([]campaigns.Outcome, len(claimed))
	halt := &r.halt
	var mu sync.Mutex
	var st stopped
	var next atomic.Int64
	workers := min(e.o.Workers, len(claimed))
	var wg sync.WaitGroup
	hooks := e.hooks()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(claimed) {
					return
				}
				m := claimed[i]
				if halt.Load() || r.crashed.Load() || r.ctx.Err() != nil {
					outs[i] = campaigns.Outcome{ID: m.ID, Kind: campaigns.OutPutBack}
					continue
				}
				if !e.o.Unthrottled && !r.pace.wait(r.ctx, e.effectiveRate()) {
					outs[i] = campaigns.Outcome{ID: m.ID, Kind: campaigns.OutPutBack}
					continue
				}
				r.sends <- struct{}{}
				if halt.Load() || r.crashed.Load() || r.ctx.Err() != nil { // stopped while waiting for a free send
					<-r.sends
					outs[i] = campaigns.Outcome{ID: m.ID, Kind: campaigns.OutPutBack}
					continue
				}
				o, err := r.one(m, sender)
				<-r.sends
				outs[i] = o
				if hooks.Sent != nil && o.Attempted {
					hooks.Sent(m.ID)
				}
				if err == nil {
					continue
				}
				if ce, ok := channel.AsError(err); ok {
					switch {
					case ce.Config:
						mu.Lock()
						st.config = err
						mu.Unlock()
						halt.Store(true)
					case ce.Retry && (ce.Code == 130429 || ce.Code == 131056 || ce.Code == 4 || ce.Code == 80007 || (ce.Code == 0 && ce.RetryAfter > 0 && strings.Contains(ce.Title, "HTTP 429"))):
						// The number is over its throughput: every process
						// holds off until the platform's time.
						after := ce.RetryAfter
						if after <= 0 {
							after = time.Second
						}
						if perr := e.budget.Pause(r.store, sender.PhoneNumberID, e.now().Add(after)); perr != nil {
							e.d.Log.Warn("pausing the send budget failed", "number", sender.PhoneNumberID, "error", perr.Error())
						}
						until := time.Now().Add(after).UnixNano()
						for {
							old := r.holdUntil.Load()
							if old >= until || r.holdUntil.CompareAndSwap(old, until) {
								break
							}
						}
						halt.Store(true)
					}
				}
			}
		}()
	}
	wg.Wait()
	return outs, st
}

// one sends one message, or skips it, and says what became of it.
func (r *run) one(m campaigns.Claimed, sender channel.Sender) (campaigns.Outcome, error) {
	e, c := r.e, r.c
	o := campaigns.Outcome{ID: m.ID}
	switch {
	case m.Contact == nil || !m.OptedIn:
		o.Kind, o.Reason = campaigns.OutSkipped, campaigns.SkipOptedOut
		return o, nil
	case m.Suppressed:
		o.Kind, o.Reason = campaigns.OutSkipped, campaigns.SkipSuppressed
		return o, nil
	}
	header, body, urls, missing := c.Mapping.Render(*m.Contact)
	if len(missing) > 0 {
		o.Kind, o.Reason = campaigns.OutSkipped, campaigns.SkipMissingVariable
		return o, nil
	}
	o.Header, o.Body, o.URLs = jsonList(header), jsonList(body), jsonMap(urls)
	o.Country = e.countries.of(m.ToPhone)
	wo := m.WindowOpen
	o.WindowOpen = &wo
	o.Attempted = true
	sctx, cancel := context.WithTimeout(r.store, e.o.SendTimeout)
	defer cancel()
	sent, err := e.d.Provider.Send(sctx, sender, channel.Message{ID: m.ID, To: m.ToPhone, Template: c.TemplateName,
		Language: c.TemplateLanguage, Header: header, Body: body, URLParams: urls})
	if err == nil {
		o.Kind, o.WAMID = campaigns.OutAccepted, sent.WAMID
		return o, nil
	}
	ce, ok := channel.AsError(err)
	if !ok {
		ce = &channel.Error{Title: err.Error(), Retry: true}
	}
	o.Code, o.Title = ce.Code, ce.Title
	switch {
	case ce.Config:
		// Not this message's fault: it goes back, unattempted.
		return campaigns.Outcome{ID: m.ID, Kind: campaigns.OutPutBack}, err
	case ce.Retry && m.Attempts+1 < e.o.MaxAttempts:
		o.Kind = campaigns.OutRetry
		o.NextAttempt = e.now().Add(e.o.Backoff(m.Attempts+1, ce.RetryAfter))
		o.Explanation = messages.Explanation(ce.Code)
	case ce.Retry:
		o.Kind = campaigns.OutFailed
		o.Explanation = messages.Explanation(ce.Code)
		if ce.Code == 0 {
			o.Explanation = "sending.failure.gave_up"
		}
		o.Title = ce.Title + " (after " + strconv.Itoa(m.Attempts+1) + " attempts)"
	case ce.Code == 0 && strings.Contains(ce.Title, "answer"):
		// A 2xx answer we cannot read: the message may have gone out, so
		// it is not sent again; its status webhooks reconcile it.
		o.Kind = campaigns.OutUnconfirmed
	default:
		o.Kind = campaigns.OutFailed
		o.Explanation = messages.Explanation(ce.Code)
		if ce.Code == 0 {
			o.Explanation = "sending.failure.refused"
		}
	}
	return o, err
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonMap(m map[int]string) string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strconv.Itoa(k)] = v
	}
	b, _ := json.Marshal(out)
	return string(b)
}
