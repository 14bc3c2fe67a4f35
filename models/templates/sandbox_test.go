package templates_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/templates"
)

// rawEvents keeps the sandbox's webhook bodies (the intake is another
// package's work).
type rawEvents struct {
	mu  sync.Mutex
	got [][]byte
}

func (r *rawEvents) Accept(_ context.Context, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, raw)
	return nil
}

// TestSubmitToTheSandbox: a business without a sender submits to the real
// sandbox, which gives it its synthetic sender; the template is stored
// under that account, so the sandbox's verdict, addressed to it, applies.
func TestSubmitToTheSandbox(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ev := &rawEvents{}
	sb := sandbox.New(ev, sandbox.Options{Senders: f.db, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})
	t.Cleanup(sb.Close)
	tpl := mustCreate(t, f, f.tn, good())
	sub, err := templates.Submit(ctx, f.tn, f.owner, sb, tpl.ID, "")
	if err != nil {
		t.Fatalf("submit to the sandbox: %v", err)
	}
	want := models.SandboxSenderID(f.biz.ID)
	if sub.Status != templates.StatePending || sub.ExternalID == "" || sub.AccountID != want {
		t.Fatalf("stored: %s %q %q (want account %q)", sub.Status, sub.ExternalID, sub.AccountID, want)
	}
	sb.Wait()
	if len(ev.got) != 1 {
		t.Fatalf("%d sandbox events", len(ev.got))
	}
	// The verdict as the intake will hand it over.
	err = templates.Events{DB: f.db}.ApplyTemplateEvent(ctx, channel.TemplateEvent{AccountID: want, ExternalID: sub.ExternalID,
		Kind: channel.TemplateStatus, Status: "APPROVED", Reason: "NONE", At: f.clock.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := templates.Get(ctx, f.tn, tpl.ID); g.Status != templates.StateApproved {
		t.Errorf("after the verdict: %s", g.Status)
	}
}
