package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) adminHome(c echo.Context) error {
	st, err := h.s.DB.PlatformStats(c.Request().Context())
	if err != nil {
		return err
	}
	vc, err := profiles.Counts(c.Request().Context(), h.s.DB)
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

// auditLog is the platform's audit log, newest first, each event said
// as a sentence naming its target. The business filter takes a name (or
// part of one); a number is still taken as the business's id.
func (h *Handler) auditLog(c echo.Context) error {
	ctx := c.Request().Context()
	f := models.AuditFilter{Action: strings.TrimSpace(c.QueryParam("action")), Limit: 50}
	bizText := strings.TrimSpace(c.QueryParam("business"))
	if id, err := strconv.ParseInt(bizText, 10, 64); err == nil && id > 0 {
		f.BusinessID = id
	} else {
		f.BusinessName = bizText
	}
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := h.s.DB.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	names, err := h.s.DB.AuditTargets(ctx, events)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Action: f.Action, Business: bizText, Rows: make([]views.AuditRow, len(events))}
	for i, e := range events {
		vm.Rows[i] = auditRow(c, e, names)
	}
	if f.BusinessName != "" && len(events) == 0 && f.BeforeID == 0 {
		vm.NoBusiness = true
	}
	if vm.BusinessNames, err = h.s.DB.BusinessNames(ctx, 200); err != nil {
		return err
	}
	if len(events) == f.Limit {
		q := url.Values{"action": {f.Action}, "business": {bizText}, "before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}
		vm.NextURL = "/admin/audit?" + q.Encode()
	}
	return web.Render(c, http.StatusOK, views.AuditPage(web.NewPage(c, "audit.title", "admin"), vm))
}

// auditRow says one event in words.
func auditRow(c echo.Context, e models.AuditEvent, names models.AuditNames) views.AuditRow {
	l := web.LocaleFrom(c.Request().Context())
	r := views.AuditRow{ID: e.ID, At: e.At, Who: e.ActorEmail, Action: e.Action, Detail: e.Detail}
	if r.Who == "" || r.Who == "system" {
		r.Who = l.T("audit.system")
	}
	if e.BusinessID != nil {
		if r.Business = names.Businesses[*e.BusinessID]; r.Business == "" {
			r.Business = l.T("audit.target.business_id", strconv.FormatInt(*e.BusinessID, 10))
		}
	}
	target := auditTarget(c, e, names)
	key := "audit.action." + e.Action
	if e.Action == "import.queued" && strings.Contains(e.Detail, "consent: "+imports.ConsentFromDeclaration) {
		key = "audit.action.import.queued_declared"
	}
	if l.Has(key) || i18n.Default.Has(key) {
		r.Sentence = l.T(key, target)
		if !strings.Contains(i18n.Default.T(key), "%") {
			r.Sentence = l.T(key)
		}
	} else {
		r.Sentence = l.T("audit.other", e.Action, target)
	}
	return r
}

// auditTarget names an event's target: a business by its name, a
// verification request by its business's, a member by name; what has no
// name to show (a contact, an import) by its number.
func auditTarget(c echo.Context, e models.AuditEvent, names models.AuditNames) string {
	id, _ := strconv.ParseInt(e.TargetID, 10, 64)
	named := func(name, key, fallback string) string {
		if name != "" {
			if key == "" {
				return name
			}
			return t(c, key, name)
		}
		return t(c, fallback, e.TargetID)
	}
	switch e.TargetType {
	case "business":
		return named(names.Businesses[id], "", "audit.target.business_id")
	case "verification_request":
		return named(names.Requests[id], "audit.target.request", "audit.target.request_id")
	case "user":
		return named(names.Users[id], "", "audit.target.user_id")
	case "invitation":
		return named(names.Invitations[id], "", "audit.target.invitation_id")
	case "verification_document":
		return named(e.Detail, "audit.target.document", "audit.target.document_id")
	case "segment":
		return named(e.Detail, "audit.target.segment", "audit.target.segment_id")
	case "import":
		return t(c, "audit.target.import_id", e.TargetID)
	case "contact":
		return t(c, "audit.target.contact_id", e.TargetID)
	}
	return strings.TrimSpace(e.TargetType + " " + e.TargetID)
}
