package campaigns_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/messages"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type seed struct {
	t   testing.TB
	db  *models.DB
	tn  models.Tenant
	ctx context.Context
}

func newSeed(t testing.TB, name string) (*seed, *dbtest.Clock) {
	t.Helper()
	db, clock := dbtest.OpenClocked(t)
	return &seed{t: t, db: db, tn: dbtest.Business(t, db, name), ctx: context.Background()}, clock
}

func (s *seed) other(name string) *seed {
	return &seed{t: s.t, db: s.db, tn: dbtest.Business(s.t, s.db, name), ctx: s.ctx}
}

// campaign makes a campaign row in state, started at t0.
func (s *seed) campaign(name, state string) *campaigns.Campaign {
	s.t.Helper()
	now := s.db.Now()
	start := t0
	c := &campaigns.Campaign{BusinessID: s.tn.BusinessID(), Name: name, TemplateID: 1, TemplateName: "offer_v1", Category: "MARKETING",
		State: state, TimeZone: "Europe/Berlin", FitMode: campaigns.FitRefuse, SkipLandlines: true, CreatedAt: now, UpdatedAt: now}
	if state != campaigns.Draft {
		c.StartedAt, c.FrozenAt = &start, &start
	}
	if err := s.tn.Gorm(s.ctx).Create(c).Error; err != nil {
		s.t.Fatal(err)
	}
	return c
}

// contact makes an opted-in contact.
func (s *seed) contact(name, phone string) int64 {
	s.t.Helper()
	c, err := contacts.Create(s.ctx, s.tn, contacts.ContactInput{Phone: phone, Name: name,
		Consent: contacts.ConsentInput{Source: "web_form", Date: "2026-01-10", Wording: "Yes, send me offers"}}, "system")
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

// msg is one message of campaign c to contact (0: none) with set applied
// (column → value; times as offsets from t0 in seconds via at()).
func (s *seed) msg(c *campaigns.Campaign, contact int64, phone string, set map[string]any) int64 {
	s.t.Helper()
	n := messages.New{CampaignID: &c.ID, TemplateName: "offer_v1", TemplateLanguage: "de", To: phone}
	if contact != 0 {
		n.ContactID = &contact
	}
	ms, err := messages.Queue(s.ctx, s.tn, []messages.New{n})
	if err != nil {
		s.t.Fatal(err)
	}
	if st, ok := set["state"].(string); ok {
		set["state_rank"] = messages.Rank(st)
	}
	if len(set) > 0 {
		if err := s.tn.Scoped(s.ctx).Table("messages").Where("id = ?", ms[0].ID).Updates(set).Error; err != nil {
			s.t.Fatal(err)
		}
	}
	return ms[0].ID
}

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func phone(i int) string { return fmt.Sprintf("+49151%08d", i) }

// full seeds a finished campaign with every kind of outcome and returns it
// with the contact ids by name.
func (s *seed) full() (*campaigns.Campaign, map[string]int64) {
	c := s.campaign("Spring offer", campaigns.Done)
	ids := map[string]int64{}
	add := func(name string, i int, set map[string]any) {
		ids[name] = s.contact(name, phone(i))
		s.msg(c, ids[name], phone(i), set)
	}
	// 2 read, 2 delivered (one with a failure after delivery), 1 sent, 1
	// accepted, 1 unconfirmed, 3 failed (2 × 131026, 1 × 130429), 2
	// skipped (opted out, suppressed), 1 left out, 1 queued.
	add("Anna Read", 1, map[string]any{"state": messages.Read, "wamid": "w1", "claimed_at": at(1), "sent_at": at(2), "delivered_at": at(70), "read_at": at(200), "country": "DE", "category": "marketing"})
	add("Ben Read", 2, map[string]any{"state": messages.Read, "wamid": "w2", "sent_at": at(3), "read_at": at(4000), "country": "DE", "category": "marketing"})
	add("Cleo Delivered", 3, map[string]any{"state": messages.Delivered, "wamid": "w3", "sent_at": at(3), "delivered_at": at(65), "country": "DE", "category": "marketing"})
	add("Dan Delivered", 4, map[string]any{"state": messages.Delivered, "wamid": "w4", "sent_at": at(3), "delivered_at": at(66), "failed_at": at(90),
		"error_code": 131026, "error_title": "Message undeliverable", "country": "DE", "category": "marketing"})
	add("Eve Sent", 5, map[string]any{"state": messages.Sent, "wamid": "w5", "sent_at": at(4)})
	add("Finn Accepted", 6, map[string]any{"state": messages.Accepted, "wamid": "w6"})
	add("Gil Unconfirmed", 7, map[string]any{"state": messages.Unconfirmed, "claimed_at": at(1)})
	add("Hana Failed", 8, map[string]any{"state": messages.Failed, "wamid": "w8", "failed_at": at(5), "error_code": 131026, "error_title": "Message undeliverable"})
	add("Ivo Failed", 9, map[string]any{"state": messages.Failed, "failed_at": at(5), "error_code": 131026, "error_title": "Message undeliverable", "error_detail": "=cmd|' /C calc'!A0"})
	add("Jo Failed", 10, map[string]any{"state": messages.Failed, "failed_at": at(6), "error_code": 130429, "error_title": "Rate limit hit"})
	add("Kai Skipped", 11, map[string]any{"state": messages.Skipped, "skip_reason": "opted_out"})
	add("Lu Skipped", 12, map[string]any{"state": messages.Skipped, "skip_reason": "suppressed"})
	add("Mo LeftOut", 13, map[string]any{"state": messages.Skipped, "skip_reason": campaigns.SkipLeftOut})
	add("Nia Queued", 14, nil)
	return c, ids
}

func TestFunnelCountsEveryState(t *testing.T) {
	t.Parallel()
	s, clock := newSeed(t, "Café Rosa")
	clock.Advance(time.Hour)
	c, ids := s.full()
	// Replies: Anna within 24 h of her message; Ben 25 h after (no);
	// Cleo before the message was sent (no); Dan twice (counts once).
	reply := func(name string, when time.Time, w string) {
		cid := ids[name]
		if _, err := messages.RecordInbound(s.ctx, s.tn, messages.Inbound{ContactID: &cid, WAMID: w, Kind: "text", Body: "hi", SentAt: when}); err != nil {
			t.Fatal(err)
		}
	}
	reply("Anna Read", at(3600), "in1")
	reply("Ben Read", at(3+25*3600), "in2")
	reply("Cleo Delivered", at(-60), "in3")
	reply("Dan Delivered", at(100), "in4")
	reply("Dan Delivered", at(200), "in5")
	// Opted out after the start: Eve (STOP after the message) and Kai
	// (skipped for it); Finn opted out before the campaign started: not
	// counted.
	for _, name := range []string{"Eve Sent", "Kai Skipped"} {
		if err := contacts.OptOut(s.ctx, s.tn, ids[name], "whatsapp", "webhook"); err != nil {
			t.Fatal(err)
		}
	}
	if err := contacts.OptOut(s.ctx, s.tn, ids["Finn Accepted"], "whatsapp", "webhook"); err != nil {
		t.Fatal(err)
	}
	if err := s.tn.Scoped(s.ctx).Table("contacts").Where("id = ?", ids["Finn Accepted"]).Update("opted_out_at", t0.Add(-time.Hour)).Error; err != nil {
		t.Fatal(err)
	}

	f, err := campaigns.Funnel(s.ctx, s.tn, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := campaigns.FunnelCounts{Recipients: 13, Accepted: 7, Sent: 5, Delivered: 4, Read: 2, Replied: 2, Failed: 3, Unconfirmed: 1,
		Pending: 1, Skipped: 2, LeftOut: 1, OptedOut: 2}
	got := f
	got.SkippedBy = nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("funnel\n got %+v\nwant %+v", got, want)
	}
	if fmt.Sprint(f.SkippedBy) != "[{opted_out 1} {suppressed 1}]" {
		t.Errorf("skipped by %v", f.SkippedBy)
	}

	// Failures: grouped by code, largest first, with explanation and
	// whether a retry may help; the failure after delivery is not one.
	fg, err := campaigns.Failures(s.ctx, s.tn, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(fg) != 2 || fg[0].Code != 131026 || fg[0].N != 2 || fg[0].Retryable || fg[0].Explanation != "report.error.131026" ||
		fg[1].Code != 130429 || fg[1].N != 1 || !fg[1].Retryable || fg[1].Title != "Rate limit hit" {
		t.Errorf("failures %+v", fg)
	}

	// Progress of a finished campaign: 100 %, one still queued counted as
	// pending.
	_, p, err := campaigns.ProgressAt(s.ctx, s.tn, c.ID, at(600))
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 13 || p.Handled != 12 || p.Percent != 100 || p.Counts.ByState[messages.Failed] != 3 {
		t.Errorf("progress %+v", p)
	}
}

func TestProgressWhileSending(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Laden")
	c := s.campaign("Now", campaigns.Sending)
	for i := 0; i < 10; i++ {
		set := map[string]any{}
		if i < 4 {
			set = map[string]any{"state": messages.Accepted, "wamid": fmt.Sprintf("w%d", i)}
		}
		s.msg(c, 0, phone(i), set)
	}
	_, p, err := campaigns.ProgressAt(s.ctx, s.tn, c.ID, at(8))
	if err != nil {
		t.Fatal(err)
	}
	// 4 of 10 in 8 s: 0.5/s, 6 left: 12 s.
	if p.Percent != 40 || p.PerSecond != 0.5 || p.ETA != 12*time.Second || p.State != campaigns.Sending {
		t.Errorf("progress %+v", p)
	}
	// Outside the send window: waiting, no ETA, the opening time given.
	ws, we := 9*60, 10*60
	if err := s.tn.Scoped(s.ctx).Model(&campaigns.Campaign{}).Where("id = ?", c.ID).Updates(map[string]any{"window_start": ws, "window_end": we}).Error; err != nil {
		t.Fatal(err)
	}
	_, p, _ = campaigns.ProgressAt(s.ctx, s.tn, c.ID, at(8)) // 10:00 in Berlin: the window just closed
	if !p.Waiting || p.ETA != 0 || !p.WindowOpens.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("outside window %+v", p)
	}
}

func TestDeliveryOverTimeBuckets(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Laden")
	c := s.full2()
	b, err := campaigns.DeliveryOverTime(s.ctx, s.tn, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Events from 09:00:00 to 09:30: a minute each, 31 buckets.
	if b.Step != time.Minute || len(b.Starts) != 31 || !b.Starts[0].Equal(t0) {
		t.Fatalf("step %v, %d buckets from %v", b.Step, len(b.Starts), b.Starts)
	}
	if b.Sent[0] != 3 || b.Delivered[1] != 2 || b.Read[30] != 1 || sum(b.Sent) != 3 || sum(b.Delivered) != 2 || sum(b.Read) != 1 {
		t.Errorf("buckets sent %v delivered %v read %v", b.Sent, b.Delivered, b.Read)
	}
	// A read 3 days later: hourly buckets (72 h fit 72 of them).
	s.msg(c, 0, phone(50), map[string]any{"state": messages.Read, "sent_at": at(10), "read_at": at(3 * 86400)})
	b, _ = campaigns.DeliveryOverTime(s.ctx, s.tn, c.ID)
	if b.Step != time.Hour || len(b.Starts) != 73 || sum(b.Sent) != 4 || sum(b.Read) != 2 || b.Read[len(b.Read)-1] != 1 {
		t.Errorf("long span: step %v, %d buckets, read %v", b.Step, len(b.Starts), b.Read)
	}
	// Nothing sent yet: no buckets.
	empty := s.campaign("Empty", campaigns.Sending)
	if b, err := campaigns.DeliveryOverTime(s.ctx, s.tn, empty.ID); err != nil || len(b.Starts) != 0 {
		t.Errorf("empty: %v %v", b, err)
	}
	if campaigns.StepFor(72*time.Minute) != time.Minute || campaigns.StepFor(73*time.Minute) != 5*time.Minute || campaigns.StepFor(60*24*time.Hour) != 24*time.Hour || campaigns.StepFor(400*24*time.Hour) != 7*24*time.Hour {
		t.Error("StepFor")
	}
}

func (s *seed) full2() *campaigns.Campaign {
	c := s.campaign("Timed", campaigns.Done)
	s.msg(c, 0, phone(1), map[string]any{"state": messages.Delivered, "sent_at": at(1), "delivered_at": at(61)})
	s.msg(c, 0, phone(2), map[string]any{"state": messages.Delivered, "sent_at": at(2), "delivered_at": at(62)})
	s.msg(c, 0, phone(3), map[string]any{"state": messages.Read, "sent_at": at(59).Add(987654321), "read_at": at(1800)})
	return c
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

func TestMessagesFilterAndTimeline(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Café Rosa")
	c, _ := s.full()
	all, next, err := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{})
	if err != nil || len(all) != 14 || next != 0 {
		t.Fatalf("all: %d next %d %v", len(all), next, err)
	}
	failed, _, _ := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{State: messages.Failed})
	if len(failed) != 3 {
		t.Errorf("failed: %d", len(failed))
	}
	code := 131026
	byCode, _, _ := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{Code: &code})
	if len(byCode) != 3 { // two failed and the one failed after delivery
		t.Errorf("by code: %d", len(byCode))
	}
	byName, _, _ := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{Query: "anna"})
	if len(byName) != 1 || byName[0].ContactName != "Anna Read" {
		t.Errorf("by name: %+v", byName)
	}
	byPhone, _, _ := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{Query: "0000 0012"})
	if len(byPhone) != 1 || byPhone[0].Phone != phone(12) {
		t.Errorf("by phone: %+v", byPhone)
	}
	if _, _, err := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{State: "bogus"}); !isValidation(err) {
		t.Errorf("bad state: %v", err)
	}
	// Pages by cursor: 5 + 5 + 4, no row twice.
	seen := map[int64]bool{}
	f := campaigns.MessageFilter{Limit: 5}
	pages := 0
	for {
		rows, next, err := campaigns.Messages(s.ctx, s.tn, c.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range rows {
			if seen[r.ID] {
				t.Errorf("row %d twice", r.ID)
			}
			seen[r.ID] = true
		}
		if next == 0 {
			break
		}
		f.Cursor = next
	}
	if pages != 3 || len(seen) != 14 {
		t.Errorf("%d pages, %d rows", pages, len(seen))
	}
	// Timeline: Dan's failure after delivery comes after it.
	var kinds []string
	for _, e := range campaigns.MessageEvents(byCode[0]) {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "created,accepted,sent,delivered,failed" {
		t.Errorf("timeline %v", kinds)
	}
	kinds = nil
	for _, e := range campaigns.MessageEvents(all[0]) {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "created,claimed,accepted,sent,delivered,read" {
		t.Errorf("timeline %v", kinds)
	}
}

func TestListRatesAndCost(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Café Rosa")
	c, _ := s.full()
	draft := s.campaign("Later", campaigns.Draft)
	rows, err := campaigns.List(s.ctx, s.tn)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != draft.ID || rows[1].ID != c.ID {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[1]
	if r.Recipients != 13 || r.Sent != 5 || r.Delivered != 4 || r.Read != 2 || r.Failed != 3 {
		t.Errorf("row %+v", r)
	}
	if campaigns.Rate(r.Delivered, r.Sent) != 800 {
		t.Errorf("delivered rate %d", campaigns.Rate(r.Delivered, r.Sent))
	}
	// 4 delivered marketing messages to Germany at the example card's
	// EUR 0.1131 (schema 15): EUR 0.4524.
	if !r.Cost.Amount.Equal(decimal.RequireFromString("0.4524")) || r.Cost.Currency != "EUR" || r.Cost.Billed != 4 {
		t.Errorf("cost %+v", r.Cost)
	}
	if rows[0].Cost.Known() || rows[0].Recipients != 0 {
		t.Errorf("draft %+v", rows[0])
	}
}

func TestCostFollowsTheCardInForceAtDelivery(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Laden")
	c := s.campaign("Cards", campaigns.Done)
	// A new card from 1 June 2026: marketing DE 0.2000, default 0.1500.
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := s.db.Gorm.Exec("INSERT INTO rate_cards (name, currency, effective_from, example, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		"June", "EUR", from, false, "", t0).Error; err != nil {
		t.Fatal(err)
	}
	var cardID int64
	s.db.Gorm.Raw("SELECT MAX(id) FROM rate_cards").Scan(&cardID)
	for _, p := range []struct{ country, price string }{{"DE", "0.2000"}, {"", "0.1500"}} {
		if err := s.db.Gorm.Exec("INSERT INTO rate_card_prices (card_id, category, country, price) VALUES (?, ?, ?, ?)", cardID, "marketing", p.country, p.price).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Before June: example card 0.1131; after: 0.2000 (DE), 0.1500 (FR by
	// default); a utility message inside an open window before October is
	// free.
	s.msg(c, 0, phone(1), map[string]any{"state": messages.Delivered, "delivered_at": from.Add(-time.Hour), "country": "DE", "category": "marketing"})
	s.msg(c, 0, phone(2), map[string]any{"state": messages.Read, "delivered_at": from.Add(time.Hour), "read_at": from.Add(2 * time.Hour), "country": "DE", "category": "marketing"})
	s.msg(c, 0, "+33612345678", map[string]any{"state": messages.Delivered, "delivered_at": from.Add(time.Hour), "country": "FR", "category": "marketing"})
	s.msg(c, 0, phone(4), map[string]any{"state": messages.Delivered, "delivered_at": from.Add(time.Hour), "country": "DE", "category": "utility", "window_open": true})
	s.msg(c, 0, phone(5), map[string]any{"state": messages.Failed, "failed_at": from, "country": "DE", "category": "marketing"})
	cost, err := campaigns.CostSoFar(s.ctx, s.tn, c)
	if err != nil {
		t.Fatal(err)
	}
	if !cost.Amount.Equal(decimal.RequireFromString("0.4631")) || cost.Billed != 3 || cost.Free != 1 || cost.Unpriced != 0 {
		t.Errorf("cost %+v (%s)", cost, cost.Amount)
	}
}

func TestReportIsolation(t *testing.T) {
	t.Parallel()
	a, _ := newSeed(t, "A")
	c, ids := a.full()
	b := a.other("B")
	if _, err := campaigns.Funnel(b.ctx, b.tn, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("funnel: %v", err)
	}
	if _, err := campaigns.Progress(b.ctx, b.tn, c.ID); !isNotFound(err) {
		t.Errorf("progress: %v", err)
	}
	if _, err := campaigns.Failures(b.ctx, b.tn, c.ID); !isNotFound(err) {
		t.Errorf("failures: %v", err)
	}
	if _, err := campaigns.DeliveryOverTime(b.ctx, b.tn, c.ID); !isNotFound(err) {
		t.Errorf("over time: %v", err)
	}
	if _, _, err := campaigns.Messages(b.ctx, b.tn, c.ID, campaigns.MessageFilter{}); !isNotFound(err) {
		t.Errorf("messages: %v", err)
	}
	var buf bytes.Buffer
	if _, err := campaigns.Export(b.ctx, b.tn, c.ID, campaigns.MessageFilter{}, false, &buf); !isNotFound(err) || buf.Len() != 0 {
		t.Errorf("export: %v, %d bytes", err, buf.Len())
	}
	if rows, _ := campaigns.List(b.ctx, b.tn); len(rows) != 0 {
		t.Errorf("B lists %d campaigns", len(rows))
	}
	if rows, _ := campaigns.ContactMessages(b.ctx, b.tn, ids["Anna Read"], 10); len(rows) != 0 {
		t.Errorf("B sees A's contact's messages")
	}
	if rows, _ := campaigns.ContactMessages(a.ctx, a.tn, ids["Anna Read"], 10); len(rows) != 1 || rows[0].CampaignName != "Spring offer" {
		t.Errorf("A's contact messages %+v", rows)
	}
}

func isNotFound(err error) bool { return errors.Is(err, models.ErrNotFound) }

func TestExportCSVAndXLSX(t *testing.T) {
	t.Parallel()
	s, _ := newSeed(t, "Café Rosa")
	c, _ := s.full()
	var buf bytes.Buffer
	n, err := campaigns.Export(s.ctx, s.tn, c.ID, campaigns.MessageFilter{State: messages.Failed}, false, &buf)
	if err != nil || n != 3 {
		t.Fatalf("csv: %d %v", n, err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "message_id" || recs[2][2] != "Ivo Failed" || recs[2][5] != "131026" {
		t.Fatalf("csv %v", recs)
	}
	if got := recs[2][7]; !strings.HasPrefix(got, "'=") {
		t.Errorf("formula not neutralised: %q", got)
	}
	buf.Reset()
	if n, err = campaigns.Export(s.ctx, s.tn, c.ID, campaigns.MessageFilter{}, true, &buf); err != nil || n != 14 {
		t.Fatalf("xlsx: %d %v", n, err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Messages")
	if len(rows) != 15 || rows[1][2] != "Anna Read" || rows[1][1] != phone(1) {
		t.Fatalf("xlsx rows %v", rows[:2])
	}
	// The formula stays text: no formula cell, the value as written.
	for i, r := range rows {
		if len(r) > 7 && strings.HasPrefix(r[7], "=") {
			cell, _ := excelize.CoordinatesToCellName(8, i+1)
			if fm, _ := f.GetCellFormula("Messages", cell); fm != "" {
				t.Errorf("formula in %s: %q", cell, fm)
			}
			if ty, _ := f.GetCellType("Messages", cell); ty == excelize.CellTypeFormula {
				t.Errorf("%s is a formula cell", cell)
			}
		}
	}
}

func isValidation(err error) bool { _, ok := models.AsValidation(err); return ok }
