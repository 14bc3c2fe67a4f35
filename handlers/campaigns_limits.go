package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// settingsForm is the owner's monthly spending limit ("" none).
type settingsForm struct {
	MonthlyLimit string `form:"monthly_limit"`
}

func (ch *composeHandler) renderSettings(c echo.Context, status int, f *views.Form) error {
	ctx := c.Request().Context()
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return err
	}
	now := ch.s.DB.Now()
	vm := views.CampaignSettingsVM{Form: f, Tier: b.MessagingTier, Limit: b.MonthlyLimit}
	card, err := billing.CardAt(ctx, ch.s.DB, now)
	switch {
	case errors.Is(err, billing.ErrNoCard):
		vm.NoCard = true
	case err != nil:
		return err
	default:
		vm.Currency = card.Currency
	}
	if vm.Spent, err = ch.spending.SpentInMonth(ctx, tn.BusinessID(), now); err != nil {
		return err
	}
	return web.Render(c, status, views.CampaignSettingsPage(web.NewPage(c, "campaign.settings_title", "campaigns"), vm))
}

func (ch *composeHandler) showSettings(c echo.Context) error {
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	b, err := tn.Business(c.Request().Context())
	if err != nil {
		return err
	}
	f := views.NewForm()
	if b.MonthlyLimit.Valid {
		f.Values["monthly_limit"] = b.MonthlyLimit.Decimal.StringFixed(2)
	}
	return ch.renderSettings(c, http.StatusOK, f)
}

func (ch *composeHandler) saveSettings(c echo.Context) error {
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	var in settingsForm
	f := bindForm(c, &in)
	limit, err := campaigns.ParseLimit(in.MonthlyLimit)
	if err == nil {
		err = campaigns.SetMonthlyLimit(c.Request().Context(), tn, actor(c).User, limit, c.RealIP())
	}
	if err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return ch.renderSettings(c, http.StatusUnprocessableEntity, f)
	}
	web.Flash(c, "success", t(c, "campaign.settings_saved"))
	return redirect(c, "/campaigns/settings")
}

// setTier is the administrators' messaging tier of a business.
func (ch *composeHandler) setTier(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	back := "/admin/businesses/" + strconv.FormatInt(id, 10)
	tier, perr := strconv.Atoi(c.FormValue("tier"))
	if perr != nil {
		tier = -1
	}
	err = campaigns.SetTier(c.Request().Context(), ch.s.DB, actor(c).User, id, tier, c.RealIP())
	if _, ok := models.AsValidation(err); ok {
		web.Flash(c, "error", t(c, "campaign.tier.invalid"))
		return redirect(c, back)
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "campaign.tier.saved"))
	return redirect(c, back)
}
