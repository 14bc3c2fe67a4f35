package campaigns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/models/templates"
)

// Input is what the composer submits. SendAt is a wall-clock time in
// the business's time zone ("2006-01-02T15:04", the value of an HTML
// datetime-local input); WindowStart and WindowEnd are "HH:MM" or both
// empty (no window).
type Input struct {
	Name             string
	TemplateID       int64
	Mapping          Mapping
	SegmentIDs       []int64
	AllContacts      bool
	ExcludeSegmentID *int64
	SkipLandlines    bool
	FitMode          string
	SendNow          bool
	SendAt           string
	WindowStart      string
	WindowEnd        string
}

// Limits of the composer's texts.
const (
	maxName     = 120
	maxVarText  = 1000
	maxSegments = 50
)

// SendAtLayout is the layout of Input.SendAt.
const SendAtLayout = "2006-01-02T15:04"

// VarField is the form field that reports problems of the variable
// (part, n): "var_body_1", "var_header_1", "var_url_0".
func VarField(part string, n int) string { return "var_" + part + "_" + strconv.Itoa(n) }

// TemplateVars are the variables a template needs filled, in order:
// the header's, the body's ({{1}}…{{n}}), then each URL button whose URL
// ends in a variable (N is the button's index).
func TemplateVars(t *templates.Template) []Var {
	var out []Var
	for _, n := range templates.Vars(t.Header) {
		out = append(out, Var{Part: "header", N: n})
	}
	for _, n := range templates.Vars(t.Body) {
		out = append(out, Var{Part: "body", N: n})
	}
	for i, b := range t.ButtonList() {
		if b.Type == channel.ButtonURL && len(templates.Vars(b.URL)) > 0 {
			out = append(out, Var{Part: "url", N: i})
		}
	}
	return out
}

// ParseSendAt reads a wall-clock time "2006-01-02T15:04" in loc. A time
// that does not exist there (skipped by a DST change: 02:30 on the
// spring-forward night in Europe/Berlin) is refused with
// "campaign.send_at.gap"; a time that exists twice (the autumn night)
// is the first of the two.
func ParseSendAt(s string, loc *time.Location) (time.Time, error) {
	s = NormalizeSendAt(s)
	if s == "" {
		return time.Time{}, models.Invalid("send_at", "campaign.send_at.required")
	}
	t, err := time.ParseInLocation(SendAtLayout, s, loc)
	if err != nil {
		return time.Time{}, models.Invalid("send_at", "campaign.send_at.invalid")
	}
	if t.Format(SendAtLayout) != s {
		// The wall clock jumped over it: Go moved it by the gap.
		return time.Time{}, models.Invalid("send_at", "campaign.send_at.gap", strings.Replace(s, "T", " ", 1), loc.String())
	}
	// Ambiguous: an earlier instant shows the same wall clock.
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		if e := t.Add(-d); e.In(loc).Format(SendAtLayout) == s {
			t = e
		}
	}
	return t, nil
}

// NormalizeSendAt is a send time as browsers and people write it, in
// SendAtLayout: trimmed, "2026-03-29 09:00" (a browser without a date
// picker) with a T, and zero seconds ("09:00:00") dropped.
func NormalizeSendAt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + strings.TrimLeft(s[11:], " ")
	}
	if len(s) == len(SendAtLayout)+3 && strings.HasSuffix(s, ":00") {
		s = s[:len(SendAtLayout)]
	}
	return s
}

// ParseClock reads "HH:MM" (00:00–23:59) as minutes after midnight.
func ParseClock(field, s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, models.Invalid(field, "campaign.window.invalid")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, models.Invalid(field, "campaign.window.invalid")
	}
	return hh*60 + mm, nil
}

// ParseWindow reads a send window: both "HH:MM" or both empty (nil, nil:
// no window). A window may run over midnight (22:00–06:00); start and end
// may not be equal.
func ParseWindow(start, end string) (*int, *int, error) {
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	if start == "" && end == "" {
		return nil, nil, nil
	}
	v := &models.ValidationError{}
	if start == "" {
		v.Add("window_start", "campaign.window.both")
	}
	if end == "" {
		v.Add("window_end", "campaign.window.both")
	}
	var s, e int
	var err error
	if start != "" {
		if s, err = ParseClock("window_start", start); err != nil {
			v.Merge(err)
		}
	}
	if end != "" {
		if e, err = ParseClock("window_end", end); err != nil {
			v.Merge(err)
		}
	}
	if v.Err() == nil && s == e {
		v.Add("window_end", "campaign.window.same")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return &s, &e, nil
}

// ClockText shows minutes after midnight as "HH:MM".
func ClockText(m *int) string {
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", *m/60, *m%60)
}

// businessZone is the business's time zone from its profile (UTC when
// unset or unknown).
func businessZone(ctx context.Context, tn models.Tenant) (string, *time.Location, error) {
	p, err := profiles.Get(ctx, tn)
	if err != nil {
		return "", nil, err
	}
	name := strings.TrimSpace(p.TimeZone)
	if name == "" {
		name = "UTC"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "UTC", time.UTC, nil
	}
	return name, loc, nil
}

// BusinessZone is the business's time zone (its profile's; UTC when
// unset), which the composer shows by name.
func BusinessZone(ctx context.Context, tn models.Tenant) (*time.Location, error) {
	_, loc, err := businessZone(ctx, tn)
	return loc, models.Wrap("campaigns.BusinessZone", err)
}

// check validates in against this business's templates and segments and
// fills c with the result; every problem is reported at its field at once.
func check(ctx context.Context, tn models.Tenant, in Input, now time.Time, c *Campaign) error {
	v := &models.ValidationError{}
	name := strings.TrimSpace(in.Name)
	if err := models.CheckName("name", name, maxName); err != nil {
		v.Merge(err)
	}
	c.Name = name

	// The template: this business's, approved, every variable mapped.
	c.Mapping, c.TemplateID = nil, in.TemplateID
	if in.TemplateID <= 0 {
		v.Add("template_id", "campaign.template.required")
	} else if tpl, err := templates.Get(ctx, tn, in.TemplateID); errors.Is(err, models.ErrNotFound) {
		v.Add("template_id", "campaign.template.unknown")
	} else if err != nil {
		return err
	} else if tpl.Status != templates.StateApproved {
		v.Add("template_id", "campaign.template.not_approved", tpl.Name)
	} else {
		c.TemplateID, c.TemplateName, c.TemplateLanguage, c.Category = tpl.ID, tpl.Name, tpl.Language, tpl.Category
		c.Mapping = checkMapping(v, TemplateVars(tpl), in.Mapping)
	}

	// The audience: own segments or every contact, an own exclusion.
	ids := slices.Compact(slices.Sorted(slices.Values(in.SegmentIDs)))
	c.AllContacts = in.AllContacts
	c.SegmentIDs = nil
	switch {
	case in.AllContacts:
	case len(ids) == 0:
		v.Add("audience", "campaign.audience.required")
	case len(ids) > maxSegments:
		v.Add("audience", "campaign.audience.too_many", maxSegments)
	default:
		var n int64
		if err := tn.Scoped(ctx).Model(&contacts.Segment{}).Where("id IN ?", ids).Count(&n).Error; err != nil {
			return err
		}
		if int(n) != len(ids) {
			v.Add("audience", "campaign.audience.unknown_segment")
		}
		c.SegmentIDs = ids
	}
	c.ExcludeSegmentID = nil
	if in.ExcludeSegmentID != nil {
		id := *in.ExcludeSegmentID
		if id <= 0 {
			v.Add("exclude_segment_id", "campaign.exclude.unknown")
		} else if _, err := contacts.SegmentByID(ctx, tn, id); errors.Is(err, models.ErrNotFound) {
			v.Add("exclude_segment_id", "campaign.exclude.unknown")
		} else if err != nil {
			return err
		} else if !in.AllContacts && slices.Contains(ids, id) {
			v.Add("exclude_segment_id", "campaign.exclude.also_picked")
		}
		c.ExcludeSegmentID = &id
	}
	c.SkipLandlines = in.SkipLandlines

	switch in.FitMode {
	case FitRefuse, FitPartial:
		c.FitMode = in.FitMode
	case "":
		c.FitMode = FitRefuse
	default:
		v.Add("fit_mode", "campaign.fit_mode.invalid")
	}

	// When: now, or a future time in the business's zone; the window.
	zone, loc, err := businessZone(ctx, tn)
	if err != nil {
		return err
	}
	c.TimeZone = zone
	c.ScheduledAt = nil
	if !in.SendNow {
		at, err := ParseSendAt(in.SendAt, loc)
		switch {
		case err != nil:
			v.Merge(err)
		case !at.After(now):
			v.Add("send_at", "campaign.send_at.past", now.In(loc).Format("2006-01-02 15:04"), zone)
		default:
			at = at.UTC()
			c.ScheduledAt = &at
		}
	}
	ws, we, err := ParseWindow(in.WindowStart, in.WindowEnd)
	v.Merge(err)
	c.WindowStart, c.WindowEnd = ws, we
	return v.Err()
}

// checkMapping matches the submitted variables to the template's: each
// needs a source and a key (a known field, a valid attribute key, or a
// fixed text); the fallback is optional. The result is in the template's
// order.
func checkMapping(v *models.ValidationError, need []Var, in Mapping) Mapping {
	out := make(Mapping, 0, len(need))
	for _, want := range need {
		field := VarField(want.Part, want.N)
		var got *Var
		for i := range in {
			if in[i].Part == want.Part && in[i].N == want.N {
				got = &in[i]
				break
			}
		}
		if got == nil {
			v.Add(field, "campaign.var.required")
			out = append(out, want)
			continue
		}
		m := Var{Part: want.Part, N: want.N, Source: got.Source, Key: strings.TrimSpace(got.Key), Fallback: strings.TrimSpace(got.Fallback)}
		switch m.Source {
		case SourceField:
			if !slices.Contains(ContactFields, m.Key) {
				v.Add(field, "campaign.var.field_unknown")
			}
		case SourceAttr:
			m.Key = strings.ToLower(m.Key)
			if m.Key == "" {
				v.Add(field, "campaign.var.attr_required")
			} else if !contacts.ValidAttrKey(m.Key) {
				v.Add(field, "campaign.var.attr_invalid")
			}
		case SourceText:
			if m.Key == "" {
				v.Add(field, "campaign.var.text_required")
			}
			m.Fallback = ""
		default:
			v.Add(field, "campaign.var.required")
		}
		if !v.Has(field) && (badText(m.Key) || badText(m.Fallback)) {
			v.Add(field, "campaign.var.text_invalid", maxVarText)
		}
		out = append(out, m)
	}
	return out
}

func badText(s string) bool {
	return !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxVarText || models.HasControlChars(s)
}

// audit records one campaign event in tx.
func audit(tx *gorm.DB, now time.Time, tn models.Tenant, actor *models.User, c *Campaign, action, detail string) error {
	e := models.AuditEntry{BusinessID: tn.BusinessID(), Action: action, TargetType: "campaign",
		TargetID: strconv.FormatInt(c.ID, 10), Detail: detail}
	if actor != nil {
		e.ActorID, e.ActorEmail = actor.ID, actor.Email
	}
	return models.WriteAudit(tx, now, e)
}

// Create saves a new draft. Problems are a *models.ValidationError with
// every field's message; nothing is saved then.
func Create(ctx context.Context, tn models.Tenant, actor *models.User, in Input) (*Campaign, error) {
	if err := tn.Check(); err != nil {
		return nil, err
	}
	now := tn.DB().Now().UTC()
	c := &Campaign{BusinessID: tn.BusinessID(), State: Draft, CreatedAt: now, UpdatedAt: now}
	if actor != nil {
		c.CreatedByID = &actor.ID
	}
	if err := check(ctx, tn, in, now, c); err != nil {
		return nil, models.Wrap("campaigns.Create", err)
	}
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		g := tx.Gorm(ctx)
		if err := g.Create(c).Error; err != nil {
			return err
		}
		return audit(g, now, tn, actor, c, "campaign.created", c.Name)
	})
	if err != nil {
		return nil, models.Wrap("campaigns.Create", err)
	}
	return c, nil
}

// ErrNotDraft is returned for a change to a campaign that is no longer a
// draft (confirmed, sending or over).
var ErrNotDraft = fmt.Errorf("campaigns: the campaign is no longer a draft: %w", models.ErrConflict)

// lockDraft loads the campaign in tx after taking the business's write
// lock (edits, confirmation and deletion of one business's campaigns are
// serialised).
func lockCampaign(tx *gorm.DB, tn models.Tenant, id int64) (*Campaign, error) {
	if res := tx.Exec("UPDATE businesses SET updated_at = updated_at WHERE id = ?", tn.BusinessID()); res.Error != nil {
		return nil, res.Error
	}
	var c Campaign
	err := tn.ScopedTx(tx).First(&c, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &c, err
}

// Update changes a draft; a campaign that is not a draft is ErrNotDraft.
func Update(ctx context.Context, tn models.Tenant, actor *models.User, id int64, in Input) (*Campaign, error) {
	if err := tn.Check(); err != nil {
		return nil, err
	}
	now := tn.DB().Now().UTC()
	var out *Campaign
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		g := tx.Gorm(ctx)
		c, err := lockCampaign(g, tn, id)
		if err != nil {
			return err
		}
		if c.State != Draft {
			return ErrNotDraft
		}
		if err := check(ctx, tx, in, now, c); err != nil {
			return err
		}
		c.UpdatedAt = now
		if err := tn.ScopedTx(g).Model(&Campaign{}).Where("id = ?", id).Select("*").Omit("id", "business_id", "created_at", "created_by_id").Updates(c).Error; err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, models.Wrap("campaigns.Update", err)
	}
	return out, nil
}

// Get loads one campaign of this business; another business's is
// models.ErrNotFound.
func Get(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	var c Campaign
	if err := tn.First(ctx, &c, id); err != nil {
		return nil, models.Wrap("campaigns.Get", err)
	}
	return &c, nil
}

// Delete removes a draft; a confirmed campaign is cancelled instead (its
// messages are the record of what was sent), so it is ErrNotDraft.
func Delete(ctx context.Context, tn models.Tenant, actor *models.User, id int64) error {
	if err := tn.Check(); err != nil {
		return err
	}
	now := tn.DB().Now().UTC()
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		g := tx.Gorm(ctx)
		c, err := lockCampaign(g, tn, id)
		if err != nil {
			return err
		}
		if c.State != Draft {
			return ErrNotDraft
		}
		if err := tn.ScopedTx(g).Where("id = ? AND state = ?", id, Draft).Delete(&Campaign{}).Error; err != nil {
			return err
		}
		return audit(g, now, tn, actor, c, "campaign.deleted", c.Name)
	})
	return models.Wrap("campaigns.Delete", err)
}

// InputOf is the stored campaign as the composer's input (editing a
// draft), with the send time in the campaign's zone.
func InputOf(c *Campaign) Input {
	in := Input{Name: c.Name, TemplateID: c.TemplateID, Mapping: slices.Clone(c.Mapping), SegmentIDs: slices.Clone(c.SegmentIDs),
		AllContacts: c.AllContacts, SkipLandlines: c.SkipLandlines, FitMode: c.FitMode, SendNow: c.ScheduledAt == nil,
		WindowStart: ClockText(c.WindowStart), WindowEnd: ClockText(c.WindowEnd)}
	if c.ExcludeSegmentID != nil {
		id := *c.ExcludeSegmentID
		in.ExcludeSegmentID = &id
	}
	if c.ScheduledAt != nil {
		in.SendAt = c.ScheduledAt.In(c.Location()).Format(SendAtLayout)
	}
	return in
}

// Confirm turns a draft into a scheduled campaign, once every rule holds
// at now: the business is not suspended, the template is still approved,
// the send time (unless "now") has not passed, the audience is not empty
// and it fits the tier and the month's budget — or the owner chose to
// send to as many as fit and some do. A refusal for the figures is a
// *FitError; the others a *models.ValidationError at field "confirm".
// The estimate (of the recipients that fit) and its currency are stored;
// a draft sent now gets ScheduledAt = now. The caller then starts it
// (sending.Engine.Start).
func Confirm(ctx context.Context, tn models.Tenant, actor *models.User, id int64, sp Spending, now time.Time) (*Campaign, error) {
	if err := tn.Check(); err != nil {
		return nil, err
	}
	c, err := Get(ctx, tn, id)
	if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	if c.State != Draft {
		return nil, models.Wrap("campaigns.Confirm", ErrNotDraft)
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	if b.Suspended() {
		return nil, models.Invalid("confirm", "campaign.confirm.suspended")
	}
	tpl, err := templates.Get(ctx, tn, c.TemplateID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Invalid("confirm", "campaign.template.unknown")
	} else if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	if tpl.Status != templates.StateApproved {
		return nil, models.Invalid("confirm", "campaign.template.not_approved", tpl.Name)
	}
	if c.ScheduledAt != nil && !c.ScheduledAt.After(now) {
		return nil, models.Invalid("confirm", "campaign.confirm.time_passed")
	}
	cnt, err := CountAudience(ctx, tn, c)
	if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	if cnt.Recipients == 0 {
		return nil, models.Invalid("confirm", "campaign.confirm.empty")
	}
	est, err := EstimateCost(ctx, tn, c, now)
	if errors.Is(err, billing.ErrNoCard) {
		return nil, models.Invalid("confirm", "campaign.confirm.no_card")
	} else if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	h, err := HeadroomFor(ctx, tn, c, est, sp, now)
	if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	total := est.Total
	if !h.AllFit() {
		if c.FitMode != FitPartial || h.Fits == 0 {
			return nil, &FitError{Headroom: h, Estimate: est, Partial: c.FitMode == FitPartial}
		}
		if part := est.MaxUnit.Mul(decimal.NewFromInt(int64(h.Fits))); part.LessThan(total) {
			total = part
		}
	}
	now = now.UTC()
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		g := tx.Gorm(ctx)
		locked, err := lockCampaign(g, tn, id)
		if err != nil {
			return err
		}
		if locked.State != Draft || !locked.UpdatedAt.Equal(c.UpdatedAt) {
			return ErrNotDraft // confirmed, or edited, meanwhile
		}
		at := now
		if c.ScheduledAt != nil {
			at = c.ScheduledAt.UTC()
		}
		c.State, c.StateReason, c.ScheduledAt, c.UpdatedAt = Scheduled, "", &at, now
		c.Estimate, c.Currency = decimal.NullDecimal{Decimal: total, Valid: true}, est.Currency
		res := tn.ScopedTx(g).Model(&Campaign{}).Where("id = ? AND state = ?", id, Draft).Updates(map[string]any{
			"state": c.State, "state_reason": "", "scheduled_at": at, "estimate": c.Estimate, "currency": c.Currency, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotDraft
		}
		detail := fmt.Sprintf("%s: %d of %d recipients, estimate %s %s, at %s", c.Name, h.Fits, cnt.Recipients,
			total.StringFixed(2), est.Currency, at.Format(time.RFC3339))
		return audit(g, now, tn, actor, c, "campaign.confirmed", detail)
	})
	if err != nil {
		return nil, models.Wrap("campaigns.Confirm", err)
	}
	return c, nil
}
