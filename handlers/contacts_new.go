package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// consentForm is the opt-in part of the contact forms.
type consentForm struct {
	Source  string `form:"consent_source"`
	Date    string `form:"consent_date"`
	Wording string `form:"consent_wording"`
}

func (f consentForm) input() contacts.ConsentInput {
	return contacts.ConsentInput{Source: f.Source, Date: f.Date, Wording: f.Wording}
}

// newContactForm is the add-contact form.
type newContactForm struct {
	Phone    string `form:"phone"`
	Country  string `form:"country"`
	Name     string `form:"name"`
	Email    string `form:"email"`
	Language string `form:"language"`
	Tags     string `form:"tags"`
	consentForm
}

func (h *Handler) newContactVM(c echo.Context, f *views.Form) (views.NewContactVM, error) {
	tn, err := h.tenant(c)
	if err != nil {
		return views.NewContactVM{}, err
	}
	vm := views.NewContactVM{Form: f, Countries: phoneCountryOptions(), Sources: views.SourceOptions(labels(c), t(c, "contact.consent_source_none"))}
	vm.Tags, err = contacts.Tags(c.Request().Context(), tn)
	return vm, err
}

func (h *Handler) newContact(c echo.Context) error {
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["country"], _ = defaultRegion(c, tn)
	vm, err := h.newContactVM(c, f)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.NewContactPage(web.NewPage(c, "contact.new_title", "contacts"), vm))
}

func (h *Handler) createContact(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	var form newContactForm
	f := bindForm(c, &form)
	in := contacts.ContactInput{Phone: form.Phone, Region: form.Country, Name: form.Name, Email: form.Email,
		Language: form.Language, Tags: form.Tags, Consent: form.consentForm.input()}
	contact, err := contacts.Create(ctx, tn, in, recordedBy(c))
	if err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		vm, verr := h.newContactVM(c, f)
		if verr != nil {
			return verr
		}
		if v, ok := models.AsValidation(err); ok && hasProblem(v, "contact.phone_taken") {
			if e164, perr := importer.NormalizePhone(in.Phone, strings.ToUpper(in.Region)); perr == nil {
				if existing, xerr := contacts.ByPhone(ctx, tn, e164); xerr == nil {
					vm.ExistingURL = "/contacts/" + contactIDText(existing.ID)
				}
			}
		}
		return web.Render(c, http.StatusUnprocessableEntity, views.NewContactPage(web.NewPage(c, "contact.new_title", "contacts"), vm))
	}
	h.auditContacts(c, "contact.created", "contact", contactIDText(contact.ID), "consent="+contact.ConsentState)
	if contact.ConsentState == contacts.ConsentOptedOut {
		web.Flash(c, "info", t(c, "contact.created_opted_out"))
	} else {
		web.Flash(c, "success", t(c, "contact.created"))
	}
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}

func hasProblem(v *models.ValidationError, key string) bool {
	for _, p := range v.Problems {
		if p.Key == key {
			return true
		}
	}
	return false
}

// contactFromPath loads the contact named in the path; another business's
// contact is not found.
func (h *Handler) contactFromPath(c echo.Context) (models.Tenant, *contacts.Contact, error) {
	return fromPath(h, c, contacts.ByID)
}
