package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// listCampaigns is the campaigns list: status, audience, rates and cost
// so far, newest first.
func (h *Handler) listCampaigns(c echo.Context) error {
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	rows, err := campaigns.List(c.Request().Context(), tn)
	if err != nil {
		return err
	}
	l := web.LocaleFrom(c.Request().Context())
	vm := views.CampaignListVM{}
	for _, r := range rows {
		vr := views.CampaignListRow{ID: r.ID, Href: reportHref(r.ID, r.State), Name: r.Name, State: r.State,
			StateText: t(c, "report.state."+r.State), Audience: reportAudience(c, r.AllContacts, r.Segments, r.Exclude),
			Recipients: l.Int(int64(r.Recipients)), SentRate: "–", Delivered: "–", ReadRate: "–", Cost: reportCost(l, r.Cost)}
		if (r.State == campaigns.Paused || r.State == campaigns.Sending) && r.StateReason != "" {
			vr.Reason = reportReason(c, r.StateReason)
		}
		if r.Recipients > 0 && r.State != campaigns.Draft && r.State != campaigns.Scheduled {
			vr.SentRate = reportRate(l, r.Sent, r.Recipients)
			vr.Delivered = reportRate(l, r.Delivered, r.Sent)
			vr.ReadRate = reportRate(l, r.Read, r.Delivered)
		}
		vr.When = reportWhen(c, r)
		vm.Rows = append(vm.Rows, vr)
	}
	p := web.NewPage(c, "report.list.title", "campaigns")
	return web.Render(c, http.StatusOK, views.CampaignList(p, vm))
}

// reportHref is where a campaign's row leads: a draft to its editor.
func reportHref(id int64, state string) string {
	if state == campaigns.Draft {
		return "/campaigns/" + contactIDText(id) + "/edit"
	}
	return "/campaigns/" + contactIDText(id)
}

func reportRate(l *i18n.Locale, part, total int) string {
	if total <= 0 {
		return "–"
	}
	return l.Percent(int64(part), int64(total))
}

// reportCost is the cost so far: "–" when nothing was delivered or priced.
func reportCost(l *i18n.Locale, cost campaigns.Cost) string {
	if !cost.Known() {
		return "–"
	}
	// Shown to the cent (the unit prices keep their decimals; the
	// invoice rounds once, per line).
	digits := int32(i18n.CurrencyDigits(cost.Currency))
	return l.MoneyScaled(cost.Amount.Round(digits).Shift(digits).IntPart(), int(digits), cost.Currency)
}

// reportAudience says who the campaign goes to.
func reportAudience(c echo.Context, all bool, segments []string, exclude string) string {
	var s string
	if all || len(segments) == 0 {
		s = t(c, "report.audience.all")
	} else {
		s = t(c, "report.audience.segments", strings.Join(segments, ", "))
	}
	if exclude != "" {
		s += " " + t(c, "report.audience.exclude", exclude)
	}
	return s
}

// reportReason is a state reason in words: a catalogue key when it is one,
// else the text as stored.
func reportReason(c echo.Context, reason string) string {
	l := web.LocaleFrom(c.Request().Context())
	if l.Has(reason) {
		return l.T(reason)
	}
	if k := campaigns.ReasonKey(reason); l.Has(k) {
		return l.T(k)
	}
	return reason
}

func reportWhen(c echo.Context, r campaigns.ListRow) string {
	l := web.LocaleFrom(c.Request().Context())
	at := func(tm *time.Time) string { return l.DateTime(*tm, r.Loc) }
	switch {
	case r.FinishedAt != nil:
		return t(c, "report.when.finished", at(r.FinishedAt))
	case r.StartedAt != nil:
		return t(c, "report.when.started", at(r.StartedAt))
	case r.ScheduledAt != nil:
		return t(c, "report.when.scheduled", at(r.ScheduledAt))
	}
	return t(c, "report.when.created", at(&r.CreatedAt))
}
