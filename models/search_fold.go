package models

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldSearch lower-cases s and removes its accents, so that "Konig" finds
// König and "garcia" finds García on both databases alike: the stored
// search text and the typed terms go through the same fold, and neither
// database needs an extension (PostgreSQL's unaccent) or a collation.
// Letters that are not a base letter plus marks are spelled out the way
// people type them without the key: ß → ss, æ → ae, ø → o, ł → l.
func foldSearch(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii { // the common case in an import: no allocation beyond ToLower
		return strings.ToLower(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return foldLetters.Replace(strings.ToLower(out))
}

var foldLetters = strings.NewReplacer("ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")
