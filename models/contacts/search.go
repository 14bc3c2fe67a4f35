package contacts

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/nyaruka/phonenumbers"

	"github.com/optline/optline/models"
)

// Search: what a typed query means (words or a number) and its
// conditions; the SQLite word index is in search_sqlite.go.

// numberForm is how a search typed as a number was written.
type numberForm int

const (
	notNumber      numberForm = iota
	numberAny                 // digits only: with or without the calling code
	numberIntl                // "+49 151…" or "0049 151…": with the calling code
	numberNational            // "0151 …": a national number with its trunk 0
)

// searchTerms splits what the user typed into folded words (FoldSearch), each of
// which must start a word of the contact's name, e-mail or number. Input
// that looks like a phone number is one term of its digits, without a
// leading +, 00 or national 0 (phone says which it had).
func searchTerms(q string) (terms []string, phone numberForm) {
	q = strings.TrimSpace(q)
	if len(q) > 200 {
		q = q[:200]
	}
	if q == "" {
		return nil, notNumber
	}
	phoneLike := true
	var digits strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune("+ -./()", r):
		default:
			phoneLike = false
		}
	}
	if phoneLike {
		d, form := digits.String(), numberAny
		switch {
		case strings.HasPrefix(strings.TrimLeft(q, " -./()"), "+"):
			form = numberIntl
		case strings.HasPrefix(d, "00"):
			d, form = d[2:], numberIntl
		case strings.HasPrefix(d, "0"):
			d, form = d[1:], numberNational
		}
		if d == "" {
			return nil, notNumber
		}
		return []string{d}, form
	}
	for _, w := range strings.Fields(models.FoldSearch(q)) {
		w = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@.-_'", r) {
				return r
			}
			return -1
		}, w)
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 && len(terms) < 8 {
			terms = append(terms, w)
		}
	}
	return terms, notNumber
}

// numberCondition matches the digits d (without a leading +, 00 or
// national 0) on PostgreSQL as the search words of numbers do on SQLite:
// the start of the number with its calling code ("49151…"), or of its
// national number ("151…") in any country the book has numbers of; form
// narrows it to one of the two when the user wrote "+"/"00" or a trunk 0.
// Each is a range of contacts_phone_key (phone is in byte order; ':'
// follows '9'), so the planner, which has statistics for ranges, chooses
// between walking the list's order (a common prefix) and the ranges (a
// rare one).
func numberCondition(ctx context.Context, t models.Tenant, d string, form numberForm) (string, []any, error) {
	var prefixes []string
	if form != numberNational {
		prefixes = append(prefixes, "")
	}
	if form != numberIntl {
		codes, err := callingCodes(ctx, t)
		if err != nil {
			return "", nil, err
		}
		prefixes = append(prefixes, codes...)
	}
	if len(prefixes) == 0 {
		return "1 = 0", nil, nil // a national number, and a book without numbers
	}
	conds := make([]string, 0, len(prefixes))
	args := make([]any, 0, 2*len(prefixes))
	for _, prefix := range prefixes {
		conds = append(conds, "(c.phone >= ? AND c.phone < ?)")
		args = append(args, "+"+prefix+d, "+"+prefix+d+":")
	}
	return "(" + strings.Join(conds, " OR ") + ")", args, nil
}

// maxCallingCodes bounds the countries numberCondition searches national
// numbers in.
const maxCallingCodes = 40

// pgCallingCodes lists the calling codes of a book's numbers in order by a
// loose scan of contacts_phone_key: one probe per code (the first number
// after the previous code's range), so a book of a million numbers from
// six countries costs seven index probes in one round trip. $2 holds every
// calling code (they are prefix-free, so one at most starts a number); a
// number that starts with none (not written by Optline) is stepped over,
// and the walk stops after 200 steps.
const pgCallingCodes = `WITH RECURSIVE r(phone, code, depth) AS (
	SELECT p.phone, (SELECT k FROM unnest($2::text[]) k WHERE starts_with(p.phone, '+' || k)), 1
	FROM (SELECT phone FROM contacts WHERE business_id = $1 AND phone > '+' ORDER BY phone LIMIT 1) p
	UNION ALL
	SELECT p.phone, (SELECT k FROM unnest($2::text[]) k WHERE starts_with(p.phone, '+' || k)), r.depth + 1
	FROM r CROSS JOIN LATERAL (SELECT phone FROM contacts WHERE business_id = $1
		AND phone > CASE WHEN r.code IS NULL THEN r.phone ELSE '+' || r.code || ':' END ORDER BY phone LIMIT 1) p
	WHERE r.depth < 200
) SELECT code FROM r WHERE code IS NOT NULL LIMIT $3`

// allCallingCodes are the calling codes of countries (not of global
// services), as countryCodeLen knows them.
var allCallingCodes = sync.OnceValue(func() []string {
	var out []string
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ" {
			out = append(out, strconv.Itoa(cc))
		}
	}
	slices.Sort(out)
	return out
})

// callingCodes lists the calling codes of the book's numbers.
func callingCodes(ctx context.Context, t models.Tenant) ([]string, error) {
	rows, err := t.DB().Pool.Query(ctx, pgCallingCodes, t.BusinessID(), allCallingCodes(), maxCallingCodes)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// searchCondition matches every term as a word prefix of c.search. On
// PostgreSQL it uses the full-text index of the name and e-mail words
// (searchWordsExpr; the words become lexemes as they are, without a
// text-search parser, in the index and in the query alike) for the terms
// that are not all digits. The number words are not in that index, so a
// term of digits only (which may start a number word, or a name or e-mail
// word) is compared with the whole text (wordsLike), as a filter of the
// rows the index finds; a term with anything but digits cannot start a
// number word. SQLite compares the text.
func searchCondition(d models.Dialect, terms []string) (string, []any) {
	if d != models.Postgres {
		return wordsLike(terms)
	}
	var quoted, digits []string
	for _, t := range terms {
		if strings.Trim(t, "0123456789") == "" {
			digits = append(digits, t)
			continue
		}
		quoted = append(quoted, "'"+strings.NewReplacer("'", "''", `\`, `\\`).Replace(t)+"':*")
	}
	if len(quoted) == 0 {
		return wordsLike(digits)
	}
	cond, args := searchWordsExpr+" @@ CAST(? AS tsquery)", []any{strings.Join(quoted, " & ")}
	if len(digits) > 0 {
		like, likeArgs := wordsLike(digits)
		cond, args = cond+" AND "+like, append(args, likeArgs...)
	}
	return cond, args
}

// searchWordsExpr is the expression of contacts_search_idx (schema 3): the
// name and e-mail words, before models.SearchSep.
const searchWordsExpr = `array_to_tsvector(string_to_array(split_part(c.search, '  ', 1), ' '))`

// wordsLike matches every term as a word prefix of c.search by comparing
// the text: SQLite's search, and on PostgreSQL the filter of the probe
// of the list's order (fetchPage), where it costs less than half of
// building each row's tsvector.
func wordsLike(terms []string) (string, []any) {
	conds := make([]string, len(terms))
	args := make([]any, len(terms))
	for i, t := range terms {
		conds[i] = `(' ' || c.search) LIKE ? ESCAPE '\'`
		args[i] = "% " + models.EscapeLike(t) + "%"
	}
	return strings.Join(conds, " AND "), args
}
