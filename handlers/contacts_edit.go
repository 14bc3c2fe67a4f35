package handlers

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// editContactForm is the contact form; the contact's own attributes are
// fields named by contacts.AttrField.
type editContactForm struct {
	Name      string `form:"name"`
	FirstName string `form:"first_name"`
	LastName  string `form:"last_name"`
	Email     string `form:"email"`
	Language  string `form:"language"`
	NewKey    string `form:"attr_new_key"`
	NewValue  string `form:"attr_new_value"`
}

// editContact shows the contact's fields in a form.
func (h *Handler) editContact(c echo.Context) error {
	_, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	f := formView(editContactForm{Name: contact.Name, FirstName: contact.FirstName, LastName: contact.LastName,
		Email: contact.Email, Language: contact.Language})
	for k, v := range contact.Attrs {
		f.Values[contacts.AttrField(k)] = v
	}
	return h.renderEditContact(c, http.StatusOK, contact, f)
}

func (h *Handler) renderEditContact(c echo.Context, status int, contact *contacts.Contact, f *views.Form) error {
	p := web.NewPage(c, "contact.edit_title", "contacts")
	vm := views.EditContactVM{Form: f, Contact: contact, Phone: importer.DisplayPhone(contact.Phone), AttrKeys: slices.Sorted(maps.Keys(contact.Attrs))}
	return web.Render(c, status, views.EditContactPage(p, vm))
}

// updateContact saves the form. Every problem is shown at its field and
// everything typed stays in the form; nothing is saved until all is well.
func (h *Handler) updateContact(c echo.Context) error {
	tn, contact, err := h.contactFromPath(c)
	if err != nil {
		return err
	}
	var form editContactForm
	f := bindForm(c, &form)
	in := contacts.ContactEdit{Name: form.Name, FirstName: form.FirstName, LastName: form.LastName,
		Email: form.Email, Language: form.Language, Attrs: map[string]string{}, NewKey: form.NewKey, NewValue: form.NewValue}
	for k := range contact.Attrs {
		in.Attrs[k] = bindFields(c, f, contacts.AttrField(k))[contacts.AttrField(k)]
	}
	updated, err := contacts.Update(c.Request().Context(), tn, contact.ID, in)
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
func changedFields(before, after *contacts.Contact) []string {
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
