package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// senderForm sets a business's sender on the messaging platform.
type senderForm struct {
	PhoneNumberID string `form:"phone_number_id"`
	WABAID        string `form:"waba_id"`
}

// senderVM is the business's sender as the admin page shows it: the
// deployment's provider, the stored ids (a synthetic sandbox id is shown
// as such and never put in the form: SetSender would refuse it back) and,
// for the Cloud API, whether the sender is complete.
func (h *Handler) senderVM(b *models.Business, f *views.Form) views.SenderVM {
	synthetic := models.IsSandboxSender(b.PhoneNumberID) || models.IsSandboxSender(b.WABAID)
	if f == nil {
		f = views.NewForm()
		if !synthetic {
			f.Values["phone_number_id"], f.Values["waba_id"] = b.PhoneNumberID, b.WABAID
		}
	}
	provider := h.s.Config.Channel.Provider
	if provider == "" {
		provider = web.ChannelSandbox
	}
	return views.SenderVM{Provider: provider, PhoneNumberID: b.PhoneNumberID, WABAID: b.WABAID, Synthetic: synthetic,
		Complete: b.PhoneNumberID != "" && b.WABAID != "" && !synthetic, Form: f}
}

// setSender saves the sender an administrator typed (both ids, or both
// empty to clear it); a refused form is shown again with its problems.
func (h *Handler) setSender(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var form senderForm
	f := bindForm(c, &form)
	err = h.s.DB.SetSender(ctx, actor(c).User, id, form.PhoneNumberID, form.WABAID, c.RealIP())
	if _, ok := models.AsValidation(err); ok {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderAdminBusiness(c, http.StatusUnprocessableEntity, id, f)
	}
	if err != nil {
		return err
	}
	b, err := h.s.DB.BusinessByID(ctx, id)
	if err != nil {
		return err
	}
	if form.PhoneNumberID == "" {
		web.Flash(c, "success", t(c, "sender.cleared", b.Name))
	} else {
		web.Flash(c, "success", t(c, "sender.saved", b.Name))
	}
	return redirect(c, "/admin/businesses/"+strconv.FormatInt(id, 10))
}

// senderReload leads a reload of the refused form's address back to the
// business's page.
func (h *Handler) senderReload(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return redirect(c, "/admin/businesses/"+strconv.FormatInt(id, 10))
}
