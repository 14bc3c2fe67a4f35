package handlers

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// showSetup is the first-run page. It only shows the form to a visitor
// holding the one-time token printed on the console.
func (h *Handler) showSetup(c echo.Context) error {
	if done, _ := h.s.DB.HasAdmin(c.Request().Context()); done {
		return redirect(c, "/login")
	}
	token := c.QueryParam("token")
	p := web.NewPage(c, "setup.title", "")
	return web.Render(c, http.StatusOK, views.SetupPage(p, views.NewForm(), token, h.setupTokenOK(token)))
}

func (h *Handler) setupTokenOK(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(h.s.SetupToken)) == 1
}

func (h *Handler) submitSetup(c echo.Context) error {
	ctx := c.Request().Context()
	var in setupForm
	f := bindForm(c, &in)
	token := c.FormValue("token")
	if !h.setupTokenOK(token) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	u, err := h.s.DB.CreateAdmin(ctx, models.NewUserInput{Name: in.Name, Email: in.Email, Password: in.Password, Locale: web.LocaleFrom(ctx).Tag})
	if errors.Is(err, models.ErrConflict) {
		return redirect(c, "/login")
	}
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		p := web.NewPage(c, "setup.title", "")
		return web.Render(c, http.StatusUnprocessableEntity, views.SetupPage(p, f, token, true))
	}
	h.s.MarkSetupDone()
	if in.Demo == "1" {
		creds, err := demo.Load(ctx, h.s.DB)
		if err != nil {
			return err
		}
		if creds.Loaded {
			web.Flash(c, "info", t(c, "setup.demo_loaded", creds.OwnerEmail, creds.StaffEmail, creds.Password))
			web.PrintDemoLogins(h.s.Console, creds.OwnerEmail, creds.StaffEmail, creds.Password)
		}
	}
	if err := h.s.LogIn(c, u); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "setup.done"))
	return redirect(c, "/admin")
}
