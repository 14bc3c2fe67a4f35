package messages_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/messages"
)

type fixture struct {
	db    *models.DB
	clock *dbtest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	return &fixture{db: db, clock: clock}
}

func (f *fixture) business(t *testing.T, name string) models.Tenant {
	t.Helper()
	_, b, err := f.db.SignUp(context.Background(), models.SignUpInput{BusinessName: name,
		NewUserInput: models.NewUserInput{Name: "Owner", Email: fmt.Sprintf("owner@%d.example", time.Now().UnixNano()), Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := f.db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// sent queues n messages and marks them accepted with wamids prefix.N.
func sent(t *testing.T, tn models.Tenant, prefix string, n int) []messages.Message {
	t.Helper()
	ctx := context.Background()
	in := make([]messages.New, n)
	for i := range in {
		in[i] = messages.New{TemplateName: "offer_v1", TemplateLanguage: "de", To: fmt.Sprintf("+49151%08d", i)}
	}
	ms, err := messages.Queue(ctx, tn, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		if _, err := messages.MarkSending(ctx, tn, ms[i].ID); err != nil {
			t.Fatal(err)
		}
		w := fmt.Sprintf("wamid.%s.%d", prefix, i)
		if _, err := messages.MarkAccepted(ctx, tn, ms[i].ID, w); err != nil {
			t.Fatal(err)
		}
		ms[i].WAMID = &w
	}
	return ms
}

func get(t *testing.T, tn models.Tenant, id int64) *messages.Message {
	t.Helper()
	m, err := messages.Get(context.Background(), tn, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func apply(t *testing.T, tn models.Tenant, sts ...messages.Status) []int {
	t.Helper()
	un, err := messages.ApplyStatuses(context.Background(), tn, sts)
	if err != nil {
		t.Fatal(err)
	}
	return un
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func st(wamid, state string, sec int) messages.Status {
	return messages.Status{WAMID: wamid, State: state, At: t0.Add(time.Duration(sec) * time.Second)}
}

func TestStatusesMoveForwardOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := f.business(t, "Café Rosa")
	ms := sent(t, tn, "a", 4)
	w := func(i int) string { return *ms[i].WAMID }

	// Duplicates: the same delivered three times is one change.
	priced := st(w(0), messages.Delivered, 2)
	priced.PricingModel, priced.PricingCategory, priced.PricingType, priced.UserID = "PMP", "marketing", "regular", "DE.123"
	apply(t, tn, priced, priced)
	apply(t, tn, priced)
	m := get(t, tn, ms[0].ID)
	if m.State != messages.Delivered || m.DeliveredAt == nil || !m.DeliveredAt.Equal(t0.Add(2*time.Second)) || m.PricingCategory != "marketing" || m.UserID != "DE.123" {
		t.Fatalf("after delivered x3: %+v", m)
	}

	// Read before delivered: read, and delivered_at filled in later; a
	// late delivered changes no state.
	apply(t, tn, st(w(1), messages.Read, 5))
	apply(t, tn, st(w(1), messages.Delivered, 3), st(w(1), messages.Sent, 1))
	m = get(t, tn, ms[1].ID)
	if m.State != messages.Read || m.DeliveredAt == nil || m.SentAt == nil || !m.ReadAt.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("read then delivered: %+v", m)
	}

	// Failed after delivered: recorded (failed_at, error) but still delivered.
	fail := st(w(0), messages.Failed, 9)
	fail.ErrorCode, fail.ErrorTitle = 131026, "Message undeliverable"
	apply(t, tn, fail)
	m = get(t, tn, ms[0].ID)
	if m.State != messages.Delivered || m.FailedAt == nil || m.ErrorCode == nil || *m.ErrorCode != 131026 || m.ErrorExplanation != "message.error.131026" {
		t.Fatalf("failed after delivered: %+v", m)
	}

	// Failed, then delivered: the delivery outranks the earlier failure.
	fail2 := st(w(2), messages.Failed, 1)
	fail2.ErrorCode, fail2.ErrorTitle = 131049, "held"
	apply(t, tn, fail2)
	if m = get(t, tn, ms[2].ID); m.State != messages.Failed || m.ErrorExplanation != "message.error.131049" {
		t.Fatalf("failed: %+v", m)
	}
	apply(t, tn, st(w(2), messages.Delivered, 2))
	if m = get(t, tn, ms[2].ID); m.State != messages.Delivered || m.ErrorCode == nil {
		t.Fatalf("delivered after failed: %+v", m)
	}

	// A failed 132xxx gets the template explanation; sent after failed
	// changes nothing.
	fail3 := st(w(3), messages.Failed, 1)
	fail3.ErrorCode = 132001
	apply(t, tn, fail3, st(w(3), messages.Sent, 0))
	if m = get(t, tn, ms[3].ID); m.State != messages.Failed || m.ErrorExplanation != "message.error.132000" || m.SentAt == nil {
		t.Fatalf("sent with failed: %+v", m)
	}
}

func TestStatusMatchedByCallbackReconcilesUnconfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tn := f.business(t, "Café Rosa")
	ms, err := messages.Queue(ctx, tn, []messages.New{{To: "+4915112345678", TemplateName: "x"}, {To: "+4915112345679", TemplateName: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := messages.MarkSending(ctx, tn, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	if moved, err := messages.MarkUnconfirmed(ctx, tn, ms[0].ID); err != nil || !moved {
		t.Fatalf("unconfirmed: %v %v", moved, err)
	}
	s := st("wamid.lost", messages.Sent, 1)
	s.MessageID = ms[0].ID
	if un := apply(t, tn, s); len(un) != 0 {
		t.Fatalf("unmatched %v", un)
	}
	m := get(t, tn, ms[0].ID)
	if m.State != messages.Sent || m.WAMID == nil || *m.WAMID != "wamid.lost" {
		t.Fatalf("reconciled: %+v", m)
	}
	// The send's answer stored late keeps the later state.
	if moved, err := messages.MarkAccepted(ctx, tn, ms[0].ID, "wamid.lost"); err != nil || moved {
		t.Fatalf("late accept: %v %v", moved, err)
	}
	if m = get(t, tn, ms[0].ID); m.State != messages.Sent {
		t.Fatalf("late accept moved back: %+v", m)
	}
	// A status naming our id with another message's wamid is not applied.
	other := st("wamid.other", messages.Delivered, 2)
	other.MessageID = ms[0].ID
	if un := apply(t, tn, other); len(un) != 1 {
		t.Fatalf("mismatched wamid applied: %v", un)
	}
	// Unknown wamid, unknown state: returned as unmatched.
	if un := apply(t, tn, st("wamid.nobody", messages.Delivered, 1), st(*m.WAMID, "deleted", 1)); len(un) != 2 {
		t.Fatalf("unmatched %v", un)
	}
	// Skipped only from queued.
	if ok, _ := messages.MarkSkipped(ctx, tn, ms[1].ID); !ok {
		t.Fatal("queued message not skipped")
	}
	if ok, _ := messages.MarkSkipped(ctx, tn, ms[0].ID); ok {
		t.Fatal("sent message skipped")
	}
}

func TestStatusesStayInTheirBusiness(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.business(t, "A"), f.business(t, "B")
	ma := sent(t, a, "a", 2)
	// B's batch names A's wamid and A's message id: nothing of A moves.
	s1 := st(*ma[0].WAMID, messages.Read, 1)
	s2 := st("", messages.Read, 1)
	s2.MessageID = ma[1].ID
	if un := apply(t, b, s1, s2); len(un) != 2 {
		t.Fatalf("B matched A's messages: unmatched %v", un)
	}
	for _, m := range ma {
		if got := get(t, a, m.ID); got.State != messages.Accepted {
			t.Fatalf("A's message moved: %+v", got)
		}
	}
	if _, err := messages.Get(context.Background(), b, ma[0].ID); err == nil {
		t.Fatal("B reads A's message")
	}
}

func TestBatchOfManyStatuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := f.business(t, "Café Rosa")
	ms := sent(t, tn, "m", 300)
	var sts []messages.Status
	for _, m := range ms {
		sts = append(sts, st(*m.WAMID, messages.Sent, 1), st(*m.WAMID, messages.Delivered, 2), st(*m.WAMID, messages.Read, 3))
	}
	if un := apply(t, tn, sts...); len(un) != 0 {
		t.Fatalf("unmatched %d", len(un))
	}
	for _, m := range ms[:5] {
		got := get(t, tn, m.ID)
		if got.State != messages.Read || got.SentAt == nil || got.DeliveredAt == nil || got.ReadAt == nil {
			t.Fatalf("%+v", got)
		}
	}
}

func TestServiceWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tn := f.business(t, "Café Rosa")
	c, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: "+4915112345678", Name: "Alex"}, "system")
	if err != nil {
		t.Fatal(err)
	}
	if open, _ := messages.ServiceWindowOpen(ctx, tn, c.ID, t0); open {
		t.Fatal("window open without a message")
	}
	in := messages.Inbound{ContactID: &c.ID, FromPhone: c.Phone, WAMID: "wamid.in1", Kind: "text", Body: "Hallo", SentAt: t0}
	for range 2 {
		if _, err := messages.RecordInbound(ctx, tn, in); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := messages.Replies(ctx, tn, c.ID, 10)
	if err != nil || len(rs) != 1 {
		t.Fatalf("replies %d %v (the same wamid twice is one)", len(rs), err)
	}
	for at, want := range map[time.Time]bool{t0.Add(time.Hour): true, t0.Add(23 * time.Hour): true, t0.Add(25 * time.Hour): false, t0.Add(-time.Hour): false} {
		if open, err := messages.ServiceWindowOpen(ctx, tn, c.ID, at); err != nil || open != want {
			t.Errorf("window at %v: %v %v, want %v", at, open, err, want)
		}
	}
	other := f.business(t, "Other")
	if open, _ := messages.ServiceWindowOpen(ctx, other, c.ID, t0.Add(time.Hour)); open {
		t.Fatal("another business sees the window")
	}
}
