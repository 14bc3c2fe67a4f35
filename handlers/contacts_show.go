package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) showContact(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	return h.renderContact(c, http.StatusOK, tn, contact, views.NewForm(), nil)
}

// renderContact shows the contact page with the tag form and, for
// contacts not opted in, the record-consent form as given.
func (h *Handler) renderContact(c echo.Context, status int, tn models.Tenant, contact *contacts.Contact, tagForm, consentForm *views.Form) error {
	ctx := c.Request().Context()
	events, err := contacts.ConsentHistory(ctx, tn, contact.ID)
	if err != nil {
		return err
	}
	history, err := h.historyRows(c, tn, events)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "contacts.title", "contacts")
	p.Title = contact.DisplayName()
	vm := views.ContactVM{Contact: contact, Phone: importer.DisplayPhone(contact.Phone), History: history, TagForm: tagForm, Sources: views.SourceOptions(p, "")}
	if contact.ConsentState != contacts.ConsentOptedIn {
		if consentForm == nil {
			consentForm = views.NewForm()
			consentForm.Values["consent_date"] = h.s.DB.Now().Format("2006-01-02")
		}
		vm.Consent = consentForm
	}
	if contact.ImportID != nil {
		vm.ImportID = *contact.ImportID
	}
	if vm.Tags, err = contacts.Tags(ctx, tn); err != nil {
		return err
	}
	if err := contactReplies(ctx, tn, contact.ID, h.s.DB.Now(), &vm); err != nil {
		return err
	}
	if err := contactMessages(ctx, tn, contact.ID, &vm); err != nil {
		return err
	}
	return web.Render(c, status, views.ContactPage(p, vm))
}

// historyRows says who recorded each event in words: a team member's
// name, an import, the customer through WhatsApp.
func (h *Handler) historyRows(c echo.Context, tn models.Tenant, events []contacts.ConsentEvent) ([]views.ConsentRow, error) {
	members, err := tn.Members(c.Request().Context())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, m := range members {
		if m.User != nil {
			names["user:"+contactIDText(m.UserID)] = m.User.Name
		}
	}
	rows := make([]views.ConsentRow, len(events))
	for i, e := range events {
		details := e.Wording
		if e.SourceText != "" {
			if details != "" {
				details += " — "
			}
			details += e.SourceText
		}
		by := e.RecordedBy
		switch {
		case names[by] != "":
			by = names[by]
		case strings.HasPrefix(by, "user:"):
			by = t(c, "contact.by_user_gone")
		case strings.HasPrefix(by, "import:"):
			by = t(c, "contact.by_import", strings.TrimPrefix(by, "import:"))
		case by == "webhook":
			by = t(c, "contact.by_webhook")
		case by == "system":
			by = t(c, "contact.by_system")
		}
		rows[i] = views.ConsentRow{At: e.At, Kind: e.Kind, Source: e.Source, Details: details, By: by}
	}
	return rows, nil
}

func (h *Handler) addContactTag(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	var in struct {
		Tag string `form:"tag"`
	}
	f := bindForm(c, &in)
	if err := contacts.AddTag(c.Request().Context(), tn, contact.ID, in.Tag); err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderContact(c, http.StatusUnprocessableEntity, tn, contact, f, nil)
	}
	web.Flash(c, "success", t(c, "tag.added", contacts.NormalizeTag(f.Value("tag"))))
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}

func (h *Handler) removeContactTag(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	tag := contacts.NormalizeTag(c.FormValue("tag"))
	if err := contacts.RemoveTag(c.Request().Context(), tn, contact.ID, tag); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "tag.removed", tag))
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}

// recordConsent records new opt-in evidence for a contact who is not
// opted in.
func (h *Handler) recordConsent(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	var in consentForm
	f := bindForm(c, &in)
	err = contacts.RecordOptIn(c.Request().Context(), tn, contact.ID, in.input(), recordedBy(c))
	switch {
	case errors.Is(err, models.ErrConflict):
		web.Flash(c, "info", t(c, "contact.already_opted_in"))
	case err != nil:
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderContact(c, http.StatusUnprocessableEntity, tn, contact, views.NewForm(), f)
	default:
		h.auditContacts(c, "contact.opted_in", "contact", strconv.FormatInt(contact.ID, 10), "source="+f.Value("consent_source"))
		web.Flash(c, "success", t(c, "contact.consent_recorded"))
	}
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}
