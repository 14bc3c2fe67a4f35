package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// listCountCap bounds the count on the list page, so that it stays fast
// with a million contacts; the bulk confirmation counts exactly. Searches
// are not counted at all: counting a common word's matches means reading
// them all.
const listCountCap = 1000

func (h *Handler) listContacts(c echo.Context) error {
	f := filterFrom(c, "", c.QueryParam)
	vm, err := h.contactsVM(c, f, c.QueryParam("after"), c.QueryParam("before"), views.NewForm(), nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.ContactsPage(web.NewPage(c, "contacts.title", "contacts"), vm))
}

// contactsVM builds the list page for filter f at the given cursor, with
// the bulk form (and its ticked contacts) as given.
func (h *Handler) contactsVM(c echo.Context, f views.ContactFilterVM, after, before string, bulk *views.Form, selected map[int64]bool) (views.ContactsListVM, error) {
	ctx := c.Request().Context()
	vm := views.ContactsListVM{Bulk: bulk, Selected: selected}
	tn, err := h.tenant(c)
	if err != nil {
		return vm, err
	}
	mf, err := h.modelFilter(c, tn, &f)
	if err != nil {
		return vm, err
	}
	vm.Filter = f
	mf.After, mf.Before, mf.Limit = after, before, 50
	// The page, its count and the tag list (one round trip where it can).
	ex := &contacts.PageExtras{WantTags: true}
	if f.Query == "" {
		ex.CountUpTo = listCountCap
	}
	page, err := contacts.ListWith(ctx, tn, mf, ex)
	if err != nil {
		return vm, err
	}
	vm.Contacts, vm.Tags = contactRows(page.Contacts), ex.Tags
	if f.Query != "" {
		vm.CountUnknown = true
		vm.Count, vm.CountMore = int64(len(page.Contacts)), page.Next != ""
		vm.LaterPage = after != "" || before != ""
	} else {
		vm.Count, vm.CountMore = ex.Count, ex.More
	}
	vm.Empty = vm.Count == 0 && !f.Active() && after == "" && before == ""
	if page.Next != "" {
		vm.NextURL = contactsURL(f, "after", page.Next)
	}
	if page.Prev != "" {
		vm.PrevURL = contactsURL(f, "before", page.Prev)
	}
	vm.ExportURL = "/contacts/export" + filterQuery(f)
	vm.ExportSemicolonURL = "/contacts/export" + filterQuery(f, "sep", "semicolon")
	vm.ExportXLSXURL = "/contacts/export" + filterQuery(f, "format", "xlsx")
	vm.Languages = languageOptions(c, f.Language)
	return vm, nil
}

// contactRows shapes the page's contacts for the list.
func contactRows(cs []contacts.Contact) []views.ContactRow {
	out := make([]views.ContactRow, len(cs))
	for i := range cs {
		c := &cs[i]
		out[i] = views.ContactRow{ID: c.ID, Name: c.Name, Label: c.DisplayName(), E164: c.Phone,
			Phone: importer.DisplayPhone(c.Phone), Landline: c.Landline, Email: c.Email, Tags: c.Tags,
			Consent: c.ConsentState, Language: c.Language, Added: c.CreatedAt}
	}
	return out
}
