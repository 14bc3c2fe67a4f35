package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) adminHome(c echo.Context) error {
	st, err := h.s.DB.PlatformStats(c.Request().Context())
	if err != nil {
		return err
	}
	vc, err := h.s.DB.VerificationCounts(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.AdminHomeVM{Businesses: st.Businesses, Suspended: st.Suspended, Users: st.Users, Verification: vc}
	return web.Render(c, http.StatusOK, views.AdminHomePage(web.NewPage(c, "admin.title", "admin"), vm))
}

func (h *Handler) adminBusinessesVM(c echo.Context, f *views.Form) (views.AdminBusinessesVM, error) {
	q := strings.TrimSpace(c.QueryParam("q"))
	items, err := h.s.DB.ListBusinesses(c.Request().Context(), q, 200)
	return views.AdminBusinessesVM{Query: q, Items: items, Form: f}, err
}

func (h *Handler) adminBusinesses(c echo.Context) error {
	vm, err := h.adminBusinessesVM(c, views.NewForm())
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.AdminBusinessesPage(web.NewPage(c, "admin.businesses", "admin"), vm))
}

func (h *Handler) suspendBusiness(c echo.Context) error   { return h.setSuspended(c, true) }
func (h *Handler) reinstateBusiness(c echo.Context) error { return h.setSuspended(c, false) }

// setSuspended suspends (ending every session of the business's members)
// or reinstates a business; a suspension needs a reason.
func (h *Handler) setSuspended(c echo.Context, suspend bool) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	err = h.s.DB.SetBusinessSuspended(c.Request().Context(), actor(c).User, id, suspend, reason, c.RealIP())
	if _, ok := models.AsValidation(err); ok {
		web.Flash(c, "error", t(c, "admin.suspend_needs_reason"))
		return redirect(c, "/admin/businesses")
	}
	if err != nil {
		return err
	}
	if suspend {
		web.Flash(c, "success", t(c, "admin.suspended_done"))
	} else {
		web.Flash(c, "success", t(c, "admin.reinstated_done"))
	}
	return redirect(c, "/admin/businesses")
}

func (h *Handler) auditLog(c echo.Context) error {
	f := models.AuditFilter{Action: strings.TrimSpace(c.QueryParam("action")), Limit: 50}
	bizText := strings.TrimSpace(c.QueryParam("business"))
	if bizText != "" {
		f.BusinessID, _ = strconv.ParseInt(bizText, 10, 64)
	}
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := h.s.DB.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Events: events, Action: f.Action, BusinessID: bizText}
	if len(events) == f.Limit {
		q := url.Values{"action": {f.Action}, "business": {bizText}, "before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}
		vm.NextURL = "/admin/audit?" + q.Encode()
	}
	return web.Render(c, http.StatusOK, views.AuditPage(web.NewPage(c, "audit.title", "admin"), vm))
}
