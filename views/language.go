package views

import (
	"strings"

	"github.com/optline/optline/i18n"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// LanguageName names a contact's language code ("de", "UK") in the
// viewer's language: "German", "Ukrainian". A code the library does not
// know is shown as given.
func LanguageName(p Page, code string) string { return LanguageNameIn(p.L, code) }

// LanguageNameIn is LanguageName for locale l (English when nil).
func LanguageNameIn(l *i18n.Locale, code string) string {
	code = strings.TrimSpace(code)
	if code == "" {
		return ""
	}
	tag, err := language.Parse(strings.ToLower(code))
	if err != nil {
		return code
	}
	viewer := language.English
	if l != nil {
		if v, err := language.Parse(l.Tag); err == nil {
			viewer = v
		}
	}
	namer := display.Tags(viewer)
	if namer == nil {
		namer = display.Tags(language.English)
	}
	if n := namer.Name(tag); n != "" {
		return n
	}
	return code
}

// N translates a count-dependent message with the catalogue's plural
// forms (key.one, key.other …), filled with the formatted count.
func (p Page) N(key string, n int64, args ...any) string {
	if p.L == nil {
		p.L = i18n.Default
	}
	return p.L.N(key, n, args...)
}
