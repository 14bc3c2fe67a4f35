package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/models/webhooks"
)

// SlotMillis is the span of arrivals one processing job covers.
const SlotMillis = 50

// ProcessArgs is the job that processes stored bodies. Slot makes it
// unique per SlotMillis of arrivals (see Engine.store): the first group
// commit of a slot queues it, and it works until the slot is over and no
// stored body is left. The periodic sweep queues one with a negative slot.
type ProcessArgs struct {
	Slot int64 `json:"slot"`
}

// slotEnd is when the job's slot has ended, with a margin for the slot's
// last group commits; zero for the sweep.
func (a ProcessArgs) slotEnd() time.Time {
	if a.Slot <= 0 {
		return time.Time{}
	}
	return time.UnixMilli((a.Slot+1)*SlotMillis + 100)
}

// Kind names the job.
func (ProcessArgs) Kind() string { return "webhook_process" }

// InsertOpts: unique per slot.
func (ProcessArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RematchArgs is the periodic job that applies statuses kept as unknown
// once their message is known (a status that came before the send's
// answer was stored, without our id), and removes bodies and unmatched
// parts older than webhooks.Retention.
type RematchArgs struct{}

// Kind names the job.
func (RematchArgs) Kind() string { return "webhook_rematch" }

// AddWorkers implements jobs.Area.
func (e *Engine) AddWorkers(w *river.Workers) {
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[ProcessArgs]) error {
		return e.process(ctx, 20*time.Second, j.Args.slotEnd())
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[RematchArgs]) error {
		if err := e.Rematch(ctx); err != nil {
			return err
		}
		return webhooks.Prune(ctx, e.d.DB, e.d.DB.Now().Add(-webhooks.Retention), 10000)
	}))
}

// PeriodicJobs implements jobs.Area: the sweep for bodies whose job was
// lost, and the later matching of unknown statuses.
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(e.opt.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return ProcessArgs{Slot: -time.Now().UnixMilli() / 1000}, nil
			}, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return RematchArgs{}, nil }, nil),
	}
}

// claimFor is how long a claim of stored bodies holds.
const claimFor = time.Minute

// ProcessPending processes stored bodies in batches until none is left or
// budget is spent.
func (e *Engine) ProcessPending(ctx context.Context, budget time.Duration) error {
	return e.process(ctx, budget, time.Time{})
}

// process works until no stored body is left and the slot has ended (the
// slot's later group commits queue no job of their own), or the budget is
// spent (the sweep takes up the rest). Options.Processors jobs of a
// process work at a time: the others hand their slot's end to them and
// end, so a burst of arrivals is processed in big batches and memory stays
// that of a few batches.
func (e *Engine) process(ctx context.Context, budget time.Duration, slotEnd time.Time) error {
	if !slotEnd.IsZero() {
		for {
			u := e.until.Load()
			if slotEnd.UnixMilli() <= u || e.until.CompareAndSwap(u, slotEnd.UnixMilli()) {
				break
			}
		}
	}
	end := time.Now().Add(budget)
	for time.Now().Before(end) {
		select {
		case e.working <- struct{}{}:
		default:
			return nil // the working jobs cover this slot
		}
		err := e.work(ctx, end)
		<-e.working
		if err != nil {
			return err
		}
		// A job that found the lock taken just now moved until on.
		if time.Now().UnixMilli() >= e.until.Load() {
			return nil
		}
	}
	return nil
}

// work processes stored bodies until none is left and until has passed.
// Claims shrink while bodies are big (many statuses each), so one step
// holds a few megabytes of bodies, not 200 of the largest.
func (e *Engine) work(ctx context.Context, end time.Time) error {
	claim := e.opt.Claim
	for time.Now().Before(end) {
		evs, err := webhooks.Claim(ctx, e.d.DB, claim, claimFor)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			if wait := time.UnixMilli(e.until.Load()).Sub(time.Now()); wait > 0 {
				select {
				case <-time.After(min(wait, 20*time.Millisecond)):
					continue
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		size := 0
		for _, ev := range evs {
			size += len(ev.Body)
		}
		switch {
		case size > 2<<20 && claim > 10:
			claim /= 2
		case size < 1<<20 && claim < e.opt.Claim:
			claim = min(e.opt.Claim, claim*2)
		}
		slices.SortFunc(evs, func(a, b webhooks.Event) int { return int(a.ID - b.ID) })
		if err := e.processBatch(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// statusRef is a status waiting for its business's batch update.
type statusRef struct {
	event int64
	phone string
	raw   Status
}

type bizBatch struct {
	tn   models.Tenant
	sts  []messages.Status
	refs []statusRef
}

// batchState is one processing step's routing: businesses by number (an
// unknown number is cached as nil), statuses per business, parts to keep.
type batchState struct {
	e         *Engine
	biz       map[string]*models.Business
	batches   map[int64]*bizBatch
	order     []int64
	unmatched []webhooks.Unmatched
	errs      map[int64]string
	received  map[int64]time.Time
}

func (e *Engine) processBatch(ctx context.Context, evs []webhooks.Event) error {
	st := &batchState{e: e, biz: map[string]*models.Business{}, batches: map[int64]*bizBatch{},
		errs: map[int64]string{}, received: map[int64]time.Time{}}
	ids := make([]int64, 0, len(evs))
	for _, ev := range evs {
		ids = append(ids, ev.ID)
		st.received[ev.ID] = ev.ReceivedAt
		if err := st.event(ctx, ev); err != nil {
			if ctx.Err() != nil || !errors.Is(err, ErrMalformed) && !isDomain(err) {
				return err // the database: the job retries, nothing is lost
			}
			st.errs[ev.ID] = truncate(err.Error(), 500)
		}
	}
	for _, bid := range st.order {
		b := st.batches[bid]
		un, err := messages.ApplyStatuses(ctx, b.tn, b.sts)
		if err != nil {
			return err
		}
		for _, i := range un {
			r := b.refs[i]
			bidCopy := bid
			st.keep(r.event, webhooks.UnknownMessage, r.phone, &bidCopy, r.raw.ID, r.raw.BizOpaqueCallbackData, "status", r.raw)
		}
	}
	if err := webhooks.Keep(ctx, e.d.DB, st.unmatched); err != nil {
		return err
	}
	return webhooks.Done(ctx, e.d.DB, ids, st.errs, e.d.DB.Now())
}

func isDomain(err error) bool {
	_, ok := models.AsValidation(err)
	return ok || errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict)
}

// truncate cuts s to at most n bytes without splitting a character, and
// drops what PostgreSQL refuses (NUL, invalid UTF-8): the parts kept for
// review come from outside.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (st *batchState) keep(event int64, reason, phone string, bid *int64, wamid, callback, kind string, part any) {
	detail, _ := json.Marshal(part)
	st.unmatched = append(st.unmatched, webhooks.Unmatched{EventID: event, Reason: reason, PhoneNumberID: truncate(phone, 64),
		BusinessID: bid, WAMID: truncate(wamid, 200), Callback: truncate(callback, 512), Kind: kind, Detail: string(detail),
		ReceivedAt: st.received[event]})
}

// business routes a phone-number id to its business (nil: unknown).
func (st *batchState) business(ctx context.Context, phoneNumberID string) (*models.Business, error) {
	if b, ok := st.biz[phoneNumberID]; ok {
		return b, nil
	}
	b, err := st.e.d.DB.BusinessOfNumber(ctx, phoneNumberID)
	if errors.Is(err, models.ErrNotFound) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	st.biz[phoneNumberID] = b
	return b, nil
}

func (st *batchState) event(ctx context.Context, ev webhooks.Event) error {
	p, err := Parse(ev.Body)
	if err != nil {
		return err
	}
	var errs []error
	for _, en := range p.Entry {
		for _, ch := range en.Changes {
			var err error
			switch ch.Field {
			case "messages":
				err = st.messagesChange(ctx, ev, ch)
			case "message_template_status_update", "message_template_quality_update", "template_category_update":
				err = st.templateChange(ctx, ev, en.ID, ch)
			default:
				continue // fields we did not subscribe to
			}
			if err != nil {
				if ctx.Err() != nil || !errors.Is(err, ErrMalformed) && !isDomain(err) {
					return err
				}
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (st *batchState) messagesChange(ctx context.Context, ev webhooks.Event, ch Change) error {
	v, err := ch.Messages()
	if err != nil {
		return err
	}
	phone := v.Metadata.PhoneNumberID
	b, err := st.business(ctx, phone)
	if err != nil {
		return err
	}
	if b == nil {
		for _, s := range v.Statuses {
			st.keep(ev.ID, webhooks.UnknownNumber, phone, nil, s.ID, s.BizOpaqueCallbackData, "status", s)
		}
		for _, m := range v.Messages {
			st.keep(ev.ID, webhooks.UnknownNumber, phone, nil, m.ID, "", "message", m)
		}
		return nil
	}
	tn, err := st.e.d.DB.Tenant(b.ID)
	if err != nil {
		return err
	}
	if len(v.Statuses) > 0 {
		bb := st.batches[b.ID]
		if bb == nil {
			bb = &bizBatch{tn: tn}
			st.batches[b.ID] = bb
			st.order = append(st.order, b.ID)
		}
		for _, s := range v.Statuses {
			bb.sts = append(bb.sts, toStatus(s, ev.ReceivedAt))
			bb.refs = append(bb.refs, statusRef{event: ev.ID, phone: phone, raw: s})
		}
	}
	var errs []error
	for _, m := range v.Messages {
		if err := st.e.inbound(ctx, tn, v, m, ev.ReceivedAt); err != nil {
			if ctx.Err() != nil || !isDomain(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("message %s: %w", m.ID, err))
		}
	}
	return errors.Join(errs...)
}

// toStatus is a status event in the messages domain's terms.
func toStatus(s Status, received time.Time) messages.Status {
	out := messages.Status{WAMID: truncate(s.ID, 200), MessageID: messages.CallbackID(s.BizOpaqueCallbackData),
		State: strings.ToLower(s.Status), At: Time(s.Timestamp, received), UserID: truncate(s.RecipientUserID, 200)}
	if s.Pricing != nil {
		out.PricingModel, out.PricingCategory, out.PricingType = truncate(s.Pricing.PricingModel, 32), truncate(s.Pricing.Category, 64), truncate(s.Pricing.Type, 64)
	}
	if len(s.Errors) > 0 {
		er := s.Errors[0]
		out.ErrorCode, out.ErrorTitle = er.Code, truncate(er.Title, 500)
		out.ErrorDetail = truncate(firstNonEmpty(er.ErrorData.Details, er.Message), 1000)
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (st *batchState) templateChange(ctx context.Context, ev webhooks.Event, account string, ch Change) error {
	v, err := ch.Template()
	if err != nil {
		return err
	}
	te := channel.TemplateEvent{AccountID: account, ExternalID: v.MessageTemplateID.String(), Name: v.MessageTemplateName,
		Language: v.MessageTemplateLanguage, At: ev.ReceivedAt}
	switch ch.Field {
	case "message_template_status_update":
		te.Kind, te.Status, te.Reason, te.Category = channel.TemplateStatus, v.Event, v.Reason, v.MessageTemplateCategory
		switch {
		case v.OtherInfo != nil:
			te.Detail = strings.TrimSpace(v.OtherInfo.Title + ": " + v.OtherInfo.Description)
		case len(v.DisableInfo) > 0 && string(v.DisableInfo) != "null":
			te.Detail = string(v.DisableInfo)
		}
	case "message_template_quality_update":
		te.Kind, te.Quality = channel.TemplateQuality, v.NewQualityScore
	case "template_category_update":
		te.Kind, te.Category = channel.TemplateCategory, v.NewCategory
	}
	if st.e.d.Templates == nil {
		st.keep(ev.ID, webhooks.UnknownAccount, "", nil, "", "", "template", te)
		return nil
	}
	err = st.e.d.Templates.ApplyTemplateEvent(ctx, te)
	if errors.Is(err, models.ErrNotFound) {
		st.keep(ev.ID, webhooks.UnknownAccount, "", nil, "", "", "template", te)
		return nil
	}
	return err
}

// Rematch applies statuses kept as unknown in the last day whose message
// is known by now, and marks them matched.
func (e *Engine) Rematch(ctx context.Context) error {
	open, err := webhooks.OpenUnmatched(ctx, e.d.DB, webhooks.UnknownMessage, e.d.DB.Now().Add(-24*time.Hour), 5000)
	if err != nil || len(open) == 0 {
		return err
	}
	type group struct {
		sts []messages.Status
		ids []int64
	}
	groups := map[int64]*group{}
	for _, u := range open {
		var s Status
		if u.BusinessID == nil || json.Unmarshal([]byte(u.Detail), &s) != nil {
			continue
		}
		g := groups[*u.BusinessID]
		if g == nil {
			g = &group{}
			groups[*u.BusinessID] = g
		}
		g.sts = append(g.sts, toStatus(s, u.ReceivedAt))
		g.ids = append(g.ids, u.ID)
	}
	for bid, g := range groups {
		tn, err := e.d.DB.Tenant(bid)
		if err != nil {
			continue
		}
		un, err := messages.ApplyStatuses(ctx, tn, g.sts)
		if err != nil {
			return err
		}
		still := map[int]bool{}
		for _, i := range un {
			still[i] = true
		}
		var done []int64
		for i, id := range g.ids {
			if !still[i] {
				done = append(done, id)
			}
		}
		if err := webhooks.MarkMatched(ctx, e.d.DB, done, e.d.DB.Now()); err != nil {
			return err
		}
	}
	return nil
}
