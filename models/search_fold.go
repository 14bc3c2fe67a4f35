package models

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// FoldSearch lower-cases s and removes its accents, so that "Konig" finds
// König and "garcia" finds García on both databases alike: the stored
// search text and the typed terms go through the same fold, and neither
// database needs an extension (PostgreSQL's unaccent) or a collation.
// Letters that are not a base letter plus marks are spelled out the way
// people type them without the key: ß → ss, æ → ae, ø → o, ł → l.
func FoldSearch(s string) string {
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

// SearchText is what the contact search matches: the lower-case words of
// the name, the e-mail and its domain, folded (FoldSearch) and separated
// by single spaces, then
// two spaces (SearchSep, always there), then the number's digits with and
// without the country code, so that a number typed without it
// ("0151 234…") finds "+49151234…". On PostgreSQL only the words before
// SearchSep go into the GIN index (contacts_search_idx): numbers are found
// through b-tree ranges (numberCondition), and leaving them out of the
// GIN index made the import's COPY cheaper.
func SearchText(name, email, phone string) string {
	d := strings.TrimPrefix(phone, "+")
	words := strings.Fields(FoldSearch(name))
	if email = FoldSearch(strings.TrimSpace(email)); email != "" && !strings.ContainsAny(email, " \t") {
		words = append(words, email)
		// The domain is a word of its own, so "example.com" finds
		// everyone who writes from there.
		if _, domain, ok := strings.Cut(email, "@"); ok && domain != "" {
			words = append(words, domain)
		}
	}
	s := strings.Join(words, " ") + SearchSep
	if d != "" {
		s += d
		if n := CountryCodeLen(d); n > 0 && n < len(d) {
			s += " " + d[n:]
		}
	}
	return s
}

// SearchSep separates the words from the numbers in the search text.
const SearchSep = "  "

// CountryCodeLen is the length of the calling code that starts digits
// (codes are prefix-free), or 0 when none is known.
func CountryCodeLen(digits string) int {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err == nil && phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ" {
			return n
		}
	}
	return 0
}
