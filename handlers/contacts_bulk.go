package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// bulkContacts applies tag, untag or opt-out to the ticked contacts or to
// everyone matching the filter. An opt-out asks for confirmation first.
func (h *Handler) bulkContacts(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	f := filterFrom(c, "f_", c.FormValue)
	var in struct {
		Action string `form:"action"` // tag | untag | opt_out
		Tag    string `form:"tag"`
		Scope  string `form:"scope"` // all: every contact the filter matches
	}
	form := bindForm(c, &in)
	params, _ := c.FormParams()
	sel, selected := contacts.Selection{}, map[int64]bool{}
	for _, raw := range params["id"] {
		if id, err := parseID(raw); err == nil && !selected[id] {
			selected[id] = true
			sel.IDs = append(sel.IDs, id)
		}
	}
	mf, err := h.modelFilter(c, tn, &f)
	if err != nil {
		return err
	}
	if in.Scope == "all" {
		sel.IDs, selected = nil, nil
		sel.Filter = &mf
	}
	action := in.Action
	switch action {
	case "tag", "untag", "opt_out":
	default:
		form.SetError("action", t(c, "bulk.action_required"))
	}
	if (action == "tag" || action == "untag") && in.Tag == "" {
		form.SetError("tag", t(c, "field.required"))
	}
	switch {
	case sel.Filter == nil && len(sel.IDs) == 0:
		form.SetError("ids", t(c, "bulk.none_selected"))
	case len(sel.IDs) > contacts.MaxSelectedIDs:
		form.SetError("ids", t(c, "bulk.too_many", contacts.MaxSelectedIDs))
	}
	if form.HasErrors() {
		return h.bulkFailed(c, f, form, selected)
	}
	scope := "selected"
	if sel.Filter != nil {
		scope = "filter"
	}
	var n int64
	switch action {
	case "tag":
		n, err = contacts.BulkTag(ctx, tn, sel, in.Tag)
	case "untag":
		n, err = contacts.BulkUntag(ctx, tn, sel, in.Tag)
	case "opt_out":
		if c.FormValue("confirm") != "yes" {
			return h.confirmBulkOptOut(c, tn, f, sel)
		}
		n, err = contacts.BulkOptOut(ctx, tn, sel, contacts.OptOutBulk, recordedBy(c))
	}
	if err != nil {
		if ferr := web.FormErrors(c, form, err); ferr != nil {
			return ferr
		}
		return h.bulkFailed(c, f, form, selected)
	}
	tag := contacts.NormalizeTag(in.Tag)
	h.auditContacts(c, "contacts.bulk_"+action, "contacts", scope, "count="+contactIDText(n)+auditTag(action, tag))
	count := web.LocaleFrom(ctx).Int(n)
	switch action {
	case "tag":
		web.Flash(c, "success", t(c, "bulk.tagged", tag, count))
	case "untag":
		web.Flash(c, "success", t(c, "bulk.untagged", tag, count))
	default:
		web.Flash(c, "success", t(c, "bulk.opted_out", count))
	}
	return redirect(c, contactsURL(f))
}

func auditTag(action, tag string) string {
	if action == "opt_out" {
		return ""
	}
	return " tag=" + tag
}

func (h *Handler) bulkFailed(c echo.Context, f views.ContactFilterVM, form *views.Form, selected map[int64]bool) error {
	vm, err := h.contactsVM(c, f, "", "", form, selected)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusUnprocessableEntity, views.ContactsPage(web.NewPage(c, "contacts.title", "contacts"), vm))
}

// confirmBulkOptOut shows how many contacts the opt-out changes and asks
// again, carrying the selection over.
func (h *Handler) confirmBulkOptOut(c echo.Context, tn models.Tenant, f views.ContactFilterVM, sel contacts.Selection) error {
	n, err := contacts.CountOptOutable(c.Request().Context(), tn, sel)
	if err != nil {
		return err
	}
	count := web.LocaleFrom(c.Request().Context()).Int(n)
	hidden := [][2]string{{"action", "opt_out"}, {"confirm", "yes"}}
	for _, kv := range f.Params() {
		hidden = append(hidden, [2]string{"f_" + kv[0], kv[1]})
	}
	if sel.Filter != nil {
		hidden = append(hidden, [2]string{"scope", "all"})
	} else {
		hidden = append(hidden, [2]string{"scope", "selected"})
		for _, id := range sel.IDs {
			hidden = append(hidden, [2]string{"id", contactIDText(id)})
		}
	}
	vm := views.ConfirmVM{Title: t(c, "bulk.confirm_title"), Intro: t(c, "bulk.confirm_text", count), Action: "/contacts/bulk",
		Submit: t(c, "bulk.confirm_submit", count), Cancel: contactsURL(f), Danger: true, Hidden: hidden, Disable: n == 0}
	if n == 0 {
		vm.Intro = t(c, "bulk.confirm_none")
	}
	return web.Render(c, http.StatusOK, views.ConfirmPage(web.NewPage(c, "bulk.confirm_title", "contacts"), vm))
}
