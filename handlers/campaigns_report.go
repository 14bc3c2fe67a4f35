package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// campaignReport serves the campaigns list, each campaign's report with
// its live progress, message list and exports, and the pause, resume,
// cancel and retry buttons (which call the sender).
type campaignReport struct {
	*Handler
	sender *sending.Engine
}

// registerCampaignReport adds the report's routes (members: staff and
// owners run campaigns). H1's compose routes (/campaigns/new,
// /campaigns/:id/edit, …) sit beside them.
func registerCampaignReport(h *Handler, member web.Routes, d Deps) {
	cr := &campaignReport{Handler: h, sender: d.Campaigns}
	member.GET("/campaigns", h.listCampaigns)
	member.GET("/campaigns/:id", cr.show)
	member.GET("/campaigns/:id/progress", cr.progressJSON)
	member.GET("/campaigns/:id/messages", cr.messages)
	member.GET("/campaigns/:id/export.csv", cr.exportCSV)
	member.GET("/campaigns/:id/export.xlsx", cr.exportXLSX)
	member.POST("/campaigns/:id/pause", cr.pause)
	member.POST("/campaigns/:id/resume", cr.resume)
	member.POST("/campaigns/:id/cancel", cr.cancel)
	member.POST("/campaigns/:id/retry", cr.retry)
}

func (cr *campaignReport) load(c echo.Context) (models.Tenant, *campaigns.Campaign, error) {
	return fromPath(cr.Handler, c, campaigns.ForReport)
}

// show is a campaign's page: a draft goes to its editor; a campaign on
// its way shows live progress; one that has sent shows the funnel,
// delivery over time and failures.
func (cr *campaignReport) show(c echo.Context) error {
	tn, cp, err := cr.load(c)
	if err != nil {
		return err
	}
	if cp.State == campaigns.Draft {
		return redirect(c, reportHref(cp.ID, cp.State))
	}
	ctx := c.Request().Context()
	l := web.LocaleFrom(ctx)
	_, prog, err := campaigns.ProgressAt(ctx, tn, cp.ID, cr.s.DB.Now())
	if err != nil {
		return err
	}
	segs, exclude, err := campaigns.AudienceNames(ctx, tn, cp)
	if err != nil {
		return err
	}
	vm := views.CampaignReportVM{ID: cp.ID, Name: cp.Name, State: cp.State, StateText: t(c, "report.state."+cp.State),
		Template: t(c, "report.template", cp.TemplateName, cp.TemplateLanguage), Audience: reportAudience(c, cp.AllContacts, segs, exclude),
		Live: cp.Active(), Progress: reportProgress(c, cp, prog)}
	if cp.StateReason != "" && !vm.Live {
		vm.Reason = reportReason(c, cp.StateReason)
	}
	vm.ProgressFacts = reportProgressFacts(c, vm.Progress)
	failures, err := campaigns.Failures(ctx, tn, cp.ID)
	if err != nil {
		return err
	}
	retryable := 0
	for _, f := range failures {
		retryable += f.RetryN
		vm.Failures = append(vm.Failures, reportFailureRow(c, cp.ID, f))
	}
	vm.CanPause = cp.State == campaigns.Sending || cp.State == campaigns.Scheduled
	vm.CanResume = cp.State == campaigns.Paused
	vm.CanCancel = cp.Active()
	vm.CanRetry = retryable > 0 && cp.State != campaigns.Cancelled
	vm.RetryText = l.N("report.action.retry", int64(retryable))

	cost, err := campaigns.CostSoFar(ctx, tn, cp)
	if err != nil {
		return err
	}
	vm.Facts = reportFacts(c, cp, prog, cost)
	// The funnel and charts once messages exist and the campaign is not
	// being sent (while it is, the live figures stand for them).
	if prog.Counts.Total() > 0 && cp.State != campaigns.Sending {
		vm.Report = true
		f, err := campaigns.Funnel(ctx, tn, cp.ID)
		if err != nil {
			return err
		}
		vm.Funnel = reportFunnelRows(c, f)
		for _, r := range f.SkippedBy {
			vm.Skipped = append(vm.Skipped, views.ReasonRow{Reason: t(c, "report.skip."+reportSkipKey(r.Reason)), N: l.Int(int64(r.N))})
		}
		if f.LeftOut > 0 {
			vm.Skipped = append(vm.Skipped, views.ReasonRow{Reason: t(c, "report.skip.left_out"), N: l.Int(int64(f.LeftOut))})
		}
		if vm.FunnelChart, err = reportFunnelChart(c, vm.Funnel); err != nil {
			return err
		}
		b, err := campaigns.DeliveryOverTime(ctx, tn, cp.ID)
		if err != nil {
			return err
		}
		if len(b.Starts) > 0 {
			if vm.TimeChart, vm.TimeRows, err = reportTimeChart(c, b, cp.Location()); err != nil {
				return err
			}
		}
	}
	p := web.NewPage(c, "report.title", "campaigns")
	p.Title = cp.Name
	return web.Render(c, http.StatusOK, views.CampaignReport(p, vm))
}

// progressJSON is what the report page's script polls every 2 seconds.
func (cr *campaignReport) progressJSON(c echo.Context) error {
	tn, id, err := cr.scopedID(c)
	if err != nil {
		return err
	}
	began := time.Now()
	cp, prog, err := campaigns.ProgressAt(c.Request().Context(), tn, id, cr.s.DB.Now())
	if err != nil {
		return err
	}
	out := reportProgress(c, cp, prog)
	// The counts read every message of the campaign: a big one polls
	// less often, so watching never costs more than a tenth of the time.
	out.NextMS = max(2000, int(time.Since(began).Milliseconds())*10)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// reportProgressFields are the live figures in display order.
var reportProgressFields = []string{"queued", "sending", "accepted", "sent", "delivered", "read", "failed", "skipped", "unconfirmed"}

func reportProgress(c echo.Context, cp *campaigns.Campaign, p campaigns.LiveProgress) views.CampaignProgress {
	l := web.LocaleFrom(c.Request().Context())
	loc := cp.Location()
	out := views.CampaignProgress{State: p.State, Over: p.Over, Percent: p.Percent, Text: map[string]string{
		"state_text": t(c, "report.state."+p.State),
		"handled":    t(c, "report.progress.handled", l.Int(int64(p.Handled)), l.Int(int64(p.Total)), p.Percent),
		"rate":       "–",
		"eta":        "–",
		"note":       "",
	}}
	sc := p.Counts
	for _, st := range reportProgressFields {
		n := sc.ByState[st]
		if st == messages.Skipped { // those left out to fit are not recipients
			n -= sc.LeftOut()
		}
		out.Text[st] = l.Int(int64(n))
	}
	switch {
	case p.PerSecond >= 1:
		out.Text["rate"] = t(c, "report.progress.rate", l.Int(int64(math.Round(p.PerSecond))))
	case p.PerSecond > 0:
		out.Text["rate"] = t(c, "report.progress.rate_minute", l.Int(int64(math.Ceil(p.PerSecond*60))))
	}
	if p.ETA > 0 {
		out.Text["eta"] = etaText(c, p.ETA)
	}
	switch {
	case p.State == campaigns.Scheduled && p.ScheduledAt != nil:
		out.Text["note"] = t(c, "report.progress.scheduled", l.DateTime(*p.ScheduledAt, loc))
	case p.State == campaigns.Scheduled:
		out.Text["note"] = t(c, "report.progress.starting")
	case p.State == campaigns.Paused:
		out.Text["note"] = t(c, "report.progress.paused")
		if cp.StateReason != "" {
			out.Text["note"] = t(c, "report.progress.paused_because", reportReason(c, cp.StateReason))
		}
	case p.State == campaigns.Sending && cp.StateReason != "" && (cp.StateReason != campaigns.ReasonWindow || !p.Waiting):
		out.Text["note"] = reportReason(c, cp.StateReason)
	case p.Waiting:
		out.Text["note"] = t(c, "report.progress.window", l.DateTime(p.WindowOpens, loc))
	case p.State == campaigns.Sending && p.Handled == 0:
		out.Text["note"] = t(c, "report.progress.freezing")
	}
	return out
}

func reportProgressFacts(c echo.Context, p views.CampaignProgress) []views.CampaignFact {
	var out []views.CampaignFact
	for _, st := range reportProgressFields {
		out = append(out, views.CampaignFact{Name: st, Label: t(c, "report.msg_state."+st), Value: p.Text[st]})
	}
	out = append(out, views.CampaignFact{Name: "rate", Label: t(c, "report.progress.rate_label"), Value: p.Text["rate"]},
		views.CampaignFact{Name: "eta", Label: t(c, "report.progress.eta_label"), Value: p.Text["eta"]})
	return out
}

func reportFacts(c echo.Context, cp *campaigns.Campaign, p campaigns.LiveProgress, cost campaigns.Cost) []views.CampaignFact {
	l := web.LocaleFrom(c.Request().Context())
	loc := cp.Location()
	var out []views.CampaignFact
	add := func(name, label, value string) {
		out = append(out, views.CampaignFact{Name: name, Label: t(c, label), Value: value})
	}
	if cp.ScheduledAt != nil {
		add("scheduled", "report.fact.scheduled", l.DateTime(*cp.ScheduledAt, loc)+" ("+cp.TimeZone+")")
	}
	if cp.StartedAt != nil {
		add("started", "report.fact.started", l.DateTime(*cp.StartedAt, loc))
	}
	if cp.FinishedAt != nil {
		add("finished", "report.fact.finished", l.DateTime(*cp.FinishedAt, loc))
	}
	if cp.CancelledAt != nil {
		add("cancelled", "report.fact.cancelled", l.DateTime(*cp.CancelledAt, loc))
	}
	if cp.WindowStart != nil && cp.WindowEnd != nil && *cp.WindowStart != *cp.WindowEnd {
		add("window", "report.fact.window", reportMinutes(*cp.WindowStart)+"–"+reportMinutes(*cp.WindowEnd))
	}
	add("recipients", "report.fact.recipients", l.Int(int64(p.Total)))
	if cp.Estimate.Valid {
		digits := int32(i18n.CurrencyDigits(cp.Currency))
		add("estimate", "report.fact.estimate", l.MoneyScaled(cp.Estimate.Decimal.Round(digits).Shift(digits).IntPart(), int(digits), cp.Currency))
	}
	costV := reportCost(l, cost)
	if cost.Unpriced > 0 {
		costV += " " + t(c, "report.fact.unpriced", l.Int(int64(cost.Unpriced)))
	}
	add("cost", "report.fact.cost", costV)
	return out
}

func reportMinutes(m int) string {
	return strconv.Itoa(m/60/10) + strconv.Itoa(m/60%10) + ":" + strconv.Itoa(m%60/10) + strconv.Itoa(m%10)
}

// reportFunnelSteps are the funnel's rows in order.
var reportFunnelSteps = []string{"recipients", "accepted", "sent", "delivered", "read", "replied", "failed", "unconfirmed", "pending", "skipped", "opted_out"}

func reportFunnelRows(c echo.Context, f campaigns.FunnelCounts) []views.FunnelRow {
	l := web.LocaleFrom(c.Request().Context())
	n := map[string]int{"recipients": f.Recipients, "accepted": f.Accepted, "sent": f.Sent, "delivered": f.Delivered, "read": f.Read,
		"replied": f.Replied, "failed": f.Failed, "unconfirmed": f.Unconfirmed, "pending": f.Pending, "skipped": f.Skipped, "opted_out": f.OptedOut}
	var out []views.FunnelRow
	for _, s := range reportFunnelSteps {
		if (s == "pending" || s == "unconfirmed") && n[s] == 0 {
			continue
		}
		out = append(out, views.FunnelRow{Name: s, Label: t(c, "report.funnel."+s), N: l.Int(int64(n[s])), Count: n[s], Share: reportRate(l, n[s], f.Recipients)})
	}
	return out
}

func reportFailureRow(c echo.Context, id int64, f campaigns.FailureGroup) views.FailureRow {
	l := web.LocaleFrom(c.Request().Context())
	r := views.FailureRow{Title: f.Title, N: l.Int(int64(f.N)), Retryable: f.Retryable, Means: t(c, f.Explanation+".means"), Todo: t(c, f.Explanation+".todo")}
	if f.Code != 0 {
		r.Code = strconv.Itoa(f.Code)
	}
	if r.Title == "" {
		r.Title = t(c, "report.failures.untitled")
	}
	r.Href = "/campaigns/" + contactIDText(id) + "/messages?state=failed&code=" + strconv.Itoa(f.Code)
	return r
}

// reportSkipKey is a skip reason's catalogue suffix ("other" for one we do not
// name).
func reportSkipKey(reason string) string {
	switch reason {
	case "opted_out", "suppressed", "cancelled", "left_out", "missing_variable", "no_consent", "landline":
		return reason
	}
	return "other"
}

// The buttons: each calls the sender and comes back to the report with
// what happened. A refusal (the campaign's state does not allow it, the
// sender is not available) is said in a flash; nothing is lost.
func (cr *campaignReport) pause(c echo.Context) error {
	return cr.act(c, "pause", func(ctx context.Context, tn models.Tenant, u *models.User, id int64) (string, error) {
		return t(c, "report.action.paused"), cr.sender.Pause(ctx, tn, u, id)
	})
}

func (cr *campaignReport) resume(c echo.Context) error {
	return cr.act(c, "resume", func(ctx context.Context, tn models.Tenant, u *models.User, id int64) (string, error) {
		return t(c, "report.action.resumed"), cr.sender.Resume(ctx, tn, u, id)
	})
}

func (cr *campaignReport) cancel(c echo.Context) error {
	return cr.act(c, "cancel", func(ctx context.Context, tn models.Tenant, u *models.User, id int64) (string, error) {
		return t(c, "report.action.cancelled"), cr.sender.Cancel(ctx, tn, u, id)
	})
}

func (cr *campaignReport) retry(c echo.Context) error {
	return cr.act(c, "retry", func(ctx context.Context, tn models.Tenant, u *models.User, id int64) (string, error) {
		n, err := cr.sender.RetryFailed(ctx, tn, u, id)
		return web.LocaleFrom(ctx).N("report.action.retried", int64(n)), err
	})
}

func (cr *campaignReport) act(c echo.Context, what string, do func(context.Context, models.Tenant, *models.User, int64) (string, error)) error {
	tn, cp, err := cr.load(c)
	if err != nil {
		return err
	}
	back := "/campaigns/" + contactIDText(cp.ID)
	if cr.sender == nil {
		web.Flash(c, "error", t(c, "report.action.no_sender"))
		return redirect(c, back)
	}
	var u *models.User
	if a := actor(c); a != nil {
		u = a.User
	}
	ok, err := do(c.Request().Context(), tn, u, cp.ID)
	switch {
	case err == nil:
		web.Flash(c, "success", ok)
	case errors.Is(err, models.ErrNotFound):
		return err
	case errors.Is(err, models.ErrConflict):
		web.Flash(c, "error", t(c, "report.action.conflict", t(c, "report.action.verb."+what), strings.ToLower(t(c, "report.state."+cp.State))))
	default:
		msg := err.Error()
		if v, isV := models.AsValidation(err); isV {
			msg = reportValidationText(c, v)
		} else {
			cr.s.Log.Warn("campaign action refused", "action", what, "campaign", cp.ID, "error", err)
			msg = strings.TrimPrefix(msg, "sending: ")
		}
		web.Flash(c, "error", t(c, "report.action.failed", t(c, "report.action.verb."+what), msg))
	}
	return redirect(c, back)
}

// reportValidationText joins a validation error's messages in the request's
// language.
func reportValidationText(c echo.Context, v *models.ValidationError) string {
	l := web.LocaleFrom(c.Request().Context())
	var parts []string
	for _, p := range v.Problems {
		parts = append(parts, l.T(p.Key, p.Args...))
	}
	return strings.Join(parts, " ")
}
