// Package sandbox is the default messaging provider (PORTAL_CHANNEL=sandbox):
// it needs no platform account and makes no network call, yet answers like
// the WhatsApp Cloud API and emits the platform's webhook bodies, byte for
// byte in its envelope, into a channel.Events sink (the webhook intake), so
// the same intake processes sandbox and real events.
//
// # Sends
//
// Send answers a unique wamid ("wamid.SANDBOX…") and "accepted", or, for a
// share of messages (HeldShare, default 2%), "held_for_quality_assessment"
// (such a message still goes out). After small random delays it emits the
// message's statuses: sent, delivered, then read (ReadShare of delivered
// messages, default 70%), each carrying biz_opaque_callback_data (our
// message id), recipient_id (the number's digits), recipient_user_id (a
// business-scoped user id "SANDBOX.<16 hex>", stable per business and
// number) and pricing {pricing_model PMP, category, type regular}. A share
// (FailShare, default 5%) fails instead with one of the platform's codes:
// 131026 (undeliverable), 131049 (held back for the user's experience),
// 131050 (user stopped marketing messages; only for marketing templates)
// and 131047 (re-engagement window), in a failed status with errors[].
// A share of delivered messages (StopShare, default 1%) is answered by the
// recipient with an inbound text "STOP" (value.messages[] with from,
// from_user_id, id, timestamp, type text; value.contacts[] with wa_id and
// user_id). The pricing category is the template's, when the template was
// submitted through this provider since the process started; otherwise
// "marketing". As on the platform, delivery is at least once and unordered:
// DuplicateShare of sends (default 1%) has one status twice, ReorderShare
// of read messages (default 1%) has read before delivered.
//
// # Templates
//
// SubmitTemplate answers PENDING with a numeric template id and, after a
// small delay, emits a message_template_status_update: REJECTED by the first
// rule that applies, else APPROVED. The rules, in order:
//
//  1. the name is not ^[a-z][a-z0-9_]*$ (up to 512): INVALID_FORMAT;
//  2. the header has more than one variable, or one without a sample:
//     INVALID_FORMAT;
//  3. the body's variables are not {{1}}…{{n}} in order, a sample is
//     missing or empty, or there are more samples than variables:
//     INVALID_FORMAT;
//  4. the body starts or ends with a variable: INVALID_FORMAT;
//  5. a UTILITY or AUTHENTICATION template uses an obviously promotional
//     word (sale, discount, offer, promo, coupon, "% off", "buy now",
//     "limited time", free, deal; Rabatt, Angebot, Gutschein, gratis,
//     Aktion, reduziert): INCORRECT_CATEGORY.
//
// The event's other_info.description names the rule.
//
// # The synthetic sender
//
// A business without an administrator-set sender sends from the synthetic
// sender models.SandboxSenderID(businessID): phone-number id and business
// account id both "sandbox-<business id>" (SenderFor fills it in; Send and
// SubmitTemplate do the same for a Sender with empty ids). Before the first
// event for such a business the provider stores that id on the business
// once (models.DB.ClaimSandboxSender, through the SenderStore option; a
// business that has a sender keeps it, and the events then carry the
// business's real ids). So the intake routes sandbox events exactly like
// the platform's: metadata.phone_number_id = businesses.phone_number_id,
// entry[].id = businesses.waba_id.
//
// # Lifetime
//
// Emission is best-effort: events live in memory only and are lost on a
// restart. Each send or submission schedules one goroutine, owned by the
// provider (not by the caller's context); Close cancels them all and waits
// for them, so none outlives the provider. At most MaxPending are waiting at
// once; beyond that a send's events are dropped (and logged). Tests inject
// the random source (Rand), the clock (Now) and the delay (Sleep), which
// makes every answer and every event deterministic.
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
)

// SenderFor is the business's sender: the administrator-set ids, or the
// synthetic sandbox sender "sandbox-<business id>" for both when it has
// none (or only half of one).
func SenderFor(b *models.Business) channel.Sender {
	s := channel.Sender{BusinessID: b.ID, PhoneNumberID: b.PhoneNumberID, AccountID: b.WABAID}
	if s.PhoneNumberID == "" || s.AccountID == "" {
		id := models.SandboxSenderID(b.ID)
		s.PhoneNumberID, s.AccountID = id, id
	}
	return s
}

// SenderStore stores a business's synthetic sender once (models.DB).
type SenderStore interface {
	ClaimSandboxSender(ctx context.Context, businessID int64) (phoneNumberID, wabaID string, err error)
}

// Options tune the sandbox; the zero value is the default.
type Options struct {
	// Shares, 0…1. A negative value means 0 (FailShare -1: never fail).
	FailShare float64 // default 0.05
	HeldShare float64 // default 0.02
	ReadShare float64 // default 0.7
	StopShare float64 // default 0.01
	// DuplicateShare of sends has one status delivered twice; ReorderShare
	// of read messages has read before delivered (default 0.01 each).
	DuplicateShare, ReorderShare float64
	// MinDelay and MaxDelay bound each step's random delay (default
	// 200ms…3s).
	MinDelay, MaxDelay time.Duration
	// MaxPending caps the sends and submissions whose events wait
	// (default 100000).
	MaxPending int
	// Senders stores synthetic senders (nil: not stored; tests).
	Senders SenderStore
	// Rand is the random source (default: randomly seeded).
	Rand *rand.Rand
	// Now is the clock of the events' timestamps (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Fault, when set, is asked before each Send and SubmitTemplate (op
	// "send" or "submit"); a non-nil answer is returned as the call's
	// error, with no events. Tests use it to produce each error class.
	Fault func(op string, s channel.Sender, m *channel.Message, t *channel.Template) *channel.Error
	Log   *slog.Logger
}

// Provider is the sandbox provider.
type Provider struct {
	events channel.Events
	o      Options

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	ctx     context.Context
	cancel  context.CancelFunc
	life    sync.Mutex // orders wg.Add in schedule before Close's Wait
	wg      sync.WaitGroup
	closed  atomic.Bool
	pending atomic.Int64
	seq     atomic.Uint64

	claimed   sync.Map // business id -> claim (stored ids, for a minute)
	templates sync.Map // account|name|language -> category
}

var _ channel.Provider = (*Provider)(nil)

// New makes a sandbox provider emitting into events. Close it on shutdown.
func New(events channel.Events, o Options) *Provider {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	def(&o.FailShare, 0.05)
	def(&o.HeldShare, 0.02)
	def(&o.ReadShare, 0.7)
	def(&o.StopShare, 0.01)
	def(&o.DuplicateShare, 0.01)
	def(&o.ReorderShare, 0.01)
	if o.MinDelay <= 0 {
		o.MinDelay = 200 * time.Millisecond
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = max(o.MinDelay, 3*time.Second)
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100000
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Provider{events: events, o: o, rnd: o.Rand, ctx: ctx, cancel: cancel}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

// Close stops every pending emission and waits for it to end. Calls after
// Close fail as retryable errors.
func (p *Provider) Close() {
	p.life.Lock()
	p.closed.Store(true)
	p.life.Unlock()
	p.cancel()
	p.wg.Wait()
}

// Wait blocks until every pending emission has ended (tests).
func (p *Provider) Wait() { p.wg.Wait() }

func (p *Provider) float() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64()
}

func (p *Provider) intn(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.IntN(n)
}

func (p *Provider) delay() time.Duration {
	span := int64(p.o.MaxDelay - p.o.MinDelay)
	if span <= 0 {
		return p.o.MinDelay
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.o.MinDelay + time.Duration(p.rnd.Int64N(span+1))
}

func (p *Provider) randHex(n int) string {
	b := make([]byte, n)
	p.mu.Lock()
	for i := range b {
		b[i] = byte(p.rnd.UintN(256))
	}
	p.mu.Unlock()
	return strings.ToUpper(hex.EncodeToString(b))
}

// sender fills in the synthetic sender and stores it once.
func (p *Provider) sender(ctx context.Context, s channel.Sender) (channel.Sender, error) {
	if s.PhoneNumberID != "" && s.AccountID != "" && !models.IsSandboxSender(s.PhoneNumberID) && !models.IsSandboxSender(s.AccountID) {
		return s, nil
	}
	if s.BusinessID == 0 {
		return s, &channel.Error{Title: "sandbox: a sender needs a business or a phone-number id", Config: true}
	}
	if v, ok := p.claimed.Load(s.BusinessID); ok && p.o.Now().Sub(v.(claim).at) < claimFor {
		return v.(claim).s, nil
	}
	id := models.SandboxSenderID(s.BusinessID)
	got := channel.Sender{BusinessID: s.BusinessID, PhoneNumberID: id, AccountID: id}
	if p.o.Senders != nil {
		pn, waba, err := p.o.Senders.ClaimSandboxSender(ctx, s.BusinessID)
		if errors.Is(err, models.ErrNotFound) {
			return s, &channel.Error{Title: "sandbox: no such business", Config: true, Err: err}
		}
		if err != nil {
			return s, &channel.Error{Title: "sandbox: store the synthetic sender", Retry: true, RetryAfter: time.Second, Err: err}
		}
		if pn != "" && waba != "" {
			got.PhoneNumberID, got.AccountID = pn, waba
		}
	}
	p.claimed.Store(s.BusinessID, claim{s: got, at: p.o.Now()})
	return got, nil
}

// claimFor is how long a claimed sender is used without asking the store
// again (an administrator may set or clear the sender meanwhile).
const claimFor = time.Minute

type claim struct {
	s  channel.Sender
	at time.Time
}

// schedule runs fn in a goroutine owned by the provider.
func (p *Provider) schedule(what string, fn func(ctx context.Context)) {
	p.life.Lock()
	defer p.life.Unlock()
	if p.closed.Load() {
		return
	}
	if p.pending.Add(1) > int64(p.o.MaxPending) {
		p.pending.Add(-1)
		p.o.Log.Warn("sandbox: too many pending events, dropped", "what", what)
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.pending.Add(-1)
		fn(p.ctx)
	}()
}

// emit sleeps a random delay and hands raw to the sink; false when the
// provider is closing.
func (p *Provider) emit(ctx context.Context, d time.Duration, raw []byte) bool {
	if err := p.o.Sleep(ctx, d); err != nil || ctx.Err() != nil {
		return false
	}
	if err := p.events.Accept(ctx, raw); err != nil {
		if ctx.Err() != nil {
			return false
		}
		p.o.Log.Warn("sandbox: the webhook intake refused an event", "error", err)
	}
	return true
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Send accepts a template message and schedules its statuses.
func (p *Provider) Send(ctx context.Context, s channel.Sender, m channel.Message) (channel.Sent, error) {
	if p.closed.Load() {
		return channel.Sent{}, &channel.Error{Title: "sandbox: shutting down", Retry: true, RetryAfter: time.Second}
	}
	if p.o.Fault != nil {
		if e := p.o.Fault("send", s, &m, nil); e != nil {
			return channel.Sent{}, e
		}
	}
	if m.Template == "" || m.Language == "" {
		return channel.Sent{}, &channel.Error{Code: 132001, Title: "Template name does not exist in the translation"}
	}
	if m.ID == 0 {
		return channel.Sent{}, &channel.Error{Code: 100, Title: "Invalid parameter: biz_opaque_callback_data (our message id) is missing", Config: true}
	}
	s, err := p.sender(ctx, s)
	if err != nil {
		return channel.Sent{}, err
	}
	wamid := fmt.Sprintf("wamid.SANDBOX%s%06X", p.randHex(10), p.seq.Add(1))
	status := "accepted"
	if p.float() < p.o.HeldShare {
		status = "held_for_quality_assessment"
	}
	category := "marketing"
	if c, ok := p.templates.Load(s.AccountID + "|" + m.Template + "|" + m.Language); ok {
		category = strings.ToLower(c.(string))
	}
	// Every random choice (delays too) is made here, in call order, so a seeded source
	// gives the same events whatever the goroutines' timing.
	var fail *failure
	if !e164.MatchString(m.To) {
		fail = &failures[0] // 131026
	} else if p.float() < p.o.FailShare {
		pool := failures
		if category != "marketing" {
			pool = nonMarketingFailures
		}
		fail = &pool[p.intn(len(pool))]
	}
	read := p.float() < p.o.ReadShare
	stop := p.float() < p.o.StopShare
	stopID := "wamid.SANDBOX" + p.randHex(10) + "IN"
	// The platform delivers at least once and unordered: a share of
	// messages has one status twice, and a share has read before delivered.
	dup := -1
	if p.float() < p.o.DuplicateShare {
		dup = p.intn(3)
	}
	swap := p.float() < p.o.ReorderShare
	d := [5]time.Duration{p.delay(), p.delay(), p.delay(), p.delay(), p.delay()}
	ev := statusEvent{s: s, m: m, wamid: wamid, category: category, user: userID(s.BusinessID, m.To)}
	var steps []string
	switch {
	case fail != nil:
		steps = []string{"failed"}
	case read && swap:
		steps = []string{"sent", "read", "delivered"}
	case read:
		steps = []string{"sent", "delivered", "read"}
	default:
		steps = []string{"sent", "delivered"}
	}
	if dup >= 0 && dup < len(steps) {
		steps = slices.Insert(steps, dup, steps[dup])
	}
	p.schedule("send", func(ctx context.Context) {
		for i, st := range steps {
			var f *failure
			if st == "failed" {
				f = fail
			}
			if !p.emit(ctx, d[i], ev.body(st, p.o.Now(), f)) {
				return
			}
		}
		if stop && fail == nil {
			p.emit(ctx, d[4], inboundStop(s, m.To, ev.user, stopID, p.o.Now()))
		}
	})
	return channel.Sent{WAMID: wamid, Status: status}, nil
}

// userID is a business-scoped user id, stable per business and number.
func userID(businessID int64, to string) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(businessID, 10) + "|" + to))
	return "SANDBOX." + strings.ToUpper(hex.EncodeToString(h[:8]))
}

type failure struct {
	Code           int
	Title, Details string
	marketingOnly  bool
}

var failures = []failure{
	{Code: 131026, Title: "Message undeliverable", Details: "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service."},
	{Code: 131049, Title: "This message was not delivered to maintain healthy ecosystem engagement.", Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	{Code: 131047, Title: "Re-engagement message", Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
	{Code: 131050, Title: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.", Details: "The user has stopped marketing messages from this business.", marketingOnly: true},
}

var nonMarketingFailures = func() []failure {
	var out []failure
	for _, f := range failures {
		if !f.marketingOnly {
			out = append(out, f)
		}
	}
	return out
}()

const errorsHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

type statusEvent struct {
	s        channel.Sender
	m        channel.Message
	wamid    string
	category string
	user     string
}

func digits(e164 string) string { return strings.TrimPrefix(e164, "+") }

func (e statusEvent) body(status string, at time.Time, f *failure) []byte {
	st := map[string]any{
		"id":                       e.wamid,
		"status":                   status,
		"timestamp":                strconv.FormatInt(at.Unix(), 10),
		"recipient_id":             digits(e.m.To),
		"recipient_user_id":        e.user,
		"biz_opaque_callback_data": strconv.FormatInt(e.m.ID, 10),
	}
	if f != nil {
		st["errors"] = []any{map[string]any{
			"code": f.Code, "title": f.Title, "message": f.Title,
			"error_data": map[string]any{"details": f.Details}, "href": errorsHref,
		}}
	} else {
		st["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": e.category, "type": "regular"}
	}
	return envelope(e.s, "messages", map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          metadata(e.s),
		"statuses":          []any{st},
	})
}

func metadata(s channel.Sender) map[string]any {
	return map[string]any{"display_phone_number": "15550000000", "phone_number_id": s.PhoneNumberID}
}

func inboundStop(s channel.Sender, to, user, id string, at time.Time) []byte {
	return envelope(s, "messages", map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          metadata(s),
		"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Sandbox recipient"}, "wa_id": digits(to), "user_id": user}},
		"messages": []any{map[string]any{
			"from": digits(to), "from_user_id": user, "id": id,
			"timestamp": strconv.FormatInt(at.Unix(), 10),
			"type":      "text", "text": map[string]any{"body": "STOP"},
		}},
	})
}

func envelope(s channel.Sender, field string, value any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      s.AccountID,
			"changes": []any{map[string]any{"field": field, "value": value}},
		}},
	})
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return b
}

// SubmitTemplate accepts a template for review and schedules the verdict.
func (p *Provider) SubmitTemplate(ctx context.Context, s channel.Sender, t channel.Template) (channel.Submitted, error) {
	if p.closed.Load() {
		return channel.Submitted{}, &channel.Error{Title: "sandbox: shutting down", Retry: true, RetryAfter: time.Second}
	}
	if p.o.Fault != nil {
		if e := p.o.Fault("submit", s, nil, &t); e != nil {
			return channel.Submitted{}, e
		}
	}
	s, err := p.sender(ctx, s)
	if err != nil {
		return channel.Submitted{}, err
	}
	p.mu.Lock()
	id := strconv.FormatInt(1_000_000_000_000_000+p.rnd.Int64N(8_999_999_999_999_999), 10)
	p.mu.Unlock()
	category := strings.ToUpper(t.Category)
	p.templates.Store(s.AccountID+"|"+t.Name+"|"+t.Language, category)
	verdict, reason, why := Review(t)
	d := p.delay()
	p.schedule("submit", func(ctx context.Context) {
		value := map[string]any{
			"event":                     verdict,
			"message_template_id":       json.Number(id),
			"message_template_name":     t.Name,
			"message_template_language": t.Language,
			"message_template_category": category,
			"reason":                    reason,
		}
		if why != "" {
			value["other_info"] = map[string]any{"title": "Sandbox review", "description": why}
		}
		raw, _ := json.Marshal(map[string]any{
			"object": "whatsapp_business_account",
			"entry": []any{map[string]any{
				"id":   s.AccountID,
				"time": p.o.Now().Unix(),
				"changes": []any{map[string]any{
					"field": "message_template_status_update",
					"value": value,
				}},
			}},
		})
		p.emit(ctx, d, raw)
	})
	return channel.Submitted{ExternalID: id, Status: "PENDING", Category: category}, nil
}

var (
	templateName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	variable     = regexp.MustCompile(`\{\{\s*([0-9]+)\s*\}\}`)
	promotional  = regexp.MustCompile(`(?i)(\b(sale|discount|offer|promo|promotion|coupon|free|deal|rabatt|angebot|gutschein|gratis|aktion|reduziert)\b|% ?off\b|\bbuy now\b|\blimited time\b)`)
)

// Review is the sandbox's template review: "APPROVED" with reason "NONE",
// or "REJECTED" with the platform's reason and the rule that applied (see
// the package documentation).
func Review(t channel.Template) (verdict, reason, rule string) {
	reject := func(reason, rule string) (string, string, string) { return "REJECTED", reason, rule }
	if !templateName.MatchString(t.Name) || len(t.Name) > 512 {
		return reject("INVALID_FORMAT", "rule 1: the name must be lower-case letters, digits and underscores, starting with a letter")
	}
	if hv := variable.FindAllString(t.Header, -1); len(hv) > 1 {
		return reject("INVALID_FORMAT", "rule 2: the header may have at most one variable")
	} else if len(hv) == 1 && strings.TrimSpace(t.HeaderSample) == "" {
		return reject("INVALID_FORMAT", "rule 2: the header's variable has no sample value")
	}
	vars := variable.FindAllStringSubmatch(t.Body, -1)
	for i, v := range vars {
		if v[1] != strconv.Itoa(i+1) {
			return reject("INVALID_FORMAT", fmt.Sprintf("rule 3: the body's variables must be {{1}}…{{n}} in order; variable %d is {{%s}}", i+1, v[1]))
		}
		if i >= len(t.BodySamples) || strings.TrimSpace(t.BodySamples[i]) == "" {
			return reject("INVALID_FORMAT", fmt.Sprintf("rule 3: the body's variable {{%d}} has no sample value", i+1))
		}
	}
	if len(t.BodySamples) > len(vars) {
		return reject("INVALID_FORMAT", "rule 3: there are more sample values than the body has variables")
	}
	body := strings.TrimSpace(t.Body)
	if loc := variable.FindAllStringIndex(body, -1); len(loc) > 0 && (loc[0][0] == 0 || loc[len(loc)-1][1] == len(body)) {
		return reject("INVALID_FORMAT", "rule 4: the body may not start or end with a variable")
	}
	if c := strings.ToUpper(t.Category); c == channel.CategoryUtility || c == channel.CategoryAuthentication {
		text := t.Header + "\n" + t.Body + "\n" + t.Footer
		for _, b := range t.Buttons {
			text += "\n" + b.Text
		}
		if w := promotional.FindString(text); w != "" {
			return reject("INCORRECT_CATEGORY", fmt.Sprintf("rule 5: %q is promotional; a %s template may not advertise (submit it as MARKETING)", w, c))
		}
	}
	return "APPROVED", "NONE", ""
}
