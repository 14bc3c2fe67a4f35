package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// Password resets. With SMTP configured, "Forgot password?" takes an
// address and always gives the same answer; a job mails the link (valid
// an hour). Without SMTP the page says whom to ask: a business owner
// makes a link for a staff member on the team page, an administrator for
// anyone on a business's page (valid a day, shown once). Following a link
// sets a new password and ends every session of the user. The routes are
// in routes.go.

// keyNewReset holds the reset link just made until the next page shows it
// once (sessions live in the database; the cookie holds only a token).
const keyNewReset = "new_reset_link"

// keyLoginEmail fills in the log-in form's address once, after a reset.
const keyLoginEmail = "login_email"

type newReset struct {
	Link    string    `json:"l"`
	Name    string    `json:"n"`
	Email   string    `json:"e"`
	Expires time.Time `json:"x"`
	// For is the business page (admin) or 0 (team page) it belongs to.
	For int64 `json:"b"`
}

func (h *Handler) resetLink(token string) string {
	return h.s.Config.BaseURL.String() + "/reset/" + token
}

func (h *Handler) keepNewReset(c echo.Context, n newReset) {
	b, _ := json.Marshal(n)
	web.SetSessionValue(c, keyNewReset, string(b))
}

// takeNewReset returns the link just made for the page of business (0:
// the team page), once.
func (h *Handler) takeNewReset(c echo.Context, business int64) *views.ResetLinkVM {
	raw, _ := web.Session(c).Values[keyNewReset].(string)
	if raw == "" {
		return nil
	}
	var n newReset
	if json.Unmarshal([]byte(raw), &n) != nil || n.For != business {
		return nil
	}
	web.SetSessionValue(c, keyNewReset, "")
	return &views.ResetLinkVM{Link: n.Link, Name: n.Name, Email: n.Email, Expires: n.Expires}
}

// noReferrer: a page whose address holds a reset token tells no other
// site (nor the site's own assets) where it came from.
func noReferrer(c echo.Context) { c.Response().Header().Set("Referrer-Policy", "no-referrer") }

func (h *Handler) showForgot(c echo.Context) error {
	if actor(c).User != nil {
		return redirect(c, "/account")
	}
	p := web.NewPage(c, "forgot.title", "")
	return web.Render(c, http.StatusOK, views.ForgotPage(p, views.NewForm(), h.s.Mailer.Enabled()))
}

// submitForgot queues the reset mail and answers the same whether or not
// the address has an account: the job looks the account up, so the
// request does the same work either way. Requests are counted per client
// address (429 beyond the limit) and per typed address (beyond its limit
// nothing more is sent, silently).
func (h *Handler) submitForgot(c echo.Context) error {
	if !h.s.Mailer.Enabled() {
		return redirect(c, "/forgot")
	}
	ctx := c.Request().Context()
	var in forgotForm
	f := bindForm(c, &in)
	render := func(status int) error {
		return web.Render(c, status, views.ForgotPage(web.NewPage(c, "forgot.title", ""), f, true))
	}
	if err := models.CheckEmail("email", in.Email); err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return render(http.StatusUnprocessableEntity)
	}
	send, err := h.s.DB.ReserveResetRequest(ctx, in.Email, c.RealIP())
	var te *models.ThrottleError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds))
		f.SetError("forgot", t(c, "forgot.throttled", (te.RetryAfterSeconds+59)/60))
		return render(http.StatusTooManyRequests)
	}
	if err != nil {
		return err
	}
	if send {
		if err := h.resetMails.Queue(ctx, models.NormalizeEmail(in.Email), web.LocaleFrom(ctx).Tag); err != nil {
			return err
		}
	}
	return redirect(c, "/forgot/sent")
}

func (h *Handler) showForgotSent(c echo.Context) error {
	return web.Render(c, http.StatusOK, views.ForgotSentPage(web.NewPage(c, "forgot.title", "")))
}

// resetInvalid is the page of a link that no longer works (410): what
// happened and what to do.
func (h *Handler) resetInvalid(c echo.Context) error {
	p := web.NewPage(c, "reset.invalid_title", "")
	return web.Render(c, http.StatusGone, views.ResetInvalidPage(p, h.s.Mailer.Enabled()))
}

func (h *Handler) showReset(c echo.Context) error {
	noReferrer(c)
	_, u, err := h.s.DB.PasswordResetByToken(c.Request().Context(), c.Param("token"))
	if errors.Is(err, models.ErrNotFound) {
		return h.resetInvalid(c)
	}
	if err != nil {
		return err
	}
	p := web.NewPage(c, "reset.title", "")
	return web.Render(c, http.StatusOK, views.ResetPage(p, views.NewForm(), c.Param("token"), u.Email))
}

// submitReset sets the new password; the model spends the link and ends
// every session of the user. This browser's session, whoever it was
// logged in as, starts again as a visitor's, and the user logs in with
// the new password.
func (h *Handler) submitReset(c echo.Context) error {
	noReferrer(c)
	ctx := c.Request().Context()
	token := c.Param("token")
	_, u, err := h.s.DB.PasswordResetByToken(ctx, token)
	if errors.Is(err, models.ErrNotFound) {
		return h.resetInvalid(c)
	}
	if err != nil {
		return err
	}
	var in newPasswordForm
	f := bindForm(c, &in)
	_, err = h.s.DB.ResetPassword(ctx, token, in.Password, c.RealIP())
	var te *models.ThrottleError
	switch {
	case errors.Is(err, models.ErrNotFound):
		return h.resetInvalid(c)
	case errors.As(err, &te):
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds))
		f.SetError("password", t(c, "reset.busy"))
		return web.Render(c, http.StatusTooManyRequests, views.ResetPage(web.NewPage(c, "reset.title", ""), f, token, u.Email))
	case err != nil:
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return web.Render(c, http.StatusUnprocessableEntity, views.ResetPage(web.NewPage(c, "reset.title", ""), f, token, u.Email))
	}
	if err := h.s.Forget(c); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "reset.done", u.Email))
	web.SetSessionValue(c, keyLoginEmail, u.Email)
	return redirect(c, "/login")
}

// staffResetLink: an owner makes a reset link for a staff member of the
// business; another business's member is 404, an owner is refused with
// the reason (owners ask the administrator).
func (h *Handler) staffResetLink(c echo.Context) error {
	tn, id, err := h.scopedID(c)
	if err != nil {
		return err
	}
	r, u, token, err := tn.ResetLinkForStaff(c.Request().Context(), actor(c).User, id, c.RealIP())
	if errors.Is(err, models.ErrOwnerReset) {
		web.Flash(c, "error", t(c, "reset.owner_refused"))
		return redirect(c, "/team")
	}
	if err != nil {
		return err
	}
	h.keepNewReset(c, newReset{Link: h.resetLink(token), Name: u.Name, Email: u.Email, Expires: r.ExpiresAt})
	return redirect(c, "/team")
}

// adminBusiness is one business's members for an administrator, each
// with a button that makes a reset link.
func (h *Handler) adminBusiness(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return h.renderAdminBusiness(c, http.StatusOK, id, nil)
}

// renderAdminBusiness shows the business's page; senderForm is the
// refused sender form, or nil for the stored sender.
func (h *Handler) renderAdminBusiness(c echo.Context, status int, id int64, senderForm *views.Form) error {
	ctx := c.Request().Context()
	b, err := h.s.DB.BusinessByID(ctx, id)
	if err != nil {
		return err
	}
	members, err := h.s.DB.BusinessMembers(ctx, id)
	if err != nil {
		return err
	}
	vm := views.AdminBusinessVM{Business: *b, Members: members, NewReset: h.takeNewReset(c, id), Sender: h.senderVM(b, senderForm)}
	return web.Render(c, status, views.AdminBusinessPage(web.NewPage(c, "admin.businesses", "admin"), vm))
}

func (h *Handler) adminResetLink(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, u, token, err := h.s.DB.ResetLinkByAdmin(ctx, actor(c).User, id, c.RealIP())
	if err != nil {
		return err
	}
	back := "/admin/businesses"
	n := newReset{Link: h.resetLink(token), Name: u.Name, Email: u.Email, Expires: r.ExpiresAt, For: -1}
	if m, err := h.s.DB.MembershipOf(ctx, u.ID); err == nil {
		n.For, back = m.BusinessID, "/admin/businesses/"+strconv.FormatInt(m.BusinessID, 10)
	}
	h.keepNewReset(c, n)
	return redirect(c, back)
}
