package handlers

import (
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// The contact book: list, search and filters, bulk actions, the contact
// page with consent history, opt-out and erasure, manual entry, exports,
// and segments. Every member (owner or staff) may use all of it; every
// change of consent, every erasure, bulk action and export is audited.
// recordedBy names the logged-in user in consent events.
func recordedBy(c echo.Context) string { return "user:" + contactIDText(actor(c).User.ID) }

// auditContacts records a contact-book action. Details never hold a
// contact's number or name, so an erasure is not undone by the log.
func (h *Handler) auditContacts(c echo.Context, action, targetType, targetID, detail string) {
	a := actor(c)
	err := h.s.DB.Audit(c.Request().Context(), models.AuditEntry{ActorID: a.User.ID, ActorEmail: a.User.Email, BusinessID: a.BusinessID(),
		Action: action, TargetType: targetType, TargetID: targetID, Detail: detail, IP: c.RealIP()})
	if err != nil {
		h.s.Log.Warn("audit failed", "action", action, "error", err)
	}
}

// filterFrom reads the list filter from the request: from the query
// string, or with prefix "f_" from a posted bulk form.
func filterFrom(c echo.Context, prefix string, get func(string) string) views.ContactFilterVM {
	f := views.ContactFilterVM{
		Query:    strings.TrimSpace(get(prefix + "q")),
		Tag:      contacts.NormalizeTag(get(prefix + "tag")),
		Consent:  get(prefix + "consent"),
		Language: strings.ToLower(strings.TrimSpace(get(prefix + "lang"))),
		Sort:     contacts.NormalizeSort(get("sort")),
		Segment:  strings.TrimSpace(get(prefix + "segment")),
		Import:   strings.TrimSpace(get(prefix + "import")),
	}
	if !slices.Contains(contacts.ConsentStates, f.Consent) {
		f.Consent = ""
	}
	if len(f.Language) > 8 {
		f.Language = ""
	}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	return f
}

// modelFilter turns the typed filter into the model's. A segment or an
// import of another business is not found.
func (h *Handler) modelFilter(c echo.Context, tn models.Tenant, vf *views.ContactFilterVM) (contacts.ContactFilter, error) {
	f := contacts.ContactFilter{Query: vf.Query, Consent: vf.Consent, Language: vf.Language, Sort: vf.Sort}
	if vf.Tag != "" {
		f.Tags = []string{vf.Tag}
	}
	if vf.Segment != "" {
		id, err := parseID(vf.Segment)
		if err != nil {
			return f, err
		}
		seg, err := contacts.SegmentByID(c.Request().Context(), tn, id)
		if err != nil {
			return f, err
		}
		rule := seg.Rule()
		f.Segment, vf.SegmentName = &rule, seg.Name
	}
	if vf.Import != "" {
		id, err := parseID(vf.Import)
		if err != nil {
			return f, err
		}
		imp, err := imports.Get(c.Request().Context(), tn, id)
		if err != nil {
			return f, err
		}
		f.ImportID, vf.ImportName = imp.ID, imp.FileName
	}
	return f, nil
}

// filterQuery encodes the filter plus extra pairs as a query string.
func filterQuery(f views.ContactFilterVM, extra ...string) string {
	v := url.Values{}
	for _, kv := range f.Params() {
		v.Set(kv[0], kv[1])
	}
	if f.Sort != "" && f.Sort != contacts.SortNewest {
		v.Set("sort", f.Sort)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// contactsURL is the list with the filter.
func contactsURL(f views.ContactFilterVM, extra ...string) string {
	return "/contacts" + filterQuery(f, extra...)
}

// languageOptions are the language filter's choices: common languages of
// customers in Germany, plus the current one.
func languageOptions(c echo.Context, current string) []views.Option {
	out := []views.Option{{Value: "", Label: t(c, "contacts.any")}}
	found := current == ""
	for _, code := range []string{"de", "en", "tr", "ar", "pl", "ru", "uk", "it", "fr", "es", "nl", "ro", "el", "hr", "fa"} {
		out = append(out, views.Option{Value: code, Label: views.LanguageNameIn(web.LocaleFrom(c.Request().Context()), code)})
		found = found || code == current
	}
	if !found {
		out = append(out, views.Option{Value: current, Label: current})
	}
	return out
}

// segmentsPage builds the page struct for segment pages.
func segmentsPage(c echo.Context, titleKey string) views.Page {
	return web.NewPage(c, titleKey, "contacts")
}

// labels is a page holding only the request's locale, for building
// translated options in handlers. (web.NewPage takes the flashes, so it is
// called once per response.)
func labels(c echo.Context) views.Page { return views.Page{L: web.LocaleFrom(c.Request().Context())} }
