package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) showLogin(c echo.Context) error {
	if actor(c).User != nil {
		return redirect(c, "/")
	}
	p := web.NewPage(c, "login.title", "")
	return web.Render(c, http.StatusOK, views.LoginPage(p, views.NewForm(), safeNext(c.QueryParam("next"))))
}

// submitLogin checks credentials with per-account and per-address
// throttling. The message never says whether the address exists.
func (h *Handler) submitLogin(c echo.Context) error {
	ctx := c.Request().Context()
	f := formFrom(c, "email", "password")
	next := safeNext(c.FormValue("next"))
	keys := []string{"acct:" + models.NormalizeEmail(f.Value("email")), "ip:" + c.RealIP()}
	render := func(status int) error {
		p := web.NewPage(c, "login.title", "")
		return web.Render(c, status, views.LoginPage(p, f, next))
	}
	var te *models.ThrottleError
	if err := h.s.DB.CheckThrottle(ctx, keys...); errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds))
		f.SetError("login", t(c, "login.throttled", te.RetryAfterSeconds))
		return render(http.StatusTooManyRequests)
	} else if err != nil {
		return err
	}
	u, err := h.s.DB.Authenticate(ctx, f.Value("email"), f.Value("password"))
	if err == nil {
		// The same one-query read and rule as every request's (web.loadActor).
		if p, perr := h.s.DB.PrincipalOf(ctx, u.ID); perr == nil && p.Business != nil && p.Business.Suspended() {
			err = models.ErrSuspended
		}
	}
	switch {
	case errors.Is(err, models.ErrInvalidLogin):
		if err := h.s.DB.RecordLoginFailure(ctx, keys...); err != nil {
			return err
		}
		f.SetError("login", t(c, "login.invalid"))
		return render(http.StatusUnauthorized)
	case errors.Is(err, models.ErrSuspended):
		f.SetError("login", t(c, "login.suspended"))
		return render(http.StatusForbidden)
	case err != nil:
		return err
	}
	_ = h.s.DB.ClearThrottle(ctx, keys[0])
	if err := h.s.LogIn(c, u); err != nil {
		return err
	}
	if u.IsAdmin && next == "/" {
		next = "/admin"
	}
	return redirect(c, next)
}

func (h *Handler) logout(c echo.Context) error {
	if err := h.s.LogOut(c); err != nil {
		return err
	}
	return redirect(c, "/login")
}

func (h *Handler) showSignup(c echo.Context) error {
	if actor(c).User != nil {
		return redirect(c, "/")
	}
	p := web.NewPage(c, "signup.title", "")
	return web.Render(c, http.StatusOK, views.SignupPage(p, views.NewForm()))
}

func (h *Handler) submitSignup(c echo.Context) error {
	ctx := c.Request().Context()
	f := formFrom(c, "business_name", "name", "email", "password")
	u, _, err := h.s.DB.SignUp(ctx, models.SignUpInput{BusinessName: f.Value("business_name"),
		NewUserInput: models.NewUserInput{Name: f.Value("name"), Email: f.Value("email"), Password: f.Value("password"), Locale: web.LocaleFrom(ctx).Tag}})
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		p := web.NewPage(c, "signup.title", "")
		return web.Render(c, http.StatusUnprocessableEntity, views.SignupPage(p, f))
	}
	if err := h.s.LogIn(c, u); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "signup.welcome"))
	return redirect(c, "/")
}

func (h *Handler) showAccount(c echo.Context) error {
	p := web.NewPage(c, "account.title", "")
	return web.Render(c, http.StatusOK, views.AccountPage(p, views.NewForm()))
}

// changePassword ends the user's other sessions (the model deletes them).
func (h *Handler) changePassword(c echo.Context) error {
	f := formFrom(c, "current", "new")
	err := h.s.DB.ChangePassword(c.Request().Context(), actor(c).User.ID, f.Value("current"), f.Value("new"), web.SessionID(c))
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		p := web.NewPage(c, "account.title", "")
		return web.Render(c, http.StatusUnprocessableEntity, views.AccountPage(p, f))
	}
	web.Flash(c, "success", t(c, "account.password_changed"))
	return redirect(c, "/account")
}

func (h *Handler) home(c echo.Context) error {
	a := actor(c)
	if a.Membership == nil {
		if a.IsAdmin() {
			return redirect(c, "/admin")
		}
		return echo.NewHTTPError(http.StatusForbidden)
	}
	return h.dashboard(c)
}
