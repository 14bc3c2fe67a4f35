package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// reviewPreviews is how many real recipients the review page shows.
const reviewPreviews = 3

// reviewVM gathers the review page's figures for a draft.
func (ch *composeHandler) reviewVM(c echo.Context, tn models.Tenant, camp *campaigns.Campaign, f *views.Form) (views.ReviewVM, error) {
	ctx := c.Request().Context()
	now := ch.s.DB.Now()
	l := labels(c)
	vm := views.ReviewVM{ID: camp.ID, Name: camp.Name, Template: camp.TemplateName + " (" + camp.TemplateLanguage + ")",
		SendNow: camp.ScheduledAt == nil, FitMode: camp.FitMode, Form: f, Zone: camp.TimeZone}
	if camp.ScheduledAt != nil {
		vm.When = l.L.DateTime(*camp.ScheduledAt, camp.Location())
	}
	if camp.WindowStart != nil {
		vm.Window = campaigns.ClockText(camp.WindowStart) + "–" + campaigns.ClockText(camp.WindowEnd)
	}
	// The audience in words.
	var names []string
	if camp.AllContacts {
		names = append(names, l.T("campaign.audience.all"))
	} else {
		for _, id := range camp.SegmentIDs {
			if s, err := contacts.SegmentByID(ctx, tn, id); err == nil {
				names = append(names, s.Name)
			}
		}
	}
	vm.Audience = strings.Join(names, ", ")
	if camp.ExcludeSegmentID != nil {
		if s, err := contacts.SegmentByID(ctx, tn, *camp.ExcludeSegmentID); err == nil {
			vm.Exclude = s.Name
		}
	}
	vm.SkipLandlines = camp.SkipLandlines

	cnt, err := campaigns.CountAudience(ctx, tn, camp)
	if _, ok := models.AsValidation(err); ok {
		// A segment was deleted since: the page says so and offers the edit.
		_ = web.FormErrors(c, f, err)
		vm.Broken = true
		return vm, nil
	}
	if err != nil {
		return vm, err
	}
	vm.Count = cnt
	if vm.Previews, err = campaigns.Previews(ctx, tn, camp, reviewPreviews); err != nil && !errors.Is(err, models.ErrNotFound) {
		return vm, err
	}
	est, err := campaigns.EstimateCost(ctx, tn, camp, now)
	if errors.Is(err, billing.ErrNoCard) {
		vm.NoCard = true
		return vm, nil
	}
	if err != nil {
		return vm, err
	}
	vm.Estimate = &est
	h, err := campaigns.HeadroomFor(ctx, tn, camp, est, ch.spending, now)
	if err != nil {
		return vm, err
	}
	vm.Headroom = &h
	return vm, nil
}

func (ch *composeHandler) renderReview(c echo.Context, status int, tn models.Tenant, camp *campaigns.Campaign, f *views.Form) error {
	vm, err := ch.reviewVM(c, tn, camp, f)
	if err != nil {
		return err
	}
	return web.Render(c, status, views.ReviewPage(web.NewPage(c, "campaign.review_title", "campaigns"), vm))
}

func (ch *composeHandler) review(c echo.Context) error {
	tn, camp, err := fromPath(ch.Handler, c, campaigns.Get)
	if err != nil {
		return err
	}
	if camp.State != campaigns.Draft {
		return redirect(c, campaignURL(camp.ID, ""))
	}
	return ch.renderReview(c, http.StatusOK, tn, camp, views.NewForm())
}

func (ch *composeHandler) confirmReload(c echo.Context) error {
	_, id, err := ch.scopedID(c)
	if err != nil {
		return err
	}
	return redirect(c, campaignURL(id, "/review"))
}

// confirm confirms the draft (models) and hands it to the sender, which
// starts it now or when its time comes; the report page follows.
func (ch *composeHandler) confirm(c echo.Context) error {
	ctx := c.Request().Context()
	tn, id, err := ch.scopedID(c)
	if err != nil {
		return err
	}
	user := actor(c).User
	camp, err := campaigns.Confirm(ctx, tn, user, id, ch.spending, ch.s.DB.Now())
	if errors.Is(err, campaigns.ErrNotDraft) {
		return redirect(c, campaignURL(id, ""))
	}
	var fe *campaigns.FitError
	if errors.As(err, &fe) || isValidation(err) {
		draft, gerr := campaigns.Get(ctx, tn, id)
		if gerr != nil {
			return gerr
		}
		f := views.NewForm()
		if fe != nil {
			f.SetError("confirm", t(c, "campaign.confirm.does_not_fit"))
		} else if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return ch.renderReview(c, http.StatusUnprocessableEntity, tn, draft, f)
	}
	if err != nil {
		return err
	}
	if err := ch.engine.Start(ctx, tn, user, camp.ID); err != nil {
		// Confirmed and scheduled: the sender's scheduler picks it up.
		ch.s.Log.Error("campaign start failed", "campaign", camp.ID, "error", err.Error())
		web.Flash(c, "error", t(c, "campaign.start_failed"))
		return redirect(c, campaignURL(camp.ID, ""))
	}
	if camp.ScheduledAt != nil && camp.ScheduledAt.After(ch.s.DB.Now()) {
		web.Flash(c, "success", t(c, "campaign.scheduled_done"))
	} else {
		web.Flash(c, "success", t(c, "campaign.started_done"))
	}
	return redirect(c, campaignURL(camp.ID, ""))
}

func isValidation(err error) bool { _, ok := models.AsValidation(err); return ok }
