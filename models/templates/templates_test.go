package templates_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/templates"
)

type fixture struct {
	db    *models.DB
	clock *dbtest.Clock
	owner *models.User
	biz   *models.Business
	tn    models.Tenant
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	f := &fixture{db: db, clock: clock}
	f.owner, f.biz, f.tn = f.business(t, "Bäckerei Kraus", "anna@kraus.example")
	return f
}

func (f *fixture) business(t *testing.T, name, email string) (*models.User, *models.Business, models.Tenant) {
	t.Helper()
	u, b, err := f.db.SignUp(context.Background(), models.SignUpInput{BusinessName: name,
		NewUserInput: models.NewUserInput{Name: "Owner", Email: email, Password: "correct horse battery"}})
	if err != nil {
		t.Fatalf("sign up: %v", err)
	}
	tn, err := f.db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u, b, tn
}

// provider plays the platform: it answers submissions with ids and a
// fixed status.
var nextID atomic.Int64

type provider struct {
	name   string
	status string
	err    error
	// gate, when set, holds each call until it is closed.
	gate chan struct{}
	mu   sync.Mutex
	n    int
	got  []channel.Sender
}

func (p *provider) Name() string { return p.name }
func (p *provider) SubmitTemplate(_ context.Context, s channel.Sender, t channel.Template) (channel.Submitted, error) {
	if p.gate != nil {
		<-p.gate
	}
	if p.err != nil {
		return channel.Submitted{}, p.err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.got = append(p.got, s)
	return channel.Submitted{ExternalID: strconv.FormatInt(nextID.Add(1), 10), Status: p.status}, nil
}
func (p *provider) Send(context.Context, channel.Sender, channel.Message) (channel.Sent, error) {
	return channel.Sent{}, errors.New("not here")
}

func mustCreate(t *testing.T, f *fixture, tn models.Tenant, in templates.Input) *templates.Template {
	t.Helper()
	tpl, err := templates.Create(context.Background(), tn, f.owner, in, "127.0.0.1")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return tpl
}

func TestCreateEditCopyDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tpl := mustCreate(t, f, f.tn, good())
	if tpl.Status != templates.StateDraft || tpl.Quality != templates.QualityUnknown {
		t.Fatalf("new template: %+v", tpl)
	}
	got, err := templates.Get(ctx, f.tn, tpl.ID)
	if err != nil || got.Samples()[1] != "SPRING" || len(got.ButtonList()) != 3 || got.ButtonList()[2].Phone != "+49301234567" {
		t.Fatalf("stored: %+v %v", got, err)
	}
	// The same name in the same language is taken; in another language not.
	if _, err := templates.Create(ctx, f.tn, f.owner, good(), ""); problemKey(err, "name") != "templates.name.taken" {
		t.Errorf("duplicate name: %v", err)
	}
	other := good()
	other.Language = "en"
	mustCreate(t, f, f.tn, other)
	// Another business may use the name.
	_, _, tnB := f.business(t, "Other", "b@other.example")
	mustCreate(t, f, tnB, good())

	in := good()
	in.Body = "Hello {{1}}, welcome."
	in.BodySamples = []string{"Alex"}
	upd, err := templates.Update(ctx, f.tn, f.owner, tpl.ID, in, "")
	if err != nil || upd.Body != in.Body || len(upd.Samples()) != 1 {
		t.Fatalf("update: %+v %v", upd, err)
	}
	cp, err := templates.Copy(ctx, f.tn, f.owner, tpl.ID, "")
	if err != nil || cp.Name != "spring_offer_copy" || cp.Body != in.Body || cp.Status != templates.StateDraft {
		t.Fatalf("copy: %+v %v", cp, err)
	}
	cp2, err := templates.Copy(ctx, f.tn, f.owner, tpl.ID, "")
	if err != nil || cp2.Name != "spring_offer_copy_2" {
		t.Fatalf("second copy: %+v %v", cp2, err)
	}
	// B's tenant cannot see, change, copy or delete A's template.
	if _, err := templates.Get(ctx, tnB, tpl.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B gets A's template: %v", err)
	}
	if _, err := templates.Update(ctx, tnB, f.owner, tpl.ID, good(), ""); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B updates A's template: %v", err)
	}
	if err := templates.Delete(ctx, tnB, f.owner, tpl.ID, ""); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B deletes A's template: %v", err)
	}
	if err := templates.Delete(ctx, f.tn, f.owner, cp2.ID, ""); err != nil {
		t.Fatal(err)
	}
	list, _ := templates.List(ctx, f.tn)
	if len(list) != 3 {
		t.Errorf("list has %d templates", len(list))
	}
	var audits int64
	f.db.Gorm.Table("audit_events").Where("target_type = 'template'").Count(&audits)
	// 3 created (one of them B's), 1 edited, 2 copied, 1 deleted.
	if audits != 7 {
		t.Errorf("audit rows: %d", audits)
	}
}

func problemKey(err error, field string) string {
	v, ok := models.AsValidation(err)
	if !ok {
		return ""
	}
	for _, p := range v.Problems {
		if p.Field == field {
			return p.Key
		}
	}
	return ""
}

func TestSubmitAndStates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tpl := mustCreate(t, f, f.tn, good())
	// No channel, and a cloud provider without the business's sender.
	if _, err := templates.Submit(ctx, f.tn, f.owner, nil, tpl.ID, ""); problemKey(err, "") != "templates.submit.no_channel" {
		t.Errorf("no channel: %v", err)
	}
	cloud := &provider{name: "cloudapi", status: "PENDING"}
	if _, err := templates.Submit(ctx, f.tn, f.owner, cloud, tpl.ID, ""); problemKey(err, "") != "templates.submit.no_sender" {
		t.Errorf("no sender: %v", err)
	}
	// A failing platform leaves the draft as it was.
	fail := &provider{name: "sandbox", err: &channel.Error{Code: 190, Title: "Invalid OAuth access token", Config: true}}
	if _, err := templates.Submit(ctx, f.tn, f.owner, fail, tpl.ID, ""); problemKey(err, "") != "templates.submit.config" {
		t.Errorf("config error: %v", err)
	}
	admin := &models.User{ID: 0, Email: "admin@example.com"}
	if err := f.db.SetSender(ctx, admin, f.biz.ID, "1234567890", "9876543210", ""); err != nil {
		t.Fatal(err)
	}
	sub, err := templates.Submit(ctx, f.tn, f.owner, cloud, tpl.ID, "")
	if err != nil || sub.Status != templates.StatePending || sub.ExternalID == "" || sub.AccountID != "9876543210" {
		t.Fatalf("submit: %+v %v", sub, err)
	}
	if cloud.got[0].PhoneNumberID != "1234567890" {
		t.Errorf("sender: %+v", cloud.got[0])
	}
	// Under review: no edits, no second submission.
	if _, err := templates.Update(ctx, f.tn, f.owner, tpl.ID, good(), ""); problemKey(err, "") != "templates.not_editable" {
		t.Errorf("edit while pending: %v", err)
	}
	if _, err := templates.Submit(ctx, f.tn, f.owner, cloud, tpl.ID, ""); problemKey(err, "") != "templates.not_submittable" {
		t.Errorf("resubmit while pending: %v", err)
	}
	// The sandbox answers at once.
	in := good()
	in.Name = "instant"
	tpl2 := mustCreate(t, f, f.tn, in)
	sb := &provider{name: "sandbox", status: "APPROVED"}
	if s, err := templates.Submit(ctx, f.tn, f.owner, sb, tpl2.ID, ""); err != nil || s.Status != templates.StateApproved {
		t.Errorf("immediate answer: %+v %v", s, err)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	admin := &models.User{Email: "admin@example.com"}
	if err := f.db.SetSender(ctx, admin, f.biz.ID, "1234567890", "9876543210", ""); err != nil {
		t.Fatal(err)
	}
	tpl := mustCreate(t, f, f.tn, good())
	sub, err := templates.Submit(ctx, f.tn, f.owner, &provider{name: "cloudapi", status: "PENDING"}, tpl.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	ev := templates.Events{DB: f.db}
	t0 := f.clock.Now()
	apply := func(e channel.TemplateEvent) error {
		t.Helper()
		if e.AccountID == "" {
			e.AccountID = "9876543210"
		}
		return ev.ApplyTemplateEvent(ctx, e)
	}
	state := func() *templates.Template {
		t.Helper()
		g, err := templates.Get(ctx, f.tn, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	// Rejected with a reason, by external id.
	if err := apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateStatus, Status: "REJECTED", Reason: "INVALID_FORMAT", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if g := state(); g.Status != templates.StateRejected || g.Reason != "INVALID_FORMAT" {
		t.Fatalf("after rejection: %s %s", g.Status, g.Reason)
	}
	// A rejected template can be edited (back to draft) and submitted again.
	if _, err := templates.Update(ctx, f.tn, f.owner, tpl.ID, good(), ""); err != nil {
		t.Fatalf("edit rejected: %v", err)
	}
	if g := state(); g.Status != templates.StateDraft {
		t.Fatalf("edited rejected: %s", g.Status)
	}
	// By name and language within the account; approved.
	if err := apply(channel.TemplateEvent{Name: "spring_offer", Language: "de", Kind: channel.TemplateStatus, Status: "APPROVED", Reason: "NONE", At: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if g := state(); g.Status != templates.StateApproved || g.Reason != "" {
		t.Fatalf("after approval: %s %q", g.Status, g.Reason)
	}
	// Out of order: an older REJECTED, and a PENDING, change nothing.
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateStatus, Status: "REJECTED", Reason: "SCAM", At: t0.Add(2 * time.Minute)})
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateStatus, Status: "PENDING", At: t0.Add(5 * time.Minute)})
	if g := state(); g.Status != templates.StateApproved {
		t.Fatalf("old or pending event moved the state: %s %s", g.Status, g.Reason)
	}
	// Quality: newest wins; category.
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateQuality, Quality: "YELLOW", At: t0.Add(10 * time.Minute)})
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateQuality, Quality: "GREEN", At: t0.Add(9 * time.Minute)})
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateCategory, Category: "UTILITY", At: t0.Add(11 * time.Minute)})
	if g := state(); g.Quality != templates.QualityYellow || g.Category != channel.CategoryUtility {
		t.Fatalf("quality/category: %s %s", g.Quality, g.Category)
	}
	// Paused, then approved again (unpaused).
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateStatus, Status: "PAUSED", Detail: "Paused for 3 hours", At: t0.Add(12 * time.Minute)})
	if g := state(); g.Status != templates.StatePaused || g.Detail != "Paused for 3 hours" {
		t.Fatalf("paused: %s %q", g.Status, g.Detail)
	}
	// The same event again: no second audit entry.
	var before, after int64
	f.db.Gorm.Table("audit_events").Where("action = 'template.status_changed'").Count(&before)
	_ = apply(channel.TemplateEvent{ExternalID: sub.ExternalID, Kind: channel.TemplateStatus, Status: "PAUSED", Detail: "Paused for 3 hours", At: t0.Add(12 * time.Minute)})
	f.db.Gorm.Table("audit_events").Where("action = 'template.status_changed'").Count(&after)
	if after != before {
		t.Errorf("a repeated event was audited again")
	}
	// Unknown templates: ErrNotFound.
	for _, e := range []channel.TemplateEvent{
		{ExternalID: "555555", Kind: channel.TemplateStatus, Status: "APPROVED"},
		{Name: "nope", Language: "de", Kind: channel.TemplateStatus, Status: "APPROVED"},
		{Name: "spring_offer", Language: "de", AccountID: "1111111111", Kind: channel.TemplateStatus, Status: "REJECTED"},
		// The right external id under another account: not applied.
		{ExternalID: sub.ExternalID, AccountID: "1111111111", Kind: channel.TemplateStatus, Status: "DISABLED"},
	} {
		if err := apply(e); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown %+v: %v", e, err)
		}
	}
	if g := state(); g.Status != templates.StatePaused {
		t.Errorf("unknown events changed the template: %s", g.Status)
	}
	rows, err := templates.All(ctx, f.db, templates.StatePaused, 10)
	if err != nil || len(rows) != 1 || rows[0].BusinessName != "Bäckerei Kraus" {
		t.Errorf("admin list: %+v %v", rows, err)
	}
}

// TestSubmitTwiceAtOnce: two submissions of one template at the same
// time call the platform once; the other is told the template is in
// review. A failed call puts the template back as it was.
func TestSubmitTwiceAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tpl := mustCreate(t, f, f.tn, good())
	p := &provider{name: "sandbox", status: "PENDING", gate: make(chan struct{})}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := templates.Submit(ctx, f.tn, f.owner, p, tpl.ID, "")
			errs <- err
		}()
	}
	// One of them is refused at once, while the other waits on the platform.
	first := <-errs
	close(p.gate)
	second := <-errs
	refused := 0
	for _, err := range []error{first, second} {
		if problemKey(err, "") == "templates.not_submittable" {
			refused++
		} else if err != nil {
			t.Errorf("submit: %v", err)
		}
	}
	if refused != 1 || p.n != 1 {
		t.Errorf("%d refused, %d platform calls", refused, p.n)
	}
	// A failure releases the claim.
	in := good()
	in.Name = "second"
	tpl2 := mustCreate(t, f, f.tn, in)
	fail := &provider{name: "sandbox", err: &channel.Error{Code: 2, Title: "Service temporarily unavailable", Retry: true}}
	if _, err := templates.Submit(ctx, f.tn, f.owner, fail, tpl2.ID, ""); problemKey(err, "") != "templates.submit.failed" {
		t.Errorf("failed call: %v", err)
	}
	if g, _ := templates.Get(ctx, f.tn, tpl2.ID); g.Status != templates.StateDraft || !g.Editable() {
		t.Errorf("after a failed call: %s", g.Status)
	}
}
