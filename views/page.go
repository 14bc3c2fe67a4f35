// Package views holds Optline's templ components: the layout, shared
// components and one file per area. Views receive view models built by
// handlers; they never query.
package views

import (
	"github.com/a-h/templ"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
)

// Page is what the layout needs for every page.
type Page struct {
	Title    string
	Nav      string
	Path     string
	L        *i18n.Locale
	CSRF     string
	Nonce    string
	User     *models.User
	Business *models.Business
	Role     models.Role
	Flashes  []Flash
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string `json:"k"` // success | error | info
	Text string `json:"t"`
}

// T translates a catalogue key.
func (p Page) T(key string, args ...any) string {
	if p.L == nil {
		p.L = i18n.Default
	}
	return p.L.T(key, args...)
}

// LoggedIn reports whether a user is logged in.
func (p Page) LoggedIn() bool { return p.User != nil }

// IsAdmin reports whether the user is a platform administrator.
func (p Page) IsAdmin() bool { return p.User != nil && p.User.IsAdmin }

// IsOwner reports whether the user owns the business.
func (p Page) IsOwner() bool { return p.Role == models.RoleOwner }

// IsMember reports whether the user belongs to a business.
func (p Page) IsMember() bool { return p.Business != nil }

// Form keeps what the user typed and the message for each field.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// NewForm returns an empty form.
func NewForm() *Form { return &Form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value returns what was typed into field.
func (f *Form) Value(field string) string {
	if f == nil {
		return ""
	}
	return f.Values[field]
}

// Error returns field's message, "" when valid.
func (f *Form) Error(field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// SetError records field's message.
func (f *Form) SetError(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	f.Errors[field] = msg
}

// HasErrors reports whether any field has a message.
func (f *Form) HasErrors() bool { return f != nil && len(f.Errors) > 0 }

// Field describes one form input for the Field component.
type Field struct {
	Name         string
	Label        string
	Type         string // text (default), email, password, url, tel, textarea, select
	Hint         string
	Required     bool
	Autocomplete string
	MaxLength    int
	Options      []Option
	Rows         int
	Readonly     bool
	// Count shows a live "n / Count characters" counter (0: none).
	Count     int
	List      string // id of a <datalist> with suggestions
	InputMode string // inputmode hint for on-screen keyboards
	Accept    string // accepted types of a file input
	// HintRef names a hint shown elsewhere on the page (instead of Hint).
	HintRef string
	// ID is the control's id when "f-"+Name is taken (two forms with a
	// field of the same name on one page).
	ID string
	// Attrs are extra attributes of the control (data-* hooks of the
	// page's script).
	Attrs templ.Attributes
}

// controlID is the id of the field's control, which its label names.
func (fd Field) controlID() string {
	if fd.ID != "" {
		return fd.ID
	}
	return "f-" + fd.Name
}

// Option is one choice of a select.
type Option struct {
	Value, Label string
}

// errID is the id of a field's error message ("" when it has none), for
// aria-describedby.
func errID(f *Form, field string) string {
	if f.Error(field) != "" {
		return "e-" + field
	}
	return ""
}
