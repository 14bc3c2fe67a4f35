// Package webhook is the platform's webhook intake: the set-up handshake,
// the signature check, storing every body durably before it is answered,
// and processing the stored bodies on the job queue — statuses onto
// messages, customers' replies (STOP opts out), template events to the
// templates domain. Parts that cannot be routed to a business are kept for
// review (models/webhooks), never applied to anyone.
//
// It is not HTTP: handlers/webhooks.go is a thin handler over Engine.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/webhooks"
)

// MaxBodyBytes is the largest body the intake takes (the platform's
// bodies are far smaller; a 1,000-status body is about 400 KB).
const MaxBodyBytes = 4 << 20

// Config is the app's webhook settings (web.Config.Channel's VerifyToken
// and AppSecret: WHATSAPP_VERIFY_TOKEN, WHATSAPP_APP_SECRET).
type Config struct {
	// VerifyToken is what the platform sends as hub.verify_token when the
	// webhook is set up; empty refuses every handshake.
	VerifyToken string
	// AppSecret keys the bodies' X-Hub-Signature-256; empty (sandbox
	// deployments) refuses every POST from outside, and only in-process
	// events (Accept) come in.
	AppSecret string
}

// Queue is what the intake needs of the job queue. *jobs.Queue is one.
type Queue interface {
	InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) (int64, error)
}

// Deps are the intake's collaborators, built by cmd/portal.
type Deps struct {
	DB    *models.DB
	Queue Queue
	// Templates takes template events (the templates domain); nil keeps
	// them as unmatched.
	Templates channel.TemplateEvents
	Log       *slog.Logger
}

// Options tune the intake; zero values keep the defaults.
type Options struct {
	// Claim is how many stored bodies one processing step takes (default 200).
	Claim int
	// SweepEvery is how often the queue looks for bodies left unprocessed
	// (a crash, a lost job), and for unmatched statuses to match again
	// (default 5 s).
	SweepEvery time.Duration
	// Writers is how many group commits of received bodies run at once
	// (default 4 on PostgreSQL, 1 on SQLite).
	Writers int
	// Processors is how many processing jobs of this process work at once
	// (default 2 on PostgreSQL, 1 on SQLite): two overlap one's SQL with
	// the other's decoding; more only hold more bodies in memory.
	Processors int
}

// Engine is the intake.
type Engine struct {
	cfg  Config
	d    Deps
	opt  Options
	in   chan *pending
	once sync.Once
	// queued is the last slot this process queued a processing job for:
	// later group commits of the same slot need no job of their own.
	queued atomic.Int64
	// working holds a token per processing job of this process that works
	// (Options.Processors); a job that finds none free hands its slot's end
	// to until (unix ms) and ends, and the working jobs keep on until then.
	working chan struct{}
	until   atomic.Int64
}

// New builds the intake.
func New(cfg Config, d Deps, opt Options) *Engine {
	if opt.Claim <= 0 {
		opt.Claim = 200
	}
	if opt.SweepEvery <= 0 {
		opt.SweepEvery = 5 * time.Second
	}
	if opt.Writers <= 0 {
		opt.Writers = 4
		if d.DB != nil && d.DB.Dialect != models.Postgres {
			opt.Writers = 1 // SQLite has one writer
		}
	}
	if opt.Processors <= 0 {
		opt.Processors = 2
		if d.DB != nil && d.DB.Dialect != models.Postgres {
			opt.Processors = 1
		}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Engine{cfg: cfg, d: d, opt: opt, in: make(chan *pending, 4096), working: make(chan struct{}, opt.Processors)}
}

// Handshake answers the platform's set-up GET: the challenge when mode is
// "subscribe" and the token is ours, else ok is false (403).
func (e *Engine) Handshake(mode, token, challenge string) (string, bool) {
	if mode != "subscribe" || e.cfg.VerifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(e.cfg.VerifyToken)) != 1 {
		return "", false
	}
	return challenge, true
}

// Signed reports whether header ("sha256=<hex>") is the HMAC-SHA256 of raw
// under the app secret, compared in constant time. Without an app secret
// nothing from outside is signed.
func (e *Engine) Signed(raw []byte, header string) bool {
	if e.cfg.AppSecret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign([]byte(e.cfg.AppSecret), raw))
}

// Sign is the HMAC-SHA256 of raw under secret (the sandbox and tests sign
// with it; the header is "sha256=" + hex).
func Sign(secret, raw []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(raw)
	return m.Sum(nil)
}

// SignatureHeader is the X-Hub-Signature-256 value of raw under secret.
func SignatureHeader(secret, raw []byte) string {
	return "sha256=" + hex.EncodeToString(Sign(secret, raw))
}

type pending struct {
	body []byte
	done chan error
}

// ErrClosed: the intake is not taking bodies (shutting down).
var ErrClosed = errors.New("webhook: intake closed")

// Accept stores a body durably and queues its processing; it returns once
// the body is committed (channel.Events: the sandbox delivers its events
// here, and a verified POST does the same). Bodies arriving together are
// stored in one transaction (a group commit), so each costs a fraction of
// a commit.
func (e *Engine) Accept(ctx context.Context, raw []byte) error {
	e.once.Do(func() {
		for range e.opt.Writers {
			go e.writer()
		}
	})
	p := &pending{body: raw, done: make(chan error, 1)}
	select {
	case e.in <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The body may still be stored; the platform retries and
		// duplicates are harmless.
		return ctx.Err()
	}
}

var _ channel.Events = (*Engine)(nil)

// writer stores bodies in groups: whatever arrived while the previous
// commit ran, up to 500.
func (e *Engine) writer() {
	batch := make([]*pending, 0, 500)
	for p := range e.in {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < cap(batch) {
			select {
			case q := <-e.in:
				batch = append(batch, q)
			default:
				break fill
			}
		}
		err := e.store(batch)
		for _, q := range batch {
			q.done <- err
		}
	}
}

func (e *Engine) store(batch []*pending) error {
	bodies := make([][]byte, len(batch))
	for i, p := range batch {
		bodies[i] = p.body
	}
	now := e.d.DB.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Slots are of the wall clock, as the job's wait for its slot's end
	// (now is the database's clock, which tests move).
	slot := time.Now().UnixMilli() / SlotMillis
	var err error
	if e.queued.Load() == slot {
		// This slot's job is queued (and works until the slot's end): the
		// bodies alone, in one statement.
		err = webhooks.InsertNow(ctx, e.d.DB, bodies, now)
	} else {
		// The slot's first group commit queues its job in the same
		// transaction: the job takes every body of its slot.
		err = e.d.DB.Tx(ctx, func(tx *gorm.DB) error {
			if err := webhooks.Insert(tx, bodies, now); err != nil {
				return err
			}
			_, err := e.d.Queue.InsertTx(ctx, tx, ProcessArgs{Slot: slot}, nil)
			return err
		})
		if err == nil {
			e.queued.Store(slot)
		}
	}
	if err != nil {
		e.d.Log.Error("store webhook bodies", "bodies", len(batch), "error", err)
	}
	return models.Wrap("webhook.store", err)
}
