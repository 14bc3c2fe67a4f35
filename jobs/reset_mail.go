package jobs

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
)

// Sender sends one plain-text mail (web.Mailer is one).
type Sender interface {
	Send(to, subject, body string) error
}

// ResetMailArgs asks for a password-reset mail to the account at Email.
// The job makes the reset itself, so its token never sits in the job
// table; an address without an account gets no mail (the form's answer
// is the same either way, and the request costs the same).
type ResetMailArgs struct {
	Email  string `json:"email"`
	Locale string `json:"locale"`
}

// Kind names the job.
func (ResetMailArgs) Kind() string { return "password_reset_mail" }

// InsertOpts: a few tries over some minutes; a link older than that
// would be stale when it arrives.
func (ResetMailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// ResetMailWorker sends password-reset mails.
type ResetMailWorker struct {
	river.WorkerDefaults[ResetMailArgs]
	db   *models.DB
	mail Sender
	base *url.URL
	log  *slog.Logger
}

// ResetMail is the password-reset mail area: its worker joins the queue
// (Queue.Add) and Queue asks for a mail.
type ResetMail struct {
	worker *ResetMailWorker
	queue  *Queue
}

// NewResetMail builds the area; the mails' links point at base.
func NewResetMail(db *models.DB, mail Sender, base *url.URL, log *slog.Logger, q *Queue) *ResetMail {
	return &ResetMail{worker: &ResetMailWorker{db: db, mail: mail, base: base, log: log}, queue: q}
}

// AddWorkers implements Area.
func (r *ResetMail) AddWorkers(w *river.Workers) { river.AddWorker(w, r.worker) }

// PeriodicJobs implements Area: none.
func (r *ResetMail) PeriodicJobs() []*river.PeriodicJob { return nil }

// Queue asks for a reset mail to the account at email (if there is one),
// written in locale.
func (r *ResetMail) Queue(ctx context.Context, email, locale string) error {
	_, err := r.queue.Insert(ctx, ResetMailArgs{Email: email, Locale: locale}, nil)
	return err
}

// Timeout bounds one try, whatever the mail server does.
func (w *ResetMailWorker) Timeout(*river.Job[ResetMailArgs]) time.Duration { return time.Minute }

// Work implements river.Worker. Each try makes a new reset (voiding the
// previous try's), so the link in the mail that arrives works.
func (w *ResetMailWorker) Work(ctx context.Context, job *river.Job[ResetMailArgs]) error {
	_, u, token, err := w.db.ResetForMail(ctx, job.Args.Email)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	loc := job.Args.Locale
	if loc == "" {
		loc = u.Locale
	}
	l := i18n.Get(loc)
	link := w.base.String() + "/reset/" + token
	if err := w.mail.Send(u.Email, l.T("reset.mail_subject"), l.T("reset.mail_body", u.Name, link, 60)); err != nil {
		// The error names the server, never the link.
		w.log.Warn("password reset mail failed", "user", u.ID, "attempt", job.Attempt, "error", err)
		return err
	}
	// The mail is out: a failed audit write must not send it again.
	if err := w.db.ResetMailed(ctx, u); err != nil {
		w.log.Error("audit of a sent password reset mail", "user", u.ID, "error", err)
	}
	return nil
}
