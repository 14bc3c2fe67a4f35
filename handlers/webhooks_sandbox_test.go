package handlers_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models/messages"
)

// TestSandboxEventsReachMessages: the sandbox delivers its webhook bodies
// in-process to the intake (at least once, some read before delivered),
// and every message ends read with its pricing.
func TestSandboxEventsReachMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Café Rosa", "rosa@example.com")
	tn := a.tenantOf("rosa@example.com")
	setSender(t, a.db, tn, "7777777")
	sb := sandbox.New(a.webhooks, sandbox.Options{FailShare: -1, HeldShare: -1, StopShare: -1, ReadShare: 1,
		DuplicateShare: 0.3, ReorderShare: 0.3, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
		Rand: rand.New(rand.NewPCG(7, 7))})
	defer sb.Close()
	ctx := context.Background()
	in := make([]messages.New, 20)
	for i := range in {
		in[i] = messages.New{TemplateName: "offer_v1", TemplateLanguage: "de", To: "+4915112345" + string(rune('0'+i/10)) + string(rune('0'+i%10))}
	}
	ms, err := messages.Queue(ctx, tn, in)
	if err != nil {
		t.Fatal(err)
	}
	sender := channel.Sender{BusinessID: tn.BusinessID(), PhoneNumberID: "7777777", AccountID: "97777777"}
	for _, m := range ms {
		if _, err := messages.MarkSending(ctx, tn, m.ID); err != nil {
			t.Fatal(err)
		}
		sent, err := sb.Send(ctx, sender, channel.Message{ID: m.ID, To: m.ToPhone, Template: "offer_v1", Language: "de", Body: []string{"Alex"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := messages.MarkAccepted(ctx, tn, m.ID, sent.WAMID); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		a.process()
		var n int64
		a.db.Gorm.Model(&messages.Message{}).Where("business_id = ? AND state = ?", tn.BusinessID(), messages.Read).Count(&n)
		if n == int64(len(ms)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages read after 20 s", n, len(ms))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, m := range ms {
		got := msgState(t, tn, m.ID)
		if got.SentAt == nil || got.DeliveredAt == nil || got.ReadAt == nil || got.PricingCategory == "" {
			t.Errorf("message %d: %+v", m.ID, got)
		}
	}
}
