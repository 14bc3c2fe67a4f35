package campaigns_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/models/templates"
)

type fx struct {
	t     testing.TB
	ctx   context.Context
	db    *models.DB
	clock *dbtest.Clock
	tn    models.Tenant
	tpl   *templates.Template
	vip   *contacts.Segment
	staff *contacts.Segment
}

func newFx(t testing.TB) *fx {
	t.Helper()
	db, clock := dbtest.OpenClocked(t)
	f := &fx{t: t, ctx: context.Background(), db: db, clock: clock}
	f.tn = f.business("Bäckerei Kraus", "Europe/Berlin")
	f.tpl = f.template(f.tn, "spring_offer", templates.StateApproved)
	f.vip = f.segment(f.tn, "VIPs", "vip")
	f.staff = f.segment(f.tn, "Staff", "staff")
	return f
}

func (f *fx) business(name, zone string) models.Tenant {
	f.t.Helper()
	tn := dbtest.Business(f.t, f.db, name)
	now := f.db.Now()
	p := &profiles.Profile{BusinessID: tn.BusinessID(), Vertical: "UNDEFINED", TimeZone: zone, Currency: "EUR", CreatedAt: now, UpdatedAt: now}
	if err := f.db.Gorm.Create(p).Error; err != nil {
		f.t.Fatal(err)
	}
	f.exec("UPDATE businesses SET messaging_tier = 250 WHERE id = ?", tn.BusinessID())
	return tn
}

func (f *fx) exec(q string, args ...any) {
	f.t.Helper()
	if err := f.db.Gorm.Exec(q, args...).Error; err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fx) template(tn models.Tenant, name, status string) *templates.Template {
	f.t.Helper()
	now := f.db.Now()
	tp := &templates.Template{BusinessID: tn.BusinessID(), Name: name, Language: "de", Category: "MARKETING",
		Header: "Hallo {{1}}", Body: "Hi {{1}}, today {{2}} off for you.", Footer: "Reply STOP to opt out",
		ButtonsJSON: `[{"Type":"URL","Text":"Shop","URL":"https://shop.example/{{1}}"}]`, BodySamplesJSON: `["Anna","10%"]`,
		Status: status, Quality: "UNKNOWN", CreatedAt: now, UpdatedAt: now}
	if err := f.db.Gorm.Create(tp).Error; err != nil {
		f.t.Fatal(err)
	}
	return tp
}

func (f *fx) segment(tn models.Tenant, name, tag string) *contacts.Segment {
	f.t.Helper()
	s, err := contacts.CreateSegment(f.ctx, tn, contacts.SegmentInput{Name: name, All: []string{tag}})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

type person struct {
	phone, first, consent string
	landline              bool
	attrs                 contacts.Attrs
	tags                  []string
}

func (f *fx) contact(tn models.Tenant, p person) *contacts.Contact {
	f.t.Helper()
	now := f.db.Now()
	if p.consent == "" {
		p.consent = contacts.ConsentOptedIn
	}
	c := &contacts.Contact{BusinessID: tn.BusinessID(), Phone: p.phone, PhoneHash: contacts.PhoneHash(p.phone), Name: p.first + " Muster",
		FirstName: p.first, LastName: "Muster", Attrs: p.attrs, ConsentState: p.consent, Landline: p.landline, CreatedAt: now, UpdatedAt: now}
	if err := f.db.Gorm.Create(c).Error; err != nil {
		f.t.Fatal(err)
	}
	for _, tag := range p.tags {
		f.exec("INSERT INTO contact_tags (business_id, contact_id, tag) VALUES (?, ?, ?)", tn.BusinessID(), c.ID, tag)
	}
	return c
}

func (f *fx) suppress(tn models.Tenant, phone string) {
	f.exec("INSERT INTO suppressions (business_id, phone_hash, opted_out_at, source, created_at) VALUES (?, ?, ?, 'manual', ?)",
		tn.BusinessID(), contacts.PhoneHash(phone), f.db.Now(), f.db.Now())
}

// mapping fills the template's variables: header and body {{1}} with the
// first name (fallback fb), body {{2}} a fixed text, the URL suffix an
// attribute.
func mapping(fb string) campaigns.Mapping {
	return campaigns.Mapping{
		{Part: "header", N: 1, Source: campaigns.SourceField, Key: "first_name", Fallback: fb},
		{Part: "body", N: 1, Source: campaigns.SourceField, Key: "first_name", Fallback: fb},
		{Part: "body", N: 2, Source: campaigns.SourceText, Key: "10%"},
		{Part: "url", N: 0, Source: campaigns.SourceAttr, Key: "code", Fallback: "spring"},
	}
}

func (f *fx) input() campaigns.Input {
	return campaigns.Input{Name: "Spring offer", TemplateID: f.tpl.ID, Mapping: mapping("friend"), SegmentIDs: []int64{f.vip.ID},
		SkipLandlines: true, FitMode: campaigns.FitRefuse, SendNow: true}
}

func fields(err error) map[string]string {
	out := map[string]string{}
	if v, ok := models.AsValidation(err); ok {
		for _, p := range v.Problems {
			out[p.Field] = p.Key
		}
	}
	return out
}

func TestComposeValidation(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	_, err := campaigns.Create(f.ctx, f.tn, nil, campaigns.Input{})
	got := fields(err)
	for field, key := range map[string]string{"name": "field.required", "template_id": "campaign.template.required",
		"audience": "campaign.audience.required", "send_at": "campaign.send_at.required"} {
		if got[field] != key {
			t.Errorf("empty input: %s = %q, want %q (all: %v)", field, got[field], key, got)
		}
	}

	other := f.business("Other GmbH", "UTC")
	foreignTpl := f.template(other, "theirs", templates.StateApproved)
	foreignSeg := f.segment(other, "Theirs", "vip")
	pending := f.template(f.tn, "pending_one", templates.StatePending)
	cases := []struct {
		name  string
		edit  func(*campaigns.Input)
		field string
		key   string
	}{
		{"foreign template", func(in *campaigns.Input) { in.TemplateID = foreignTpl.ID }, "template_id", "campaign.template.unknown"},
		{"pending template", func(in *campaigns.Input) { in.TemplateID = pending.ID }, "template_id", "campaign.template.not_approved"},
		{"unmapped variable", func(in *campaigns.Input) { in.Mapping = in.Mapping[:2] }, "var_body_2", "campaign.var.required"},
		{"unknown field", func(in *campaigns.Input) { in.Mapping[0].Key = "shoe_size" }, "var_header_1", "campaign.var.field_unknown"},
		{"bad attribute", func(in *campaigns.Input) { in.Mapping[3].Key = "Bad Key!" }, "var_url_0", "campaign.var.attr_invalid"},
		{"empty text", func(in *campaigns.Input) { in.Mapping[2].Key = " " }, "var_body_2", "campaign.var.text_required"},
		{"foreign segment", func(in *campaigns.Input) { in.SegmentIDs = []int64{foreignSeg.ID} }, "audience", "campaign.audience.unknown_segment"},
		{"foreign exclusion", func(in *campaigns.Input) { in.ExcludeSegmentID = &foreignSeg.ID }, "exclude_segment_id", "campaign.exclude.unknown"},
		{"window start only", func(in *campaigns.Input) { in.WindowStart = "09:00" }, "window_end", "campaign.window.both"},
		{"window bad", func(in *campaigns.Input) { in.WindowStart, in.WindowEnd = "9am", "20:00" }, "window_start", "campaign.window.invalid"},
		{"window equal", func(in *campaigns.Input) { in.WindowStart, in.WindowEnd = "09:00", "09:00" }, "window_end", "campaign.window.same"},
		{"past time", func(in *campaigns.Input) { in.SendNow, in.SendAt = false, "2026-03-02T09:59" }, "send_at", "campaign.send_at.past"},
		{"fit mode", func(in *campaigns.Input) { in.FitMode = "maybe" }, "fit_mode", "campaign.fit_mode.invalid"},
	}
	for _, tc := range cases {
		in := f.input()
		in.Mapping = mapping("friend")
		tc.edit(&in)
		_, err := campaigns.Create(f.ctx, f.tn, nil, in)
		if got := fields(err); got[tc.field] != tc.key {
			t.Errorf("%s: %s = %q, want %q (all %v, err %v)", tc.name, tc.field, got[tc.field], tc.key, got, err)
		}
	}
	var n int64
	f.db.Gorm.Table("campaigns").Count(&n)
	if n != 0 {
		t.Fatalf("refused inputs saved %d campaigns", n)
	}

	// A valid one, scheduled at 11:30 Berlin (10:30 UTC) with a window.
	in := f.input()
	in.SendNow, in.SendAt, in.WindowStart, in.WindowEnd = false, "2026-03-02T11:30", "09:00", "20:00"
	c, err := campaigns.Create(f.ctx, f.tn, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != campaigns.Draft || c.TimeZone != "Europe/Berlin" || c.ScheduledAt == nil ||
		!c.ScheduledAt.Equal(time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)) || *c.WindowStart != 540 || *c.WindowEnd != 1200 {
		t.Fatalf("stored %+v", c)
	}
	back := campaigns.InputOf(c)
	if back.SendAt != "2026-03-02T11:30" || back.WindowStart != "09:00" || back.SendNow {
		t.Fatalf("InputOf = %+v", back)
	}
	var audits int64
	f.db.Gorm.Table("audit_events").Where("action = ?", "campaign.created").Count(&audits)
	if audits != 1 {
		t.Fatalf("%d created audit entries", audits)
	}
}

func TestSendAtAcrossDST(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Spring forward: 02:00–03:00 on 29 March 2026 does not exist.
	if _, err := campaigns.ParseSendAt("2026-03-29T02:30", berlin); fields(err)["send_at"] != "campaign.send_at.gap" {
		t.Fatalf("gap time: %v", err)
	}
	at, err := campaigns.ParseSendAt("2026-03-29T03:30", berlin)
	if err != nil || !at.Equal(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) {
		t.Fatalf("after the gap: %v %v", at, err)
	}
	// Fall back: 02:30 on 25 October 2026 happens twice; the first is CEST.
	at, err = campaigns.ParseSendAt("2026-10-25T02:30", berlin)
	if err != nil || !at.Equal(time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)) {
		t.Fatalf("ambiguous: %v %v", at, err)
	}
	for _, ok := range []string{"2026-03-29 03:30", " 2026-03-29T03:30:00 "} {
		if at, err := campaigns.ParseSendAt(ok, berlin); err != nil || !at.Equal(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("%q: %v %v", ok, at, err)
		}
	}
	for _, bad := range []string{"2026-13-01T10:00", "tomorrow", "2026-03-02T10:00:30", "2026-02-30T10:00", "2026-03-02T9:00"} {
		if _, err := campaigns.ParseSendAt(bad, berlin); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}

	// A draft scheduled across the change keeps its wall clock.
	f := newFx(t)
	f.clock.Advance(24 * 26 * time.Hour) // 28 March
	in := f.input()
	in.SendNow, in.SendAt = false, "2026-03-29T02:30"
	if _, err := campaigns.Create(f.ctx, f.tn, nil, in); fields(err)["send_at"] != "campaign.send_at.gap" {
		t.Fatalf("gap accepted: %v", err)
	}
	in.SendAt = "2026-03-29T09:00"
	c, err := campaigns.Create(f.ctx, f.tn, nil, in)
	if err != nil || !c.ScheduledAt.Equal(time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("09:00 CEST: %v %v", c, err)
	}
}

func TestWindowParse(t *testing.T) {
	t.Parallel()
	s, e, err := campaigns.ParseWindow("22:00", "06:00")
	if err != nil || *s != 1320 || *e != 360 {
		t.Fatalf("over midnight: %v %v %v", s, e, err)
	}
	if s, e, err := campaigns.ParseWindow(" ", ""); s != nil || e != nil || err != nil {
		t.Fatalf("none: %v %v %v", s, e, err)
	}
	for _, bad := range [][2]string{{"24:00", "06:00"}, {"09:60", "10:00"}, {"9:00", "10:00"}, {"", "10:00"}, {"+1:00", "10:00"}} {
		if _, _, err := campaigns.ParseWindow(bad[0], bad[1]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// audience: one contact per exclusion reason plus two recipients.
func (f *fx) audience() map[string]*contacts.Contact {
	m := map[string]*contacts.Contact{}
	m["anna"] = f.contact(f.tn, person{phone: "+4915110000001", first: "Anna", tags: []string{"vip"}, attrs: contacts.Attrs{"code": "ANNA10"}})
	m["ben"] = f.contact(f.tn, person{phone: "+4915110000002", first: "", tags: []string{"vip"}}) // no first name
	m["out"] = f.contact(f.tn, person{phone: "+4915110000003", first: "Olaf", consent: contacts.ConsentOptedOut, tags: []string{"vip"}})
	m["none"] = f.contact(f.tn, person{phone: "+4915110000004", first: "Nora", consent: contacts.ConsentNone, tags: []string{"vip"}})
	m["supp"] = f.contact(f.tn, person{phone: "+4915110000005", first: "Sven", tags: []string{"vip"}})
	f.suppress(f.tn, "+4915110000005")
	m["land"] = f.contact(f.tn, person{phone: "+4930100000006", first: "Lena", landline: true, tags: []string{"vip"}})
	m["staff"] = f.contact(f.tn, person{phone: "+4915110000007", first: "Stef", tags: []string{"vip", "staff"}})
	m["other"] = f.contact(f.tn, person{phone: "+4915110000008", first: "Otto"}) // not picked
	return m
}

func TestCountAudienceByReason(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	people := f.audience()
	// Business B's contacts never count.
	other := f.business("Other GmbH", "UTC")
	f.contact(other, person{phone: "+4915110000001", first: "Anna", tags: []string{"vip"}})

	in := f.input()
	in.ExcludeSegmentID = &f.staff.ID
	in.Mapping = mapping("") // no fallback for the first name
	c, err := campaigns.Create(f.ctx, f.tn, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	cnt, err := campaigns.CountAudience(f.ctx, f.tn, c)
	if err != nil {
		t.Fatal(err)
	}
	if cnt.Candidates != 7 || cnt.Recipients != 1 {
		t.Fatalf("count %+v", cnt)
	}
	for _, r := range campaigns.ExclusionReasons {
		if cnt.ExcludedBy(r) != 1 {
			t.Errorf("%s: %d, want 1 (%+v)", r, cnt.ExcludedBy(r), cnt)
		}
	}

	// With a fallback Ben is a recipient, shown with the fallback marked.
	in.Mapping = mapping("friend")
	if c, err = campaigns.Update(f.ctx, f.tn, nil, c.ID, in); err != nil {
		t.Fatal(err)
	}
	cnt, _ = campaigns.CountAudience(f.ctx, f.tn, c)
	if cnt.Recipients != 2 || cnt.ExcludedBy(campaigns.ExcludedMissing) != 0 {
		t.Fatalf("with fallback %+v", cnt)
	}
	pv, err := campaigns.Previews(f.ctx, f.tn, c, 3)
	if err != nil || len(pv) != 2 {
		t.Fatalf("previews %v %v", pv, err)
	}
	if pv[0].ContactID != people["anna"].ID || text(pv[0].Body) != "Hi Anna, today 10% off for you." ||
		pv[0].Buttons[0].URL != "https://shop.example/ANNA10" || pv[0].Vars[0].Fallback {
		t.Errorf("Anna's preview %+v", pv[0])
	}
	if text(pv[1].Header) != "Hallo friend" || !pv[1].Vars[0].Fallback || pv[1].Buttons[0].URL != "https://shop.example/spring" || !pv[1].Vars[3].Fallback {
		t.Errorf("Ben's preview %+v", pv[1])
	}

	// Landlines are recipients when the campaign keeps them; every contact.
	in.SkipLandlines, in.AllContacts, in.SegmentIDs = false, true, nil
	c, _ = campaigns.Update(f.ctx, f.tn, nil, c.ID, in)
	cnt, _ = campaigns.CountAudience(f.ctx, f.tn, c)
	if cnt.Candidates != 8 || cnt.Recipients != 4 || cnt.ExcludedBy(campaigns.ExcludedLandline) != 0 {
		t.Fatalf("all contacts %+v", cnt)
	}
}

func text(segs []templates.Segment) string {
	var s string
	for _, x := range segs {
		s += x.Text
	}
	return s
}

func (f *fx) card(prices map[string]string) {
	f.t.Helper()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	card := &billing.Card{Name: "Test card", Currency: "EUR", EffectiveFrom: from, CreatedAt: from}
	if err := f.db.Gorm.Create(card).Error; err != nil {
		f.t.Fatal(err)
	}
	for country, p := range prices {
		cp := &billing.CardPrice{CardID: card.ID, Category: billing.Marketing, Country: country, Price: decimal.RequireFromString(p)}
		if err := f.db.Gorm.Create(cp).Error; err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestEstimateByCountry(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	f.card(map[string]string{"": "0.0500", "DE": "0.1131", "US": "0.0250", "CA": "0.0300"})
	for i, p := range []string{"+4915110000001", "+4915110000002", "+12125550101", "+12125550102", "+14165550103", "+447400123456"} {
		f.contact(f.tn, person{phone: p, first: "P" + string(rune('a'+i)), tags: []string{"vip"}})
	}
	c, err := campaigns.Create(f.ctx, f.tn, nil, f.input())
	if err != nil {
		t.Fatal(err)
	}
	est, err := campaigns.EstimateCost(f.ctx, f.tn, c, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DE": "2 0.2262", "US": "2 0.05", "CA": "1 0.03", "GB": "1 0.05"}
	if len(est.Lines) != 4 {
		t.Fatalf("lines %+v", est.Lines)
	}
	for _, l := range est.Lines {
		if got := decimal.NewFromInt(int64(l.Recipients)).String() + " " + l.Amount.String(); got != want[l.Country] {
			t.Errorf("%s: %s, want %s", l.Country, got, want[l.Country])
		}
	}
	if !est.Total.Equal(decimal.RequireFromString("0.3562")) || est.Currency != "EUR" || est.Recipients != 6 || !est.MaxUnit.Equal(decimal.RequireFromString("0.1131")) {
		t.Fatalf("total %s %s, %d recipients, max %s", est.Total, est.Currency, est.Recipients, est.MaxUnit)
	}
	if gb := est.Lines[3]; gb.Country != "GB" || !gb.Default {
		t.Errorf("GB priced at the default: %+v", gb)
	}
}

func (f *fx) delivered(tn models.Tenant, phone string, at time.Time, windowOpen bool) {
	f.exec(`INSERT INTO messages (business_id, to_phone, state, created_at, updated_at, delivered_at, window_open, category, country)
		VALUES (?, ?, 'delivered', ?, ?, ?, ?, 'marketing', 'DE')`, tn.BusinessID(), phone, at, at, at, windowOpen)
}

func TestHeadroomTierAndBudget(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	people := f.audience() // recipients: Anna, Ben (fallback) and Stef
	now := f.db.Now()
	f.exec("UPDATE businesses SET messaging_tier = ? WHERE id = ?", 2000, f.tn.BusinessID())
	// 24 hours: two numbers outside a window (one twice), one inside, one too old.
	f.delivered(f.tn, "+4915100000001", now.Add(-time.Hour), false)
	f.delivered(f.tn, "+4915100000001", now.Add(-2*time.Hour), false)
	f.delivered(f.tn, "+4915100000002", now.Add(-23*time.Hour), false)
	f.delivered(f.tn, "+4915100000003", now.Add(-time.Hour), true)
	f.delivered(f.tn, "+4915100000004", now.Add(-25*time.Hour), false)
	other := f.business("Other GmbH", "UTC")
	f.delivered(other, "+4915100000005", now.Add(-time.Hour), false)

	c, err := campaigns.Create(f.ctx, f.tn, nil, f.input())
	if err != nil {
		t.Fatal(err)
	}
	est, err := campaigns.EstimateCost(f.ctx, f.tn, c, now)
	if err != nil {
		t.Fatal(err)
	}
	sp := campaigns.EstimatedSpending{DB: f.db}
	h, err := campaigns.HeadroomFor(f.ctx, f.tn, c, est, sp, now)
	if err != nil {
		t.Fatal(err)
	}
	if h.Tier != 2000 || h.Used != 2 || h.TierLeft != 1998 || h.Fits != 3 || h.Limit.Valid || !h.AllFit() {
		t.Fatalf("headroom %+v", h)
	}

	// Tier 250 with 249 used: one fits. Refuse mode refuses with figures.
	f.exec("UPDATE businesses SET messaging_tier = 250 WHERE id = ?", f.tn.BusinessID())
	for i := 0; i < 247; i++ {
		f.delivered(f.tn, "+49160"+pad(i), now.Add(-time.Minute), false)
	}
	h, _ = campaigns.HeadroomFor(f.ctx, f.tn, c, est, sp, now)
	if h.Used != 249 || h.TierLeft != 1 || h.Fits != 1 {
		t.Fatalf("tier 250: %+v", h)
	}
	_, err = campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, now)
	var fe *campaigns.FitError
	if !errors.As(err, &fe) || fe.Headroom.Fits != 1 || fe.Headroom.Recipients != 3 {
		t.Fatalf("refuse: %v", err)
	}
	if got, _ := campaigns.Get(f.ctx, f.tn, c.ID); got.State != campaigns.Draft {
		t.Fatalf("refused campaign is %s", got.State)
	}

	// Budget: 5 marketing messages delivered this month at the example
	// card's 0.1131 = 0.5655 spent; a limit of 0.70 leaves 0.1345: one
	// message of 0.1131 fits.
	f.exec("UPDATE businesses SET messaging_tier = 0, monthly_limit = ? WHERE id = ?", "0.70", f.tn.BusinessID())
	f.exec("DELETE FROM messages WHERE business_id = ? AND to_phone LIKE '+49160%'", f.tn.BusinessID())
	spent, err := sp.SpentInMonth(f.ctx, f.tn.BusinessID(), now)
	if err != nil || !spent.Equal(decimal.RequireFromString("0.5655")) {
		t.Fatalf("spent %s %v", spent, err)
	}
	h, _ = campaigns.HeadroomFor(f.ctx, f.tn, c, est, sp, now)
	if h.TierLeft != -1 || !h.BudgetLeft.Valid || !h.BudgetLeft.Decimal.Equal(decimal.RequireFromString("0.1345")) || h.FitsBudget != 1 || h.Fits != 1 {
		t.Fatalf("budget: %+v", h)
	}

	// Partial: sent to the one that fits, estimate of that one.
	in := f.input()
	in.FitMode = campaigns.FitPartial
	if c, err = campaigns.Update(f.ctx, f.tn, nil, c.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != campaigns.Scheduled || got.ScheduledAt == nil || !got.ScheduledAt.Equal(now) || got.Currency != "EUR" ||
		!got.Estimate.Decimal.Equal(decimal.RequireFromString("0.1131")) {
		t.Fatalf("confirmed %+v", got)
	}
	// Confirmed: no more edits, no deletion, no second confirmation.
	if _, err := campaigns.Update(f.ctx, f.tn, nil, c.ID, in); !errors.Is(err, campaigns.ErrNotDraft) {
		t.Fatalf("update after confirm: %v", err)
	}
	if err := campaigns.Delete(f.ctx, f.tn, nil, c.ID); !errors.Is(err, campaigns.ErrNotDraft) {
		t.Fatalf("delete after confirm: %v", err)
	}
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, now); !errors.Is(err, campaigns.ErrNotDraft) {
		t.Fatalf("second confirm: %v", err)
	}

	// The confirmed campaign's estimate is committed for the next one.
	c2, _ := campaigns.Create(f.ctx, f.tn, nil, f.input())
	h, _ = campaigns.HeadroomFor(f.ctx, f.tn, c2, est, sp, now)
	if !h.CommittedSpend.Equal(decimal.RequireFromString("0.1131")) || h.FitsBudget != 0 {
		t.Fatalf("committed %+v", h)
	}
	_ = people
}

func pad(i int) string {
	s := "0000000" + decimal.NewFromInt(int64(i)).String()
	return s[len(s)-7:]
}

func TestConfirmRules(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	f.audience()
	sp := campaigns.EstimatedSpending{DB: f.db}
	c, err := campaigns.Create(f.ctx, f.tn, nil, f.input())
	if err != nil {
		t.Fatal(err)
	}
	// The template paused after composing.
	f.exec("UPDATE message_templates SET status = 'PAUSED' WHERE id = ?", f.tpl.ID)
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, f.db.Now()); fields(err)["confirm"] != "campaign.template.not_approved" {
		t.Fatalf("paused template: %v", err)
	}
	f.exec("UPDATE message_templates SET status = 'APPROVED' WHERE id = ?", f.tpl.ID)
	// Suspended.
	f.exec("UPDATE businesses SET status = 'suspended' WHERE id = ?", f.tn.BusinessID())
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, f.db.Now()); fields(err)["confirm"] != "campaign.confirm.suspended" {
		t.Fatalf("suspended: %v", err)
	}
	f.exec("UPDATE businesses SET status = 'active' WHERE id = ?", f.tn.BusinessID())
	// A scheduled time that passed while on the review page.
	in := f.input()
	in.SendNow, in.SendAt = false, "2026-03-02T10:30"
	if c, err = campaigns.Update(f.ctx, f.tn, nil, c.ID, in); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, f.db.Now()); fields(err)["confirm"] != "campaign.confirm.time_passed" {
		t.Fatalf("time passed: %v", err)
	}
	// An empty audience.
	empty := f.segment(f.tn, "Nobody", "nobody")
	in.SendNow, in.SegmentIDs = true, []int64{empty.ID}
	c, _ = campaigns.Update(f.ctx, f.tn, nil, c.ID, in)
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, f.db.Now()); fields(err)["confirm"] != "campaign.confirm.empty" {
		t.Fatalf("empty: %v", err)
	}
	// Confirmed and audited.
	in.SegmentIDs = []int64{f.vip.ID}
	c, _ = campaigns.Update(f.ctx, f.tn, nil, c.ID, in)
	if _, err := campaigns.Confirm(f.ctx, f.tn, nil, c.ID, sp, f.db.Now()); err != nil {
		t.Fatal(err)
	}
	var n int64
	f.db.Gorm.Table("audit_events").Where("action = ? AND target_id = ?", "campaign.confirmed", strconv.FormatInt(c.ID, 10)).Count(&n)
	if n != 1 {
		t.Fatalf("%d confirmed audit entries", n)
	}
}

func TestCampaignIsolation(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	c, err := campaigns.Create(f.ctx, f.tn, nil, f.input())
	if err != nil {
		t.Fatal(err)
	}
	other := f.business("Other GmbH", "UTC")
	if _, err := campaigns.Get(f.ctx, other, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("get: %v", err)
	}
	if _, err := campaigns.Update(f.ctx, other, nil, c.ID, f.input()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("update: %v", err)
	}
	if err := campaigns.Delete(f.ctx, other, nil, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete: %v", err)
	}
	if _, err := campaigns.Confirm(f.ctx, other, nil, c.ID, campaigns.EstimatedSpending{DB: f.db}, f.db.Now()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("confirm: %v", err)
	}
	if err := campaigns.Delete(f.ctx, f.tn, nil, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Get(f.ctx, f.tn, c.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestLimitAndTier(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	for s, want := range map[string]string{"250": "250", "1250,50": "1250.5", " 99.99 ": "99.99"} {
		l, err := campaigns.ParseLimit(s)
		if err != nil || !l.Valid || !l.Decimal.Equal(decimal.RequireFromString(want)) {
			t.Errorf("%q: %v %v", s, l, err)
		}
	}
	for s, key := range map[string]string{"abc": "campaign.limit.invalid", "0": "campaign.limit.positive", "-5": "campaign.limit.positive",
		"1.234": "campaign.limit.cents", "1e5": "campaign.limit.invalid", "1000000000000": "campaign.limit.too_large"} {
		if _, err := campaigns.ParseLimit(s); fields(err)["monthly_limit"] != key {
			t.Errorf("%q: %v", s, err)
		}
	}
	l, _ := campaigns.ParseLimit("300")
	if err := campaigns.SetMonthlyLimit(f.ctx, f.tn, nil, l, ""); err != nil {
		t.Fatal(err)
	}
	if err := campaigns.SetTier(f.ctx, f.db, nil, f.tn.BusinessID(), 10000, ""); err != nil {
		t.Fatal(err)
	}
	if err := campaigns.SetTier(f.ctx, f.db, nil, f.tn.BusinessID(), 7, ""); fields(err)["tier"] != "campaign.tier.invalid" {
		t.Fatalf("tier 7: %v", err)
	}
	b, _ := f.tn.Business(f.ctx)
	if b.MessagingTier != 10000 || !b.MonthlyLimit.Decimal.Equal(decimal.NewFromInt(300)) {
		t.Fatalf("business %+v", b)
	}
	var n int64
	f.db.Gorm.Table("audit_events").Where("action IN ?", []string{"business.tier_set", "business.monthly_limit_set"}).Count(&n)
	if n != 2 {
		t.Fatalf("%d audit entries", n)
	}
}

func FuzzSendTime(f *testing.F) {
	for _, s := range []string{"2026-03-29T02:30", "2026-10-25T02:30", "2026-01-01T00:00", "x", "2026-03-02T25:00", "09:00"} {
		f.Add(s, "09:00", "20:00")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f.Fuzz(func(t *testing.T, at, start, end string) {
		if got, err := campaigns.ParseSendAt(at, berlin); err == nil {
			// An accepted time shows the wall clock typed, and is the
			// first instant that does.
			at := campaigns.NormalizeSendAt(at)
			if got.In(berlin).Format(campaigns.SendAtLayout) != at {
				t.Fatalf("%q became %v", at, got.In(berlin))
			}
			for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
				if got.Add(-d).In(berlin).Format(campaigns.SendAtLayout) == at {
					t.Fatalf("%q: an earlier instant %v shows it too", at, got.Add(-d))
				}
			}
		} else if _, ok := models.AsValidation(err); !ok {
			t.Fatalf("%q: %v is no field message", at, err)
		}
		s, e, err := campaigns.ParseWindow(start, end)
		if err != nil {
			if _, ok := models.AsValidation(err); !ok {
				t.Fatalf("window %q-%q: %v", start, end, err)
			}
			return
		}
		if (s == nil) != (e == nil) {
			t.Fatalf("window %q-%q: half", start, end)
		}
		if s != nil && (*s < 0 || *s >= 1440 || *e < 0 || *e >= 1440 || *s == *e ||
			campaigns.ClockText(s) != trim(start) || campaigns.ClockText(e) != trim(end)) {
			t.Fatalf("window %q-%q: %d %d", start, end, *s, *e)
		}
	})
}

func trim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n' || s[len(s)-1] == '\r' || s[len(s)-1] == '\v' || s[len(s)-1] == '\f') {
		s = s[:len(s)-1]
	}
	return s
}

func TestEstimatedSpendingMonthInBusinessZone(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	// 23:30 UTC on 28 February is 00:30 on 1 March in Berlin: March's.
	f.delivered(f.tn, "+4915100000001", time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC), false)
	f.delivered(f.tn, "+4915100000002", time.Date(2026, 2, 28, 22, 30, 0, 0, time.UTC), false) // 23:30 Berlin: February's
	// A message the platform priced as free (an entry point) costs nothing:
	// its word wins over the dated rule.
	f.exec(`INSERT INTO messages (business_id, to_phone, state, created_at, updated_at, delivered_at, window_open, category, country, pricing_type)
		VALUES (?, '+4915100000003', 'delivered', ?, ?, ?, FALSE, 'marketing', 'DE', 'free_entry_point')`, f.tn.BusinessID(), f.db.Now(), f.db.Now(), f.db.Now())
	sp := campaigns.EstimatedSpending{DB: f.db}
	got, err := sp.SpentInMonth(f.ctx, f.tn.BusinessID(), f.db.Now())
	if err != nil || !got.Equal(decimal.RequireFromString("0.1131")) {
		t.Fatalf("March: %s %v", got, err)
	}
	feb, _ := sp.SpentInMonth(f.ctx, f.tn.BusinessID(), time.Date(2026, 2, 15, 12, 0, 0, 0, time.UTC))
	if !feb.Equal(decimal.RequireFromString("0.1131")) {
		t.Fatalf("February: %s", feb)
	}
}
