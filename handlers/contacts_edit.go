package handlers

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

var editContactFields = []string{"name", "first_name", "last_name", "email", "language", "attr_new_key", "attr_new_value"}

// editContact shows the contact's fields in a form.
func (h *Handler) editContact(c echo.Context) error {
	_, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["name"], f.Values["first_name"], f.Values["last_name"] = contact.Name, contact.FirstName, contact.LastName
	f.Values["email"], f.Values["language"] = contact.Email, contact.Language
	for k, v := range contact.Attrs {
		f.Values[models.AttrField(k)] = v
	}
	return h.renderEditContact(c, http.StatusOK, contact, f)
}

func (h *Handler) renderEditContact(c echo.Context, status int, contact *models.Contact, f *views.Form) error {
	p := web.NewPage(c, "contact.edit_title", "contacts")
	vm := views.EditContactVM{Form: f, Contact: contact, AttrKeys: slices.Sorted(maps.Keys(contact.Attrs))}
	return web.Render(c, status, views.EditContactPage(p, vm))
}

// updateContact saves the form. Every problem is shown at its field and
// everything typed stays in the form; nothing is saved until all is well.
func (h *Handler) updateContact(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	fields := slices.Clone(editContactFields)
	for k := range contact.Attrs {
		fields = append(fields, models.AttrField(k))
	}
	f := formFrom(c, fields...)
	in := models.ContactEdit{Name: f.Value("name"), FirstName: f.Value("first_name"), LastName: f.Value("last_name"),
		Email: f.Value("email"), Language: f.Value("language"), Attrs: map[string]string{},
		NewKey: f.Value("attr_new_key"), NewValue: f.Value("attr_new_value")}
	for k := range contact.Attrs {
		in.Attrs[k] = f.Value(models.AttrField(k))
	}
	updated, err := tn.UpdateContact(c.Request().Context(), contact.ID, in)
	if err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderEditContact(c, http.StatusUnprocessableEntity, contact, f)
	}
	h.auditContacts(c, "contact.updated", "contact", contactIDText(contact.ID), "fields="+strings.Join(changedFields(contact, updated), ","))
	web.Flash(c, "success", t(c, "contact.saved"))
	return redirect(c, "/contacts/"+contactIDText(contact.ID))
}

// changedFields names what an edit changed, for the audit log (names of
// fields only: the values are personal data).
func changedFields(before, after *models.Contact) []string {
	var out []string
	for _, f := range []struct {
		name string
		a, b string
	}{{"name", before.Name, after.Name}, {"first_name", before.FirstName, after.FirstName}, {"last_name", before.LastName, after.LastName},
		{"email", before.Email, after.Email}, {"language", before.Language, after.Language}} {
		if f.a != f.b {
			out = append(out, f.name)
		}
	}
	if !maps.Equal(before.Attrs, after.Attrs) {
		out = append(out, "attributes")
	}
	return out
}
