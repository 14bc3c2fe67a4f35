package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
)

// seedContacts adds n contacts in consent state to tn, tagged tag.
func seedContacts(t *testing.T, db *models.DB, tn models.Tenant, n int, prefix, consent, tag string) []int64 {
	t.Helper()
	now := db.Now()
	rows := make([]contacts.Contact, n)
	for i := range rows {
		phone := fmt.Sprintf("+49151%s%05d", prefix, i)
		rows[i] = contacts.Contact{BusinessID: tn.BusinessID(), Phone: phone, PhoneHash: contacts.PhoneHash(phone), FirstName: "F",
			Attrs: contacts.Attrs{}, ConsentState: consent, CreatedAt: now, UpdatedAt: now}
	}
	if err := db.Gorm.CreateInBatches(&rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
		if tag != "" {
			if err := db.Gorm.Exec(`INSERT INTO contact_tags (business_id, contact_id, tag) VALUES (?, ?, ?)`, tn.BusinessID(), r.ID, tag).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

func newCampaign(t *testing.T, db *models.DB, tn models.Tenant, mut func(*campaigns.Campaign)) *campaigns.Campaign {
	t.Helper()
	now := db.Now()
	c := &campaigns.Campaign{BusinessID: tn.BusinessID(), Name: "Offer", TemplateID: 1, TemplateName: "offer_v1", TemplateLanguage: "de",
		Category: "UTILITY", Mapping: campaigns.Mapping{}, SegmentIDs: campaigns.IDList{}, AllContacts: true, FitMode: campaigns.FitRefuse,
		State: campaigns.Sending, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	if mut != nil {
		mut(c)
	}
	if err := db.Gorm.Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func countBy(t *testing.T, db *models.DB, c *campaigns.Campaign) map[string]int {
	t.Helper()
	var rows []struct {
		State, SkipReason, Category string
		N                           int
	}
	db.Gorm.Raw(`SELECT state, skip_reason, category, COUNT(*) AS n FROM messages WHERE campaign_id = ? GROUP BY state, skip_reason, category`, c.ID).Scan(&rows)
	out := map[string]int{}
	for _, r := range rows {
		out[r.State+":"+r.SkipReason+":"+r.Category] = r.N
	}
	return out
}

// Freezing takes the audience's recipients as they are (segment, minus
// the exclusion segment, only opted in, not suppressed, no other
// business's), once however often it runs; beyond the fit the rest are
// recorded as left out.
func TestFreezeAudienceOnceWithFit(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	tn := dbtest.Business(t, db, "Bakery")
	other := dbtest.Business(t, db, "Other")
	vip := seedContacts(t, db, tn, 30, "1", contacts.ConsentOptedIn, "vip")
	seedContacts(t, db, tn, 5, "2", contacts.ConsentOptedOut, "vip")
	seedContacts(t, db, tn, 5, "3", contacts.ConsentNone, "vip")
	seedContacts(t, db, tn, 7, "4", contacts.ConsentOptedIn, "")
	seedContacts(t, db, other, 9, "5", contacts.ConsentOptedIn, "vip")
	for _, id := range vip[:4] {
		db.Gorm.Exec(`INSERT INTO contact_tags (business_id, contact_id, tag) VALUES (?, ?, 'staff')`, tn.BusinessID(), id)
	}
	var one contacts.Contact
	db.Gorm.First(&one, vip[10])
	if err := contacts.OptOutPhone(ctx, tn, one.Phone, "complaint", "test", db.Now()); err != nil {
		t.Fatal(err)
	}
	seg, err := contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "VIP", All: []string{"vip"}})
	if err != nil {
		t.Fatal(err)
	}
	staff, err := contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "Staff", All: []string{"staff"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCampaign(t, db, tn, func(c *campaigns.Campaign) {
		c.AllContacts, c.SegmentIDs, c.ExcludeSegmentID, c.FitMode = false, campaigns.IDList{seg.ID}, &staff.ID, campaigns.FitPartial
	})
	// 30 VIPs, minus 4 staff, minus 1 suppressed: 25; 20 fit.
	for range 2 {
		n, err := campaigns.Freeze(ctx, tn, c, 20)
		if err != nil || n != 20 {
			t.Fatalf("freeze: %d %v", n, err)
		}
	}
	if got := countBy(t, db, c); got["queued::utility"] != 20 || got["skipped:left_out:utility"] != 5 || len(got) != 2 {
		t.Fatalf("messages %v", got)
	}
	got, err := campaigns.Load(ctx, tn, c.ID)
	if err != nil || got.Recipients != 20 || got.LeftOut != 5 || got.FrozenAt == nil {
		t.Fatalf("campaign %+v %v", got, err)
	}
	// The left-out ones are the last by contact id.
	var maxQueued, minLeft int64
	db.Gorm.Raw(`SELECT MAX(contact_id) FROM messages WHERE campaign_id = ? AND state = 'queued'`, c.ID).Scan(&maxQueued)
	db.Gorm.Raw(`SELECT MIN(contact_id) FROM messages WHERE campaign_id = ? AND state = 'skipped'`, c.ID).Scan(&minLeft)
	if maxQueued > minLeft {
		t.Fatalf("left out %d before queued %d", minLeft, maxQueued)
	}
	// Another business cannot freeze it.
	if _, err := campaigns.Freeze(ctx, other, c, -1); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("freeze from another business: %v", err)
	}
	all := newCampaign(t, db, tn, nil)
	if n, err := campaigns.Freeze(ctx, tn, all, -1); err != nil || n != 36 { // 30 VIP − 1 suppressed + 7 untagged
		t.Fatalf("all contacts: %d %v", n, err)
	}
}

// The campaign's transitions: pause and resume, cancel skips what is
// queued, done only when nothing is queued or being sent.
func TestTransitions(t *testing.T) {
	db := dbtest.Open(t)
	ctx := context.Background()
	tn := dbtest.Business(t, db, "Bakery")
	other := dbtest.Business(t, db, "Other")
	seedContacts(t, db, tn, 6, "1", contacts.ConsentOptedIn, "")
	c := newCampaign(t, db, tn, nil)
	if _, err := campaigns.Freeze(ctx, tn, c, -1); err != nil {
		t.Fatal(err)
	}
	if done, err := campaigns.Finish(ctx, tn, c.ID); err != nil || done {
		t.Fatalf("finished with messages queued: %v %v", done, err)
	}
	if _, err := campaigns.Pause(ctx, other, c.ID, campaigns.ReasonStaff); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("pause from another business: %v", err)
	}
	p, err := campaigns.Pause(ctx, tn, c.ID, campaigns.ReasonTemplatePaused)
	if err != nil || p.State != campaigns.Paused || p.StateReason != campaigns.ReasonTemplatePaused {
		t.Fatalf("pause: %+v %v", p, err)
	}
	r, moved, err := campaigns.Resume(ctx, tn, c.ID)
	if err != nil || !moved || r.State != campaigns.Sending || r.StateReason != "" {
		t.Fatalf("resume: %+v %v %v", r, moved, err)
	}
	if _, moved, _ := campaigns.Resume(ctx, tn, c.ID); moved {
		t.Fatal("resumed twice")
	}
	claimed, err := campaigns.Claim(ctx, tn, c.ID, 0, 2, db.Now())
	if err != nil || len(claimed) != 2 || !claimed[0].OptedIn || claimed[0].Contact == nil {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	x, err := campaigns.Cancel(ctx, tn, c.ID)
	if err != nil || x.State != campaigns.Cancelled || x.CancelledAt == nil {
		t.Fatalf("cancel: %+v %v", x, err)
	}
	if got := countBy(t, db, c); got["skipped:cancelled:utility"] != 4 || got["sending::utility"] != 2 {
		t.Fatalf("after cancel: %v", got)
	}
	if _, err := campaigns.Pause(ctx, tn, c.ID, campaigns.ReasonStaff); !errors.Is(err, campaigns.ErrState) {
		t.Fatalf("pause a cancelled campaign: %v", err)
	}
	// Done waits for the claims in flight.
	d := newCampaign(t, db, tn, nil)
	campaigns.Freeze(ctx, tn, d, -1)
	cl, _ := campaigns.Claim(ctx, tn, d.ID, 0, 6, db.Now())
	if done, _ := campaigns.Finish(ctx, tn, d.ID); done {
		t.Fatal("done while messages are being sent")
	}
	outs := make([]campaigns.Outcome, len(cl))
	for i, m := range cl {
		outs[i] = campaigns.Outcome{ID: m.ID, Kind: campaigns.OutAccepted, WAMID: fmt.Sprintf("wamid.%d", m.ID), Attempted: true}
	}
	if err := campaigns.Record(ctx, tn, outs, db.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if done, err := campaigns.Finish(ctx, tn, d.ID); err != nil || !done {
		t.Fatalf("finish: %v %v", done, err)
	}
}
