package sending_test

import (
	"context"
	"testing"
	"time"

	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/sending"
)

// Starting freezes the audience once however often it is called, and the
// run sends each recipient exactly once, with the variables rendered.
func TestStartFreezesOnceAndSendsEachOnce(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	f.contacts(45, "")
	c := f.campaign(nil)
	e := f.engine(sending.Options{})
	for range 3 {
		if err := e.Start(ctx, f.tn, f.owner, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	got := f.load(c.ID)
	if got.State != campaigns.Sending || got.Recipients != 45 || got.FrozenAt == nil {
		t.Fatalf("after start: state %s recipients %d frozen %v", got.State, got.Recipients, got.FrozenAt)
	}
	// Freezing again adds nobody.
	if n, err := campaigns.Freeze(ctx, f.tn, got, -1); err != nil || n != 45 {
		t.Fatalf("second freeze: %d %v", n, err)
	}
	if st := f.states(c.ID); st["queued"] != 45 || len(st) != 1 {
		t.Fatalf("states %v", st)
	}
	f.drive(e, c, "job 1", 20*time.Second)
	if got := f.load(c.ID); got.State != campaigns.Done || got.FinishedAt == nil {
		t.Fatalf("state %s", got.State)
	}
	if st := f.states(c.ID); st["accepted"] != 45 {
		t.Fatalf("states %v", st)
	}
	if n := len(f.p.sends()); n != 45 {
		t.Fatalf("platform got %d messages", n)
	}
	f.noDuplicates()
	var m struct {
		BodyParams, Country, Category string
		WindowOpen                    *bool
		Wamid                         *string
	}
	if err := f.db.Gorm.Raw(`SELECT body_params, country, category, window_open, wamid FROM messages WHERE campaign_id = ? ORDER BY id LIMIT 1`, c.ID).Scan(&m).Error; err != nil {
		t.Fatal(err)
	}
	if m.BodyParams != `["Name0","20 %"]` || m.Country != "DE" || m.Category != "marketing" || m.WindowOpen == nil || *m.WindowOpen || m.Wamid == nil {
		t.Fatalf("stored message %+v", m)
	}
}
