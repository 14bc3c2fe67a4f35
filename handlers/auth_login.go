package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	f := views.NewForm()
	// After a password reset the address is filled in, once.
	if email, _ := web.Session(c).Values[keyLoginEmail].(string); email != "" {
		web.SetSessionValue(c, keyLoginEmail, "")
		f.Values["email"] = email
	}
	return web.Render(c, http.StatusOK, views.LoginPage(p, f, SafeNext(c.QueryParam("next"))))
}

// submitLogin checks credentials under the log-in policy (models.LogIn):
// the attempt is counted before the password is hashed, per account and
// address and per address; refusals are 429 with Retry-After. The message
// never says whether the address exists.
func (h *Handler) submitLogin(c echo.Context) error {
	ctx := c.Request().Context()
	var in loginForm
	f := bindForm(c, &in)
	next := SafeNext(c.FormValue("next"))
	render := func(status int) error {
		p := web.NewPage(c, "login.title", "")
		return web.Render(c, status, views.LoginPage(p, f, next))
	}
	u, err := h.s.DB.LogIn(ctx, in.Email, in.Password, c.RealIP())
	if err == nil {
		// The same one-query read and rule as every request's (web.loadActor).
		if p, perr := h.s.DB.PrincipalOf(ctx, u.ID); perr == nil && p.Business != nil && p.Business.Suspended() {
			err = models.ErrSuspended
		}
	}
	var te *models.ThrottleError
	switch {
	case errors.As(err, &te):
		c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds))
		f.SetError("login", t(c, "login.throttled", te.RetryAfterSeconds))
		return render(http.StatusTooManyRequests)
	case errors.Is(err, models.ErrInvalidLogin):
		f.SetError("login", t(c, "login.invalid"))
		return render(http.StatusUnauthorized)
	case errors.Is(err, models.ErrSuspended):
		f.SetError("login", t(c, "login.suspended"))
		return render(http.StatusForbidden)
	case err != nil:
		return err
	}
	if err := h.s.LogIn(c, u); err != nil {
		return err
	}
	if u.IsAdmin && next == "/" {
		next = "/admin"
	}
	return redirect(c, next)
}

// SafeNext is the one rule for a "next" parameter: it returns raw when it
// is a path on this site and "/" (the default landing page) otherwise.
// raw may hold no whitespace, and raw and every decoded form of it
// (decoded until it no longer changes) must start with a single "/" not
// followed by "/" or a backslash, and hold no control character, no
// backslash and, before the query, no whitespace and no "." or ".."
// segment (so "/.//evil" cannot resolve to "//evil"). Scheme, host and
// user information are refused, and the path as a browser would resolve
// it is checked again.
func SafeNext(raw string) string {
	const fallback = "/"
	if raw == "" || len(raw) > 2048 || strings.IndexFunc(raw, unicode.IsSpace) >= 0 {
		return fallback
	}
	if !decodedShapesLocal(raw) {
		return fallback
	}
	ref, err := url.Parse(raw)
	if err != nil || ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.Opaque != "" {
		return fallback
	}
	u := safeNextBase.ResolveReference(ref)
	if u.Host != safeNextBase.Host || u.Scheme != safeNextBase.Scheme {
		return fallback
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if !decodedShapesLocal(out) {
		return fallback
	}
	return out
}

var safeNextBase = &url.URL{Scheme: "https", Host: "optline.invalid", Path: "/"}

// decodedShapesLocal: s and each of its decoded forms have a local path's
// shape.
func decodedShapesLocal(s string) bool {
	for i := 0; ; i++ {
		if !localPathShape(s) {
			return false
		}
		d, err := url.PathUnescape(s)
		if err != nil || i == 8 {
			return false
		}
		if d == s {
			return true
		}
		s = d
	}
}

// localPathShape: one leading slash, no control characters or backslashes
// anywhere; before the query no whitespace and no "." or ".." segment (a
// page's own address never has one).
func localPathShape(s string) bool {
	if len(s) == 0 || s[0] != '/' || (len(s) > 1 && (s[1] == '/' || s[1] == '\\')) {
		return false
	}
	path := s
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		path = s[:i]
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\\' || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return strings.IndexFunc(path, unicode.IsSpace) < 0
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
	var in signupForm
	f := bindForm(c, &in)
	u, _, err := h.s.DB.SignUp(ctx, models.SignUpInput{BusinessName: in.BusinessName,
		NewUserInput: models.NewUserInput{Name: in.Name, Email: in.Email, Password: in.Password, Locale: web.LocaleFrom(ctx).Tag}})
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
	var in passwordChangeForm
	f := bindForm(c, &in)
	err := h.s.DB.ChangePassword(c.Request().Context(), actor(c).User.ID, in.Current, in.New, web.SessionID(c))
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		p := web.NewPage(c, "account.title", "")
		return web.Render(c, http.StatusUnprocessableEntity, views.AccountPage(p, f))
	}
	// A new session id: a cookie copied before the change stops working.
	if err := h.s.RotateSession(c); err != nil {
		return err
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
