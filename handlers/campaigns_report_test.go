package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/messages"
)

// reportSeed writes campaigns and their messages for one business straight
// into the tables, as the sender would have left them.
type reportSeed struct {
	t   testing.TB
	tn  models.Tenant
	ctx context.Context
	t0  time.Time
}

func newReportSeed(t testing.TB, a *app, email string) *reportSeed {
	t.Helper()
	tn, err := a.db.Tenant(actorBusinessTB(t, a, email))
	if err != nil {
		t.Fatal(err)
	}
	return &reportSeed{t: t, tn: tn, ctx: context.Background(), t0: a.clock.Now().Add(-time.Hour)}
}

func actorBusinessTB(t testing.TB, a *app, email string) int64 {
	t.Helper()
	u, err := a.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.db.MembershipOf(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m.BusinessID
}

func (s *reportSeed) at(sec int) time.Time { return s.t0.Add(time.Duration(sec) * time.Second) }

func (s *reportSeed) campaign(name, state string) *campaigns.Campaign {
	s.t.Helper()
	now := s.tn.DB().Now()
	c := &campaigns.Campaign{BusinessID: s.tn.BusinessID(), Name: name, TemplateID: 1, TemplateName: "spring_offer", TemplateLanguage: "de",
		Category: "MARKETING", State: state, TimeZone: "Europe/Berlin", FitMode: campaigns.FitRefuse, AllContacts: true, CreatedAt: now, UpdatedAt: now}
	if state != campaigns.Draft && state != campaigns.Scheduled {
		st := s.t0
		c.StartedAt, c.FrozenAt = &st, &st
	}
	if state == campaigns.Done {
		fin := s.at(1800)
		c.FinishedAt = &fin
	}
	if err := s.tn.Gorm(s.ctx).Create(c).Error; err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *reportSeed) contact(name, phone string) int64 {
	s.t.Helper()
	c, err := contacts.Create(s.ctx, s.tn, contacts.ContactInput{Phone: phone, Name: name,
		Consent: contacts.ConsentInput{Source: "web_form", Date: "2026-01-10", Wording: "Yes, send me offers"}}, "system")
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

func (s *reportSeed) msg(c *campaigns.Campaign, contact int64, phone string, set map[string]any) int64 {
	s.t.Helper()
	n := messages.New{CampaignID: &c.ID, TemplateName: c.TemplateName, TemplateLanguage: "de", To: phone}
	if contact != 0 {
		n.ContactID = &contact
	}
	ms, err := messages.Queue(s.ctx, s.tn, []messages.New{n})
	if err != nil {
		s.t.Fatal(err)
	}
	if set == nil {
		set = map[string]any{}
	}
	if st, ok := set["state"].(string); ok {
		set["state_rank"] = messages.Rank(st)
	}
	// Made when the campaign started, as the freeze would have.
	if _, ok := set["created_at"]; !ok {
		set["created_at"] = s.t0
	}
	{
		if err := s.tn.Scoped(s.ctx).Table("messages").Where("id = ?", ms[0].ID).Updates(set).Error; err != nil {
			s.t.Fatal(err)
		}
	}
	return ms[0].ID
}

// done seeds a finished campaign: 3 read, 3 delivered, 2 sent, 2 failed
// with 131026 (one detail a formula), 1 with 130429, 1 skipped (opted out).
func (s *reportSeed) done(name string) (*campaigns.Campaign, map[string]int64) {
	c := s.campaign(name, campaigns.Done)
	ids := map[string]int64{}
	i := 0
	add := func(who string, set map[string]any) {
		i++
		phone := fmt.Sprintf("+4915112%06d", i)
		ids[who] = s.contact(who, phone)
		s.msg(c, ids[who], phone, set)
	}
	for k := 0; k < 3; k++ {
		add(fmt.Sprintf("Reader %d", k), map[string]any{"state": messages.Read, "wamid": fmt.Sprintf("r%s%d", name, k), "claimed_at": s.at(1), "sent_at": s.at(2 + k), "delivered_at": s.at(60 + k), "read_at": s.at(600 + k), "country": "DE", "category": "marketing"})
		add(fmt.Sprintf("Deliveree %d", k), map[string]any{"state": messages.Delivered, "wamid": fmt.Sprintf("d%s%d", name, k), "sent_at": s.at(2), "delivered_at": s.at(120), "country": "DE", "category": "marketing"})
	}
	add("Sent One", map[string]any{"state": messages.Sent, "wamid": "s1" + name, "sent_at": s.at(3)})
	add("Sent Two", map[string]any{"state": messages.Sent, "wamid": "s2" + name, "sent_at": s.at(4)})
	add("Failing Fiona", map[string]any{"state": messages.Failed, "failed_at": s.at(5), "error_code": 131026, "error_title": "Message undeliverable", "error_detail": "=HYPERLINK(\"http://evil\")"})
	add("Failing Fred", map[string]any{"state": messages.Failed, "failed_at": s.at(5), "error_code": 131026, "error_title": "Message undeliverable"})
	add("Limited Lea", map[string]any{"state": messages.Failed, "failed_at": s.at(6), "error_code": 130429, "error_title": "Rate limit hit"})
	add("Skipped Sam", map[string]any{"state": messages.Skipped, "skip_reason": "opted_out"})
	return c, ids
}

func path(c *campaigns.Campaign, suffix string) string {
	return fmt.Sprintf("/campaigns/%d%s", c.ID, suffix)
}

func TestCampaignListAndReport(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Rosa", "owner@rosa.example")
	s := newReportSeed(t, a, "owner@rosa.example")
	done, ids := s.done("Spring offer")
	draft := s.campaign("Autumn draft", campaigns.Draft)
	sending := s.campaign("Weekend sale", campaigns.Sending)
	for k := 0; k < 4; k++ {
		set := map[string]any{}
		if k == 0 {
			set = map[string]any{"state": messages.Accepted, "wamid": "live0"}
		}
		s.msg(sending, 0, fmt.Sprintf("+4915199%06d", k), set)
	}

	// The list: every campaign with its badge, audience, rates and cost;
	// the nav names the area.
	p := owner.get("/campaigns")
	if p.Status != http.StatusOK {
		t.Fatalf("list: %d", p.Status)
	}
	checkA11y(t, "campaigns list", p)
	if p.Text(`nav a[aria-current="page"]`) != "Campaigns" {
		t.Errorf("nav: %q", p.Text(`nav a[aria-current="page"]`))
	}
	row := fmt.Sprintf(`[data-testid="campaign-%d"] `, done.ID)
	if got := p.Text(row + `[data-testid="campaign-state"]`); got != "Done" {
		t.Errorf("state %q", got)
	}
	// 12 recipients (the skipped one included), 8 sent (66.7 %), 6 of 8
	// delivered (75 %), 3 of 6 read (50 %); 6 delivered marketing
	// messages to Germany at EUR 0.1131: EUR 0.68.
	for sel, want := range map[string]string{"campaign-recipients": "12", "campaign-sent-rate": "66.7 %", "campaign-delivered-rate": "75.0 %",
		"campaign-read-rate": "50.0 %", "campaign-cost": "€0.68"} {
		if got := p.Text(row + `[data-testid="` + sel + `"]`); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if !strings.Contains(p.Text(row), "All messageable contacts") {
		t.Errorf("audience: %q", p.Text(row))
	}
	if href := p.Attr(fmt.Sprintf(`[data-testid="campaign-%d"] a`, draft.ID), "href"); href != path(draft, "/edit") {
		t.Errorf("draft links to %q", href)
	}
	// A draft's page is its editor.
	if r := owner.getRaw(path(draft, "")); r.Status != http.StatusSeeOther || r.Location != path(draft, "/edit") {
		t.Errorf("draft: %d %q", r.Status, r.Location)
	}

	// The finished campaign's report: funnel chart and table, delivery
	// over time, failures with meaning and what to do; no live progress.
	r := owner.get(path(done, ""))
	if r.Status != http.StatusOK || r.Text(`[data-testid="campaign-name"]`) != "Spring offer" {
		t.Fatalf("report: %d", r.Status)
	}
	checkA11y(t, "report", r)
	if r.Has("[data-campaign-progress]") {
		t.Error("a finished campaign shows live progress")
	}
	for step, want := range map[string]string{"recipients": "12", "accepted": "8", "sent": "8", "delivered": "6", "read": "3", "failed": "3", "skipped": "1"} {
		if got := r.Doc.Find(`[data-testid="funnel-` + step + `"] td`).First().Text(); got != want {
			t.Errorf("funnel %s: %q, want %q", step, got, want)
		}
	}
	svg := r.Doc.Find(`[data-testid="funnel-chart"] svg`)
	if svg.AttrOr("role", "") != "img" || svg.Find("title").Text() != "Funnel: messages at each step" || !strings.Contains(svg.Find("desc").Text(), "Delivered 6") {
		t.Errorf("funnel chart: role %q title %q desc %q", svg.AttrOr("role", ""), svg.Find("title").Text(), svg.Find("desc").Text())
	}
	if strings.Contains(r.Doc.Find(`[data-testid="funnel-chart"]`).Text(), "style=") || r.Doc.Find(`[data-testid="funnel-chart"] [style]`).Length() > 0 {
		t.Error("the chart carries inline styles the CSP refuses")
	}
	if !r.Has(`[data-testid="time-chart"] svg[role="img"]`) || r.Doc.Find(`[data-testid="time-table"] tbody tr`).Length() == 0 {
		t.Error("no delivery-over-time chart or table")
	}
	f := r.Doc.Find(`[data-testid="failure-131026"]`)
	if !strings.Contains(f.Text(), "Message undeliverable") || !strings.Contains(f.Text(), "may have blocked you") || !strings.Contains(f.Text(), "do not resend automatically") ||
		!strings.Contains(f.Text(), "Retrying will fail again") || !strings.Contains(f.Text(), "2") {
		t.Errorf("failure group: %q", f.Text())
	}
	if !strings.Contains(r.Text(`[data-testid="failure-130429"]`), "Retrying may help") {
		t.Errorf("rate-limit group: %q", r.Text(`[data-testid="failure-130429"]`))
	}
	// Retry failed offers the one retryable failure.
	if got := r.Text(`[data-testid="retry"]`); got != "Retry 1 failed message" {
		t.Errorf("retry button %q", got)
	}
	if r.Has(`[data-testid="pause"]`) || r.Has(`[data-testid="cancel"]`) {
		t.Error("a finished campaign offers pause or cancel")
	}

	// While sending: live progress with its script, live region, no-JS
	// refresh link and the pause and cancel buttons.
	l := owner.get(path(sending, ""))
	checkA11y(t, "progress", l)
	if !l.Has(`[data-campaign-progress][data-progress-url="`+path(sending, "/progress")+`"]`) || !l.Has(`script[src="/static/js/campaigns_report.js"]`) ||
		!l.Has(`[aria-live="polite"]`) || !strings.Contains(l.Doc.Find("noscript").Text(), "Refresh") {
		t.Error("progress page lacks its script, live region or refresh link")
	}
	if got := l.Text(`[data-testid="progress-handled"]`); got != "1 of 4 messages handled (25 %)" {
		t.Errorf("handled %q", got)
	}
	if !l.Has(`[data-testid="pause"]`) || !l.Has(`[data-testid="cancel"]`) || l.Has(`[data-testid="resume"]`) {
		t.Error("sending: wrong buttons")
	}
	pj := owner.getRaw(path(sending, "/progress"))
	var prog struct {
		State   string            `json:"state"`
		Percent int               `json:"percent"`
		Text    map[string]string `json:"text"`
	}
	if err := json.Unmarshal([]byte(pj.Body), &prog); err != nil || prog.State != "sending" || prog.Percent != 25 || prog.Text["queued"] != "3" || prog.Text["accepted"] != "1" {
		t.Errorf("progress JSON %s (%v)", pj.Body, err)
	}

	// A scheduled campaign: when it starts, pause and cancel offered.
	sched := s.campaign("Monday mailing", campaigns.Scheduled)
	at := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	if err := s.tn.Scoped(s.ctx).Model(&campaigns.Campaign{}).Where("id = ?", sched.ID).Update("scheduled_at", at).Error; err != nil {
		t.Fatal(err)
	}
	sp := owner.get(path(sched, ""))
	if sp.Status != http.StatusOK || sp.Text(`[data-testid="progress-note"]`) != "Starts on 9 Mar 2026 09:00." || !sp.Has(`[data-testid="cancel"]`) {
		t.Errorf("scheduled: %d %q", sp.Status, sp.Text(`[data-testid="progress-note"]`))
	}

	// The buttons call the sender (sending.Engine) and say what happened.
	owner.primeCSRF(path(sending, ""))
	pp := owner.post(path(sending, "/pause"), nil)
	if pp.Status != http.StatusSeeOther || pp.Location != path(sending, "") {
		t.Fatalf("pause: %d %q", pp.Status, pp.Location)
	}
	back := owner.get(pp.Location)
	if flash := back.Text(".flash-success"); flash != "The campaign is paused." {
		t.Errorf("pause flash %q", flash)
	}
	if got, _ := campaigns.ForReport(context.Background(), s.tn, sending.ID); got.State != campaigns.Paused {
		t.Errorf("state after pause: %s", got.State)
	}
	if !back.Has(`[data-testid="resume"]`) || back.Has(`[data-testid="pause"]`) || !strings.Contains(back.Text(`[data-testid="progress-note"]`), "Paused by a member of the business.") {
		t.Errorf("paused page: buttons or note %q", back.Text(`[data-testid="progress-note"]`))
	}
	// Resume is refused (the campaign's template is not approved): a
	// clear error flash, the campaign stays paused.
	back = owner.postFollow(path(sending, "/resume"), nil)
	if flash := back.Text(".flash-error"); !strings.Contains(flash, "could not be resumed") {
		t.Errorf("resume flash %q (all: %q)", flash, back.Text(".flash"))
	}
	if got, _ := campaigns.ForReport(context.Background(), s.tn, sending.ID); got.State != campaigns.Paused {
		t.Errorf("state after a refused resume: %s", got.State)
	}
	// Retry failed on the finished campaign queues the retryable one again.
	back = owner.postFollow(path(done, "/retry"), nil)
	if flash := back.Text(".flash-success"); flash != "1 failed message is queued again." {
		t.Errorf("retry flash %q (all: %q)", flash, back.Text(".flash"))
	}
	if got, _ := campaigns.ForReport(context.Background(), s.tn, done.ID); got.State != campaigns.Sending {
		t.Errorf("after retry: %s", got.State)
	}
	// Cancel: the queued messages are skipped as cancelled.
	back = owner.postFollow(path(sending, "/cancel"), nil)
	if flash := back.Text(".flash-success"); !strings.Contains(flash, "cancelled") {
		t.Errorf("cancel flash %q (all: %q)", flash, back.Text(".flash"))
	}
	if sc, _ := campaigns.Counts(context.Background(), s.tn, sending.ID); sc.SkippedBy[campaigns.SkipCancelled] != 3 {
		t.Errorf("after cancel: %+v", sc)
	}
	// Cancelling again, or pausing a cancelled campaign: refused, said.
	back = owner.postFollow(path(sending, "/pause"), nil)
	if flash := back.Text(".flash-error"); !strings.Contains(flash, "cannot be paused now: it is cancelled") {
		t.Errorf("pause cancelled flash %q (all %q)", flash, back.Text(".flash"))
	}

	// The contact page lists the messages sent to the contact.
	cp := owner.get(fmt.Sprintf("/contacts/%d", ids["Failing Fiona"]))
	m := cp.Doc.Find(`[data-testid="contact-message"]`)
	if m.Length() != 1 || !strings.Contains(m.Text(), "Spring offer") || !strings.Contains(m.Text(), "Failed") || !strings.Contains(m.Text(), "131026") {
		t.Errorf("contact messages: %q", m.Text())
	}
	if href := m.Find("a").AttrOr("href", ""); href != path(done, "") {
		t.Errorf("contact message links to %q", href)
	}
}

func TestCampaignMessagesFilterAndExports(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Rosa", "owner@rosa.example")
	s := newReportSeed(t, a, "owner@rosa.example")
	done, _ := s.done("Spring offer")

	p := owner.get(path(done, "/messages"))
	checkA11y(t, "messages", p)
	if n := p.Doc.Find(`[data-testid="messages-table"] tbody tr`).Length(); n != 12 {
		t.Errorf("all: %d rows", n)
	}
	p = owner.get(path(done, "/messages?state=failed&code=131026"))
	rows := p.Doc.Find(`[data-testid="messages-table"] tbody tr`)
	if rows.Length() != 2 || !strings.Contains(rows.Text(), "Failing Fiona") || strings.Contains(rows.Text(), "Limited Lea") {
		t.Errorf("failed 131026: %d rows: %q", rows.Length(), rows.Text())
	}
	if got := p.Doc.Find(`#f-code option[selected]`).AttrOr("value", ""); got != "131026" {
		t.Errorf("code select keeps %q", got)
	}
	if !strings.Contains(rows.First().Find(`[data-testid="message-detail"]`).Text(), "may have blocked you") {
		t.Errorf("detail %q", rows.First().Find(`[data-testid="message-detail"]`).Text())
	}
	// The timeline of a read message: queued, picked up, accepted, sent,
	// delivered, read.
	p = owner.get(path(done, "/messages?q=Reader+0"))
	steps := p.Doc.Find(`[data-testid="timeline"] li`)
	var kinds []string
	for i := range steps.Nodes {
		kinds = append(kinds, strings.TrimPrefix(steps.Eq(i).AttrOr("class", ""), "cr-step-"))
	}
	if strings.Join(kinds, ",") != "created,claimed,accepted,sent,delivered,read" {
		t.Errorf("timeline %v", kinds)
	}
	// By number (as typed with spaces).
	if n := owner.get(path(done, "/messages?q=%2B49+151+12000002")).Doc.Find(`[data-testid="messages-table"] tbody tr`).Length(); n != 1 {
		t.Errorf("by number: %d", n)
	}
	// A state that is not one: said, and every message shown.
	bad := owner.get(path(done, "/messages?state=nonsense"))
	if bad.Status != http.StatusOK || !strings.Contains(bad.Text(`[data-testid="filter-error"]`), "not a message state") {
		t.Errorf("bad state: %d %q", bad.Status, bad.Text(`[data-testid="filter-error"]`))
	}
	// The export links carry the filter.
	if href := p.Attr(`[data-testid="export-csv"]`, "href"); href != path(done, "/export.csv?q=Reader+0") {
		t.Errorf("csv link %q", href)
	}

	// CSV: the filtered messages, formula neutralised.
	csvp := owner.getRaw(path(done, "/export.csv?state=failed"))
	if csvp.Status != http.StatusOK || !strings.HasPrefix(csvp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csvp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", csvp.Status, csvp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvp.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][2] != "name" || recs[1][2] != "Failing Fiona" || recs[1][5] != "131026" || !strings.HasPrefix(recs[1][7], "'=HYPERLINK") {
		t.Errorf("csv %q", recs)
	}
	// XLSX: every message, text cells.
	xp := owner.getRaw(path(done, "/export.xlsx"))
	if xp.Status != http.StatusOK || !strings.Contains(xp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d", xp.Status)
	}
	wb, err := excelize.OpenReader(bytes.NewReader([]byte(xp.Body)))
	if err != nil {
		t.Fatal(err)
	}
	xr, _ := wb.GetRows("Messages")
	if len(xr) != 13 || xr[1][1] != "+4915112000001" || xr[1][3] != "read" {
		t.Errorf("xlsx rows %d: %v", len(xr), xr[:min(2, len(xr))])
	}
	for i := range xr {
		cell, _ := excelize.CoordinatesToCellName(8, i+1)
		if fm, _ := wb.GetCellFormula("Messages", cell); fm != "" {
			t.Errorf("formula at %s: %q", cell, fm)
		}
	}
}

// TestCampaignReportIsolation: every report URL of business A answers 404
// to B, and B's buttons change nothing.
func TestCampaignReportIsolation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Alpha", "owner@alpha.example")
	s := newReportSeed(t, a, "owner@alpha.example")
	done, _ := s.done("Alpha secret offer")
	sending := s.campaign("Alpha live", campaigns.Sending)
	b := a.signup("Beta", "owner@beta.example")
	b.primeCSRF("/campaigns")
	for _, c := range []*campaigns.Campaign{done, sending} {
		for _, u := range []string{"", "/progress", "/messages", "/messages?state=failed", "/export.csv", "/export.xlsx"} {
			if p := b.getRaw(path(c, u)); p.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d", path(c, u), p.Status)
			}
		}
		for _, u := range []string{"/pause", "/resume", "/cancel", "/retry"} {
			if p := b.post(path(c, u), nil); p.Status != http.StatusNotFound {
				t.Errorf("POST %s: %d", path(c, u), p.Status)
			}
		}
	}
	if p := b.get("/campaigns"); strings.Contains(p.Body, "Alpha") || !p.Has(`[data-testid="campaigns-empty"]`) {
		t.Error("B's list shows A's campaigns")
	}
	if got, _ := campaigns.ForReport(context.Background(), s.tn, sending.ID); got.State != campaigns.Sending {
		t.Errorf("A's campaign is %s", got.State)
	}
}

// seedScanCampaigns gives the business of email a finished and a sending
// campaign with messages, for the cross-tenant scan.
func seedScanCampaigns(t *testing.T, a *app, email string) {
	t.Helper()
	s := newReportSeed(t, a, email)
	s.done("Scan finished")
	live := s.campaign("Scan sending", campaigns.Sending)
	s.msg(live, 0, "+4915177000001", nil)
}
