package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// confirmOptOut asks before opting a contact out.
func (h *Handler) confirmOptOut(c echo.Context) error {
	_, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	back := "/contacts/" + contactIDText(contact.ID)
	if contact.ConsentState == contacts.ConsentOptedOut {
		return redirect(c, back)
	}
	vm := views.ConfirmVM{Title: t(c, "contact.optout_title", contact.DisplayName()), Intro: t(c, "contact.optout_text"),
		Action: back + "/opt-out", Submit: t(c, "contact.optout_submit"), Cancel: back, Danger: true}
	return web.Render(c, http.StatusOK, views.ConfirmPage(web.NewPage(c, "contact.optout_submit", "contacts"), vm))
}

func (h *Handler) optOutContact(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	if err := contacts.OptOut(c.Request().Context(), tn, contact.ID, contacts.OptOutManual, recordedBy(c)); err != nil {
		return err
	}
	h.auditContacts(c, "contact.opted_out", "contact", contactIDText(contact.ID), "")
	web.Flash(c, "success", t(c, "contact.opted_out"))
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}

// confirmDeleteContact explains what an erasure removes and what it keeps.
func (h *Handler) confirmDeleteContact(c echo.Context) error {
	_, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	back := "/contacts/" + contactIDText(contact.ID)
	vm := views.ConfirmVM{Title: t(c, "contact.delete_title", contact.DisplayName()), Intro: t(c, "contact.delete_intro"),
		Points: []string{t(c, "contact.delete_goes"), t(c, "contact.delete_stays")},
		Action: back + "/delete", Submit: t(c, "contact.delete_submit"), Cancel: back, Danger: true}
	return web.Render(c, http.StatusOK, views.ConfirmPage(web.NewPage(c, "contact.delete_submit", "contacts"), vm))
}

func (h *Handler) deleteContact(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	if err := contacts.Delete(c.Request().Context(), tn, contact.ID, recordedBy(c)); err != nil {
		return err
	}
	h.auditContacts(c, "contact.erased", "contact", contactIDText(contact.ID), "")
	web.Flash(c, "success", t(c, "contact.deleted"))
	return redirect(c, "/contacts")
}
