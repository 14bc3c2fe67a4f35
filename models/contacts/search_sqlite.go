package contacts

import (
	"strconv"
	"strings"

	"github.com/optline/optline/models"
)

// Search on SQLite: the FTS5 word index (contacts_fts, schema 10).

// sqliteSearch turns the text comparison of a search on SQLite into a
// lookup of the word index contacts_fts (schema 10) checked by that
// comparison: the index finds the contacts of the business with a word
// starting with each term (a superset of what the comparison matches:
// its tokens are the words of the search text), and the comparison,
// made only on those rows, keeps exactly what it matched before (a
// number typed with "+" must start the first number word, for
// instance). fetchPage first compares the next sqliteSearchWindow rows
// in order and then walks the index itself in the list's order
// (sqliteFTSQuery), as CountContactsUpTo does; every other user of the
// filter (counts, bulk actions, exports) gets the lookup as an IN
// condition.
func (q *filterSQL) sqliteSearch(businessID int64, terms []string) {
	q.match = ftsMatch(businessID, terms)
	q.recheck, q.recheckArgs = q.search, q.searchArgs
	q.search = "c.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?) AND " + q.recheck
	q.searchArgs = append([]any{q.match}, q.recheckArgs...)
}

// ftsMatch is the FTS5 query for contacts of the business with a word
// starting with each term (schema 10 stores the words as
// "<business, ten digits>:<word>"). Terms hold letters, digits and @.-_' only
// (searchTerms), but quotes are doubled all the same.
func ftsMatch(businessID int64, terms []string) string {
	var b strings.Builder
	biz := models.FTSBusiness(businessID)
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + biz + strings.ReplaceAll(t, `"`, `""`) + `"*`)
	}
	return b.String()
}

// sqliteFTSQuery is the SELECT of a SQLite search that walks contacts_fts
// in the list's order (its rowid is the contact's id), joining each
// contact it finds: a rare name costs as many lookups as it has matches,
// a common prefix stops after limit rows. keyset repeats the page's
// cursor on the index's rowid, so a later page starts there instead of
// at the top.
func (q filterSQL) sqliteFTSQuery(cols, order, keyset string, keysetArgs []any, limit int) (string, []any) {
	where := "f.contacts_fts MATCH ?"
	args := []any{q.match}
	if keyset != "" {
		where += " AND " + keyset
		args = append(args, keysetArgs...)
	}
	where += " AND " + q.base + " AND " + q.recheck
	args = append(append(args, q.args...), q.recheckArgs...)
	sql := "SELECT " + cols + " FROM contacts_fts f CROSS JOIN contacts c ON c.id = f.rowid WHERE " + where
	if order != "" {
		sql += " ORDER BY " + strings.ReplaceAll(order, "c.id", "f.rowid")
	}
	return sql + " LIMIT " + strconv.Itoa(limit), args
}

// sqliteNumberCondition is numberCondition for SQLite, on the number
// words of c.search (searchText): the digits with the calling code right
// after models.SearchSep, then the national number. Digits typed without "+",
// "00" or a trunk 0 go through wordsLike and match either (or a word of
// the name or e-mail).
func sqliteNumberCondition(d string, form numberForm) (string, []any) {
	if form == numberIntl {
		return "c.search LIKE ?", []any{"%" + models.SearchSep + d + "%"}
	}
	return "c.search LIKE ?", []any{"%" + models.SearchSep + "_% " + d + "%"}
}
