package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/models/templates"
)

// composeBiz is a business ready to compose: Berlin time, an approved
// template with a header, two body variables and a URL button, a pending
// one, segments "Stammkunden" and "Team", and contacts: four regulars
// (one without a first name), and one each opted out, without consent,
// suppressed, a landline and a team member.
type composeBiz struct {
	tn      models.Tenant
	tpl     *templates.Template
	pending *templates.Template
	regular *contacts.Segment
	team    *contacts.Segment
}

func (a *app) composeBiz(email string) composeBiz {
	a.t.Helper()
	ctx := context.Background()
	tn := a.tenantOf(email)
	now := a.db.Now()
	exec := func(q string, args ...any) {
		a.t.Helper()
		if err := a.db.Gorm.Exec(q, args...).Error; err != nil {
			a.t.Fatalf("%s: %v", q, err)
		}
	}
	if err := a.db.Gorm.Create(&profiles.Profile{BusinessID: tn.BusinessID(), Vertical: "UNDEFINED", TimeZone: "Europe/Berlin",
		Currency: "EUR", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		a.t.Fatal(err)
	}
	mk := func(name, status string) *templates.Template {
		tp := &templates.Template{BusinessID: tn.BusinessID(), Name: name, Language: "de", Category: "MARKETING",
			Header: "Hallo {{1}}", Body: "Liebe(r) {{1}}, heute {{2}} Rabatt auf alles.", Footer: "Antworte STOP zum Abmelden",
			ButtonsJSON: `[{"Type":"URL","Text":"Zum Shop","URL":"https://shop.example/{{1}}"}]`, BodySamplesJSON: `["Anna","10 %"]`,
			Status: status, Quality: "UNKNOWN", CreatedAt: now, UpdatedAt: now}
		if err := a.db.Gorm.Create(tp).Error; err != nil {
			a.t.Fatal(err)
		}
		return tp
	}
	b := composeBiz{tn: tn, tpl: mk("fruehling", templates.StateApproved), pending: mk("sommer_entwurf", templates.StatePending)}
	var err error
	if b.regular, err = contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "Stammkunden", All: []string{"stamm"}}); err != nil {
		a.t.Fatal(err)
	}
	if b.team, err = contacts.CreateSegment(ctx, tn, contacts.SegmentInput{Name: "Team", All: []string{"team"}}); err != nil {
		a.t.Fatal(err)
	}
	add := func(phone, first, consent string, landline bool, tags ...string) {
		c := &contacts.Contact{BusinessID: tn.BusinessID(), Phone: phone, PhoneHash: contacts.PhoneHash(phone), FirstName: first,
			Name: strings.TrimSpace(first + " Kunde"), Attrs: contacts.Attrs{"code": "C" + phone[len(phone)-3:]}, ConsentState: consent,
			Landline: landline, CreatedAt: now, UpdatedAt: now}
		if err := a.db.Gorm.Create(c).Error; err != nil {
			a.t.Fatal(err)
		}
		for _, tag := range tags {
			exec("INSERT INTO contact_tags (business_id, contact_id, tag) VALUES (?, ?, ?)", tn.BusinessID(), c.ID, tag)
		}
	}
	in := contacts.ConsentOptedIn
	add("+4915120000001", "Anna", in, false, "stamm")
	add("+4915120000002", "", in, false, "stamm")
	add("+4915120000003", "Carla", in, false, "stamm")
	add("+12125550104", "Dave", in, false, "stamm")
	add("+4915120000005", "Olaf", contacts.ConsentOptedOut, false, "stamm")
	add("+4915120000006", "Nina", contacts.ConsentNone, false, "stamm")
	add("+4915120000007", "Sven", in, false, "stamm")
	exec("INSERT INTO suppressions (business_id, phone_hash, opted_out_at, source, created_at) VALUES (?, ?, ?, 'manual', ?)",
		tn.BusinessID(), contacts.PhoneHash("+4915120000007"), now, now)
	add("+4930120000008", "Lena", in, true, "stamm")
	add("+4915120000009", "Tom", in, false, "stamm", "team")
	return b
}

// composeVals is a complete wizard submission for b.
func composeVals(b composeBiz) url.Values {
	return vals("name", "Frühlingsangebot", "template_id", strconv.FormatInt(b.tpl.ID, 10),
		"var_header_1_source", "first_name", "var_header_1_fallback", "Kundin",
		"var_body_1_source", "first_name", "var_body_1_fallback", "liebe Kundin",
		"var_body_2_source", "text", "var_body_2_text", "15 %",
		"var_url_0_source", "attr", "var_url_0_attr", "code",
		"segment_ids", strconv.FormatInt(b.regular.ID, 10), "exclude_segment_id", strconv.FormatInt(b.team.ID, 10),
		"skip_landlines", "1", "send_mode", "now", "fit_mode", "refuse")
}

func campaignIDFrom(t *testing.T, location string) int64 {
	t.Helper()
	parts := strings.Split(strings.Trim(location, "/"), "/")
	if len(parts) < 2 || parts[0] != "campaigns" {
		t.Fatalf("redirect to %q", location)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		t.Fatalf("redirect to %q", location)
	}
	return id
}

func TestComposeWizardShowsEachProblemAndKeepsInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")

	p := owner.get("/campaigns/new")
	if p.Status != http.StatusOK || !p.Has(`[data-testid="template-fruehling"]`) || p.Has(`[data-testid="template-sommer_entwurf"]`) {
		t.Fatalf("new: status %d, approved listed %v, pending listed %v", p.Status, p.Has(`[data-testid="template-fruehling"]`),
			p.Has(`[data-testid="template-sommer_entwurf"]`))
	}
	if !strings.Contains(p.Text(`[data-testid="step-schedule"]`), "Europe/Berlin") {
		t.Errorf("schedule does not name the zone: %q", p.Text(`[data-testid="step-schedule"]`))
	}

	// Choosing the template (no script): its variables appear, nothing saved.
	p = owner.post("/campaigns", vals("name", "Frühling", "template_id", strconv.FormatInt(b.tpl.ID, 10), "refresh", "1", "skip_landlines", "1"))
	if p.Status != http.StatusOK || !p.Has(`[data-testid="var_body_2"]`) || !p.Has(`[data-testid="var_url_0"]`) || p.Value("#f-name") != "Frühling" {
		t.Fatalf("refresh: status %d, vars %v", p.Status, p.Has(`[data-testid="var_body_2"]`))
	}

	// Everything wrong at once: each message at its field, input kept.
	bad := composeVals(b)
	bad.Set("name", "")
	bad.Del("var_body_2_source")
	bad.Set("var_url_0_attr", "Not A Key")
	bad.Del("segment_ids")
	bad.Set("send_mode", "later")
	bad.Set("send_at", "2026-03-29T02:30") // the hour Berlin skips
	bad.Set("window_start", "09:00")
	p = owner.post("/campaigns", bad)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: status %d", p.Status)
	}
	for field, want := range map[string]string{
		"name": "", "var_body_2": "Choose where", "var_url_0": "lower-case", "audience": "at least one segment",
		"send_at": "does not exist in Europe/Berlin", "window_end": "both",
	} {
		if got := p.Text(`[data-testid="error-` + field + `"]`); got == "" || !strings.Contains(got, want) {
			t.Errorf("error at %s: %q, want %q", field, got, want)
		}
	}
	if p.Value("#f-var_body_1_fallback") != "liebe Kundin" || p.Value("#f-send_at") != "2026-03-29T02:30" ||
		p.Attr(`input[name="template_id"][checked]`, "value") != strconv.FormatInt(b.tpl.ID, 10) ||
		p.Attr(`#f-exclude_segment_id option[selected]`, "value") != strconv.FormatInt(b.team.ID, 10) || p.Value("#f-window_start") != "09:00" {
		t.Errorf("input lost: fallback %q, send_at %q", p.Value("#f-var_body_1_fallback"), p.Value("#f-send_at"))
	}
	var n int64
	a.db.Gorm.Table("campaigns").Count(&n)
	if n != 0 {
		t.Fatalf("a refused wizard saved %d campaigns", n)
	}

	// A pending template cannot be chosen even by a crafted post.
	crafted := composeVals(b)
	crafted.Set("template_id", strconv.FormatInt(b.pending.ID, 10))
	if p = owner.post("/campaigns", crafted); !strings.Contains(p.Text(`[data-testid="error-template_id"]`), "not approved") {
		t.Errorf("pending template: %d %q", p.Status, p.Text(`[data-testid="error-template_id"]`))
	}

	// Saved, then edited: the form shows the stored draft.
	p = owner.post("/campaigns", composeVals(b))
	if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "/review") {
		t.Fatalf("save: %d %q %s", p.Status, p.Location, p.Doc.Find(".error").Text())
	}
	id := campaignIDFrom(t, p.Location)
	edit := owner.get("/campaigns/" + strconv.FormatInt(id, 10) + "/edit")
	if edit.Value("#f-name") != "Frühlingsangebot" || edit.Value("#f-var_body_2_text") != "15 %" ||
		edit.Attr(`#f-var_url_0_source option[selected]`, "value") != "attr" || !edit.Has(`input[data-testid="segment-Stammkunden"][checked]`) {
		t.Fatalf("edit form: name %q, text %q", edit.Value("#f-name"), edit.Value("#f-var_body_2_text"))
	}
	later := composeVals(b)
	later.Set("send_mode", "later")
	later.Set("send_at", "2026-03-29T09:00")
	later.Set("window_start", "09:00")
	later.Set("window_end", "20:00")
	if p = owner.post("/campaigns/"+strconv.FormatInt(id, 10)+"/edit", later); p.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	c, err := campaigns.Get(context.Background(), b.tn, id)
	if err != nil || c.ScheduledAt == nil || c.ScheduledAt.UTC().Format("2006-01-02T15:04") != "2026-03-29T07:00" {
		t.Fatalf("stored schedule %v %v", c.ScheduledAt, err)
	}
}

func TestComposeReviewFiguresAndConfirm(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	owner.primeCSRF("/campaigns/new")
	p := owner.post("/campaigns", composeVals(b))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	id := campaignIDFrom(t, p.Location)
	base := "/campaigns/" + strconv.FormatInt(id, 10)

	r := owner.get(base + "/review")
	if r.Status != http.StatusOK {
		t.Fatalf("review: %d", r.Status)
	}
	// 9 picked: Tom is in Team, Lena a landline, Olaf opted out, Nina no
	// consent, Sven suppressed; Anna, the one without a name (fallback),
	// Carla and Dave remain.
	if got := r.Text(`[data-testid="recipients"]`); got != "4 recipients of 9 contacts picked" {
		t.Errorf("recipients %q", got)
	}
	for reason, want := range map[string]string{"excluded_segment": "1", "landline": "1", "opted_out": "1", "no_consent": "1",
		"suppressed": "1", "missing_variable": "0"} {
		if got := r.Text(`[data-testid="excluded-` + reason + `"] td.num`); got != want {
			t.Errorf("%s: %q, want %s", reason, got, want)
		}
	}
	if n := r.Doc.Find(`[data-testid="preview"]`).Length(); n != 3 {
		t.Errorf("%d previews", n)
	}
	if got := r.Doc.Find(`[data-testid="preview-body"]`).First().Text(); !strings.Contains(got, "Liebe(r) Anna, heute 15 % Rabatt") {
		t.Errorf("first preview %q", got)
	}
	if got := r.Doc.Find(`[data-testid="preview"]`).Eq(1).Text(); !strings.Contains(got, "liebe Kundin") || !strings.Contains(got, "fallback") {
		t.Errorf("second preview shows no marked fallback: %q", got)
	}
	if !strings.Contains(r.Text(`[data-testid="preview-button"]`), "https://shop.example/C001") {
		t.Errorf("button %q", r.Text(`[data-testid="preview-button"]`))
	}
	// Example card: 0.1131 everywhere (DE's and the default): 4 × = 0.4524.
	if got := r.Text(`[data-testid="cost-total"]`); got != "€0.45" {
		t.Errorf("total %q", got)
	}
	if got := r.Text(`[data-testid="cost-DE"] td.num`); got != "3" {
		t.Errorf("DE recipients %q", got)
	}
	if got := r.Text(`[data-testid="cost-US"] td.num`); got != "1" {
		t.Errorf("US recipients %q", got)
	}
	if got := r.Text(`[data-testid="headroom-tier"]`); !strings.Contains(got, "250 of 250") {
		t.Errorf("tier %q", got)
	}
	if !r.Has(`[data-testid="fits"]`) || !strings.Contains(r.Text(`[data-testid="confirm-restate"]`), "Send now to 4 recipients (Stammkunden), estimated cost €0.45") ||
		r.Text(`[data-testid="confirm-button"]`) != "Send now" {
		t.Errorf("confirmation %q / %q", r.Text(`[data-testid="confirm-restate"]`), r.Text(`[data-testid="confirm-button"]`))
	}

	// A limit below the estimate: refused with the figures, still a draft.
	owner.primeCSRF("/campaigns/settings")
	if p := owner.post("/campaigns/settings", vals("monthly_limit", "0.20")); p.Status != http.StatusSeeOther {
		t.Fatalf("limit: %d", p.Status)
	}
	owner.primeCSRF(base + "/review")
	p = owner.post(base+"/confirm", nil)
	if p.Status != http.StatusUnprocessableEntity || !p.Has(`[data-testid="error-confirm"]`) || !strings.Contains(p.Text(`[data-testid="does-not-fit"]`), "Only 1 of 4") {
		t.Fatalf("over budget: %d %q", p.Status, p.Text(`[data-testid="does-not-fit"]`))
	}
	if c, _ := campaigns.Get(context.Background(), b.tn, id); c.State != campaigns.Draft {
		t.Fatalf("refused campaign is %s", c.State)
	}

	// No limit: confirmed, handed to the sender, off to the report page.
	if p := owner.post("/campaigns/settings", vals("monthly_limit", "")); p.Status != http.StatusSeeOther {
		t.Fatalf("limit off: %d", p.Status)
	}
	owner.primeCSRF(base + "/review")
	p = owner.post(base+"/confirm", nil)
	if p.Status != http.StatusSeeOther || p.Location != base {
		t.Fatalf("confirm: %d %q", p.Status, p.Location)
	}
	// The sender started it at once: the 4 recipients are frozen.
	c, _ := campaigns.Get(context.Background(), b.tn, id)
	if c.State != campaigns.Sending || c.Recipients != 4 || c.ScheduledAt == nil || !c.Estimate.Valid || c.Estimate.Decimal.StringFixed(4) != "0.4524" {
		t.Fatalf("after confirm: %+v", c)
	}
	// A second click, the review and the edit lead to the report.
	if p := owner.post(base+"/confirm", nil); p.Status != http.StatusSeeOther || p.Location != base {
		t.Fatalf("second confirm: %d %q", p.Status, p.Location)
	}
	if p := owner.getRaw(base + "/edit"); p.Status != http.StatusSeeOther || p.Location != base {
		t.Fatalf("edit after confirm: %d %q", p.Status, p.Location)
	}
	var audits int64
	a.db.Gorm.Table("audit_events").Where("action IN ?", []string{"campaign.created", "campaign.confirmed", "business.monthly_limit_set"}).Count(&audits)
	if audits != 4 {
		t.Errorf("%d audit entries", audits)
	}
}

func TestComposeDeleteDraft(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	owner.primeCSRF("/campaigns/new")
	p := owner.post("/campaigns", composeVals(b))
	id := campaignIDFrom(t, p.Location)
	base := "/campaigns/" + strconv.FormatInt(id, 10)
	if p := owner.post(base+"/delete", nil); p.Status != http.StatusSeeOther || p.Location != "/campaigns" {
		t.Fatalf("delete: %d %q", p.Status, p.Location)
	}
	if p := owner.getRaw(base + "/review"); p.Status != http.StatusNotFound {
		t.Fatalf("deleted review: %d", p.Status)
	}
}

func TestCampaignSettingsAndTier(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	tn := a.tenantOf("anna@kraus.example")
	staff := a.staff(owner, "sam@kraus.example")
	if p := staff.getRaw("/campaigns/settings"); p.Status != http.StatusForbidden {
		t.Errorf("staff settings: %d", p.Status)
	}
	p := owner.get("/campaigns/settings")
	if !strings.Contains(p.Text(`[data-testid="settings-tier"]`), "250 recipients per 24 hours") || !strings.Contains(p.Text(`[data-testid="settings-spent"]`), "€0.00") {
		t.Fatalf("settings: %q %q", p.Text(`[data-testid="settings-tier"]`), p.Text(`[data-testid="settings-spent"]`))
	}
	p = owner.post("/campaigns/settings", vals("monthly_limit", "12.345"))
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(`[data-testid="error-monthly_limit"]`), "two decimals") || p.Value("#f-monthly_limit") != "12.345" {
		t.Fatalf("bad limit: %d %q", p.Status, p.Text(`[data-testid="error-monthly_limit"]`))
	}
	if p = owner.postFollow("/campaigns/settings", vals("monthly_limit", "250")); p.Value("#f-monthly_limit") != "250.00" {
		t.Fatalf("saved limit shows %q", p.Value("#f-monthly_limit"))
	}

	adm := a.admin()
	path := "/admin/businesses/" + strconv.FormatInt(tn.BusinessID(), 10)
	ap := adm.get(path)
	if ap.Attr(`[data-testid="tier-select"] option[selected]`, "value") != "250" {
		t.Fatalf("admin page tier %q", ap.Attr(`[data-testid="tier-select"] option[selected]`, "value"))
	}
	if p := adm.post(path+"/tier", vals("tier", "10000")); p.Status != http.StatusSeeOther {
		t.Fatalf("set tier: %d", p.Status)
	}
	if p := adm.postFollow(path+"/tier", vals("tier", "123")); !strings.Contains(p.Doc.Text(), "Choose one of the platform's tiers") {
		t.Errorf("bad tier not refused")
	}
	biz, _ := tn.Business(context.Background())
	if biz.MessagingTier != 10000 || biz.MonthlyLimit.Decimal.StringFixed(2) != "250.00" {
		t.Fatalf("business %+v", biz)
	}
	if p := owner.post(path+"/tier", vals("tier", "0")); p.Status != http.StatusForbidden {
		t.Errorf("owner sets own tier: %d", p.Status)
	}
}

// seedCampaignDraft gives business biz (the demo business of the
// cross-tenant scan) a draft campaign of its first approved template to
// its first segment, so the campaign routes are scanned with its id.
func seedCampaignDraft(t *testing.T, a *app, biz int64) {
	t.Helper()
	ctx := context.Background()
	tn, err := a.db.Tenant(biz)
	if err != nil {
		t.Fatal(err)
	}
	tpls, err := templates.List(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := contacts.Segments(ctx, tn)
	if err != nil || len(segs) == 0 {
		t.Fatalf("demo segments: %v", err)
	}
	for _, tp := range tpls {
		if tp.Status != templates.StateApproved {
			continue
		}
		var m campaigns.Mapping
		for _, v := range campaigns.TemplateVars(&tp) {
			m = append(m, campaigns.Var{Part: v.Part, N: v.N, Source: campaigns.SourceField, Key: "first_name", Fallback: "Sonnenschein"})
		}
		if _, err := campaigns.Create(ctx, tn, nil, campaigns.Input{Name: "Sonnenschein Herbst", TemplateID: tp.ID, Mapping: m,
			SegmentIDs: []int64{segs[0].ID}, SendNow: true, FitMode: campaigns.FitRefuse}); err != nil {
			t.Fatalf("demo campaign: %v", err)
		}
		return
	}
	t.Fatal("the demo business has no approved template")
}

func TestComposeScheduledPartialFit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	// 248 of the 250 tier reached in the last hour: 2 of the 4 fit.
	now := a.db.Now()
	for i := 0; i < 248; i++ {
		if err := a.db.Gorm.Exec(`INSERT INTO messages (business_id, to_phone, state, created_at, updated_at, delivered_at, category, country)
			VALUES (?, ?, 'delivered', ?, ?, ?, 'marketing', 'DE')`, b.tn.BusinessID(), "+49170"+strconv.Itoa(1000000+i), now, now, now.Add(-time.Hour)).Error; err != nil {
			t.Fatal(err)
		}
	}
	v := composeVals(b)
	v.Set("fit_mode", "partial")
	v.Set("send_mode", "later")
	v.Set("send_at", "2026-03-03T08:00")
	owner.primeCSRF("/campaigns/new")
	p := owner.post("/campaigns", v)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	base := strings.TrimSuffix(p.Location, "/review")
	r := owner.get(p.Location)
	if got := r.Text(`[data-testid="fits-partial"]`); !strings.Contains(got, "Only 2 of 4") || !strings.Contains(got, "2 will be left out") {
		t.Errorf("partial %q", got)
	}
	if got := r.Text(`[data-testid="confirm-restate"]`); !strings.Contains(got, "Send to 2 recipients") || !strings.Contains(got, "€0.23") ||
		!strings.Contains(got, "08:00") || !strings.Contains(got, "Europe/Berlin") || r.Text(`[data-testid="confirm-button"]`) != "Schedule" {
		t.Errorf("restated %q / %q", got, r.Text(`[data-testid="confirm-button"]`))
	}
	if p := owner.postFollow(base+"/confirm", nil); p.Status != http.StatusOK || !strings.Contains(p.Doc.Text(), "Scheduled.") {
		t.Errorf("no scheduled notice (status %d)", p.Status)
	}
	id := campaignIDFrom(t, base)
	c, _ := campaigns.Get(context.Background(), b.tn, id)
	if c.State != campaigns.Scheduled || c.ScheduledAt.UTC().Format(time.RFC3339) != "2026-03-03T07:00:00Z" || c.Estimate.Decimal.StringFixed(4) != "0.2262" {
		t.Fatalf("scheduled %+v", c)
	}
}
