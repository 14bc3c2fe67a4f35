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
	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// ContactFilter narrows the contact list; the same filter drives counts,
// bulk actions on "everyone matching" and exports.
type ContactFilter struct {
	Query    string   // part of the number, name or e-mail
	Tags     []string // contacts carrying all of these tags
	Consent  string   // one of ConsentStates, "" for any
	Language string   // ISO 639-1 code, "" for any
	// Segment, when set, keeps only the messageable members of the rule.
	Segment *SegmentRule
	// ImportID, when not 0, keeps the contacts this import wrote last
	// (added or updated; contacts.import_id).
	ImportID int64
	// Sort is one of ContactSorts; anything else means the default.
	Sort string
	// After and Before are keyset cursors from a ContactPage.
	After  string
	Before string
	Limit  int // 1..200, default 50
}

// Contact list orders: by date added, newest or oldest first (keyset
// pages over contacts_page_idx). Only these reach SQL; any other value
// falls back to SortNewest. (Schema 5 dropped the order by name: its index
// cost a tenth of every import.)
const (
	SortNewest = "newest"
	SortOldest = "oldest"
)

// ContactSorts lists the allowed orders.
var ContactSorts = []string{SortNewest, SortOldest}

// NormalizeSort returns s when it is an allowed order, else the default.
func NormalizeSort(s string) string {
	if slices.Contains(ContactSorts, s) {
		return s
	}
	return SortNewest
}

// ContactPage is one page of the list with cursors for its neighbours
// ("" when there is no such page).
type ContactPage struct {
	Contacts []Contact
	Next     string
	Prev     string
}

// listOrder is the ORDER BY of the list: newest first when desc, turned
// around when reverse (reading the page before a cursor).
func listOrder(desc, reverse bool) string {
	if desc != reverse {
		return "c.id DESC"
	}
	return "c.id ASC"
}

// encodeCursor is the keyset position after (or before) c.
func encodeCursor(c *Contact) string { return "i" + strconv.FormatInt(c.ID, 10) }

// decodeCursor reads a cursor's id; a malformed one (or one from the name
// order of schema 4, "n...") gives ok=false and the list starts at the top.
func decodeCursor(raw string) (int64, bool) {
	if len(raw) < 2 || len(raw) > 24 || raw[0] != 'i' {
		return 0, false
	}
	id, err := strconv.ParseInt(raw[1:], 10, 64)
	return id, err == nil && id > 0
}

// keyset is the condition for rows after (or before, when back) the
// contact with id.
func keyset(desc bool, id int64, back bool) (string, []any) {
	if desc != back { // moving towards smaller ids
		return "c.id < ?", []any{id}
	}
	return "c.id > ?", []any{id}
}

// where builds the filter's condition on contacts aliased c, always scoped
// to the business.
func where(ctx context.Context, t models.Tenant, f ContactFilter) (string, []any, error) {
	q, err := whereParts(ctx, t, f)
	cond, args := q.all()
	return cond, args, err
}

// filterSQL is a filter as SQL: the condition without the search (base),
// and the search's condition ("" for none). words are the terms of a word
// search on PostgreSQL, which fetchPage first tries on the newest rows.
type filterSQL struct {
	base       string
	args       []any
	search     string
	searchArgs []any
	words      []string
	// On SQLite, a search's FTS5 query (ftsMatch) and the text comparison
	// that checks the rows it finds (recheck); see sqliteSearch.
	match       string
	recheck     string
	recheckArgs []any
	// cursor is the page's keyset condition (also part of base), which a
	// walk of contacts_fts repeats on its rowid.
	cursor     string
	cursorArgs []any
}

// all is the whole condition.
func (q filterSQL) all() (string, []any) {
	if q.search == "" {
		return q.base, q.args
	}
	return q.base + " AND " + q.search, append(slices.Clip(q.args), q.searchArgs...)
}

// whereParts is the filter as filterSQL.
func whereParts(ctx context.Context, t models.Tenant, f ContactFilter) (q filterSQL, err error) {
	conds := []string{"c.business_id = ?"}
	q.args = []any{t.BusinessID()}
	terms, phone := searchTerms(f.Query)
	if phone != notNumber && t.DB().Dialect == models.Postgres {
		if q.search, q.searchArgs, err = numberCondition(ctx, t, terms[0], phone); err != nil {
			return filterSQL{}, err
		}
	} else if phone == numberIntl || phone == numberNational {
		q.search, q.searchArgs = sqliteNumberCondition(terms[0], phone)
	} else if len(terms) > 0 {
		q.search, q.searchArgs = searchCondition(t.DB().Dialect, terms)
		if t.DB().Dialect == models.Postgres {
			q.words = terms
		}
	} else if strings.TrimSpace(f.Query) != "" {
		conds = append(conds, "1 = 0") // nothing searchable was typed
	}
	if q.search != "" && t.DB().Dialect == models.SQLite {
		q.sqliteSearch(t.BusinessID(), terms)
	}
	args := q.args
	for _, tag := range f.Tags {
		if tag = NormalizeTag(tag); tag != "" {
			conds = append(conds, "EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = ?)")
			args = append(args, tag)
		}
	}
	if slices.Contains(ConsentStates, f.Consent) {
		conds = append(conds, "c.consent_state = ?")
		args = append(args, f.Consent)
	}
	if f.Language != "" {
		conds = append(conds, "c.language = ?")
		args = append(args, strings.ToLower(strings.TrimSpace(f.Language)))
	}
	if f.ImportID != 0 {
		conds = append(conds, "c.import_id = ?")
		args = append(args, f.ImportID)
	}
	if f.Segment != nil {
		cond, a := f.Segment.where()
		conds = append(conds, cond)
		args = append(args, a...)
	}
	q.base, q.args = strings.Join(conds, " AND "), args
	return q, nil
}

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

func contactsQuery(ctx context.Context, t models.Tenant, f ContactFilter) (*gorm.DB, error) {
	cond, args, err := where(ctx, t, f)
	return t.DB().WithContext(ctx).Table("contacts AS c").Where(cond, args...), err
}

// List returns one page of contacts in the filter's order, with
// their tags and the fields the list shows (listColumns; ContactByID has
// everything). Pages are keyset-paginated:
// fast on any page, and stable while contacts are added.
func List(ctx context.Context, t models.Tenant, f ContactFilter) (ContactPage, error) {
	return ListWith(ctx, t, f, nil)
}

// PageExtras is what a list page shows beside its contacts. ListContactsWith
// fills it; on PostgreSQL, when the page is a single query (no word
// search), the three queries travel in one round trip.
type PageExtras struct {
	CountUpTo int64 // > 0: count the filter's contacts, up to this (CountContactsUpTo)
	Count     int64
	More      bool // more than CountUpTo
	Tags      []string
	WantTags  bool // list the business's tags (Tags)
}

// ListWith is ListContacts, and fills ex when not nil.
func ListWith(ctx context.Context, t models.Tenant, f ContactFilter, ex *PageExtras) (ContactPage, error) {
	var page ContactPage
	if err := t.Check(); err != nil {
		return page, models.Wrap("contacts.ListWith", err)
	}
	if f.Limit <= 0 || f.Limit > contactPageLimit {
		f.Limit = 50
	}
	desc := NormalizeSort(f.Sort) == SortNewest
	q, err := whereParts(ctx, t, f)
	if err != nil {
		return page, models.Wrap("contacts.ListWith", err)
	}
	var batch *extrasBatch
	if ex != nil {
		batch = &extrasBatch{ex: ex}
		if ex.CountUpTo > 0 {
			batch.countSQL, batch.countArgs = q.countUpToSQL(ex.CountUpTo)
		}
	}
	back := false
	if cur, ok := decodeCursor(f.Before); ok {
		back = true
		q.cursor, q.cursorArgs = keyset(desc, cur, true)
	} else if cur, ok := decodeCursor(f.After); ok {
		q.cursor, q.cursorArgs = keyset(desc, cur, false)
	}
	if q.cursor != "" {
		q.base, q.args = q.base+" AND "+q.cursor, append(slices.Clip(q.args), q.cursorArgs...)
	}
	rows, err := fetchPage(ctx, t, q, listOrder(desc, back), f.Limit+1, batch)
	if err != nil {
		return page, models.Wrap("contacts.ListWith", err)
	}
	if batch != nil && !batch.done && batch.countSQL != "" {
		if ex.Count, ex.More, err = countUpTo(ctx, t, batch.countSQL, batch.countArgs, ex.CountUpTo); err != nil {
			return page, models.Wrap("contacts.ListWith", err)
		}
	}
	if ex != nil && ex.WantTags { // kept in memory between pages: no query most of the time
		if ex.Tags, err = Tags(ctx, t); err != nil {
			return page, models.Wrap("contacts.ListWith", err)
		}
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	if back {
		slices.Reverse(rows)
	}
	if len(rows) > 0 {
		switch {
		case back:
			page.Next = encodeCursor(&rows[len(rows)-1])
			if more {
				page.Prev = encodeCursor(&rows[0])
			}
		default:
			if more {
				page.Next = encodeCursor(&rows[len(rows)-1])
			}
			if f.After != "" {
				page.Prev = encodeCursor(&rows[0])
			}
		}
	}
	page.Contacts = rows
	return page, nil
}

// searchWindow is how many rows, in list order, a PostgreSQL search page
// first looks through before it asks the search index; sqliteSearchWindow
// the same on SQLite, where comparing the text costs more and the word
// index less: 500 rows fill a page for a term that one contact in ten
// matches, and a rarer term's lists are short enough to merge.
const (
	searchWindow       = 5000
	sqliteSearchWindow = 500
)

// fetchPage reads up to limit contacts matching q in order, with their
// tags.
//
// On PostgreSQL a word search needs care. For a term that matches many
// contacts ("m") the fastest plan walks the list's index and filters; for
// a rare one ("kundin4711@") that walk reads the whole table and the
// search index is far faster. The planner cannot tell them apart (prefix
// terms have no statistics), so the page first filters the next
// searchWindow rows in order (comparing the text, wordsLike), and only when that does not fill the page
// asks the search index (with plain index scans switched off for that one
// query). A number search is b-tree ranges with statistics
// (numberCondition) and runs as it is.
func fetchPage(ctx context.Context, t models.Tenant, q filterSQL, order string, limit int, batch *extrasBatch) ([]Contact, error) {
	cond, all := q.all()
	if t.DB().Dialect != models.Postgres || t.DB().Pool == nil {
		if q.match != "" {
			// As on PostgreSQL, the next rows in order come first: a
			// term that matches a large part of the book fills the page
			// from them, where FTS5 would first merge the lists of all
			// its matches (22 ms for a word every one of 50,000
			// contacts has).
			probe := "SELECT " + cListColumns + " FROM (SELECT * FROM contacts c WHERE " + q.base + " ORDER BY " + order +
				" LIMIT " + strconv.Itoa(sqliteSearchWindow) + ") c WHERE " + q.recheck + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit)
			rows, err := fetchPageRaw(ctx, t, probe, append(slices.Clip(q.args), q.recheckArgs...))
			if err != nil || len(rows) == limit {
				return rows, err
			}
			ks := strings.ReplaceAll(q.cursor, "c.id", "f.rowid")
			sql, args := q.sqliteFTSQuery(cListColumns, order, ks, q.cursorArgs, limit)
			return fetchPageRaw(ctx, t, sql, args)
		}
		return fetchPageGorm(ctx, t, cond, all, order, limit)
	}
	if len(q.words) == 0 {
		inner := "SELECT c.* FROM contacts c WHERE " + cond + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit)
		if batch != nil {
			return pgContactsBatch(ctx, t, inner, all, order, batch)
		}
		return pgContacts(ctx, t, nil, inner, all, order)
	}
	like, likeArgs := wordsLike(q.words)
	probe := "SELECT c.* FROM (SELECT * FROM contacts c WHERE " + q.base + " ORDER BY " + order + " LIMIT " + strconv.Itoa(searchWindow) +
		") c WHERE " + like + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit)
	rows, err := pgContacts(ctx, t, nil, probe, append(slices.Clip(q.args), likeArgs...), order)
	if err != nil || len(rows) == limit {
		return rows, err
	}
	tx, err := t.DB().Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only; after Commit a no-op
	if _, err := tx.Exec(ctx, "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off"); err != nil {
		return nil, err
	}
	rows, err = pgContacts(ctx, t, tx, "SELECT c.* FROM contacts c WHERE "+cond+" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit), all, order)
	if err != nil {
		return nil, err
	}
	return rows, tx.Commit(ctx)
}

// listColumns are the columns a list page reads, in the order pgContacts
// scans them: those the list shows. Decoding fifty JSON objects of
// attributes was a tenth of a page's CPU, and scanning the eight columns
// it does not show (dates of consent, the hash, the import) another
// tenth; ContactByID reads everything.
const listColumns = "id, business_id, phone, name, email, language, consent_state, landline, created_at"

var (
	pListColumns = "p." + strings.ReplaceAll(listColumns, ", ", ", p.")
	cListColumns = "c." + strings.ReplaceAll(listColumns, ", ", ", c.")
)

// pgContacts runs inner (a SELECT of contacts rows aliased c, ordered by
// order, with ? placeholders) through pgx and returns its rows with their
// tags, aggregated in the same query — one round trip, and no reflection
// on the list's hot path. The tags are read for the business's own rows
// only (inner is scoped; the tag lookup repeats the scope).
func pgContacts(ctx context.Context, t models.Tenant, tx pgx.Tx, inner string, args []any, order string) ([]Contact, error) {
	q, args := pgContactsSQL(t, inner, args, order)
	var rows pgx.Rows
	var err error
	if tx != nil {
		rows, err = tx.Query(ctx, q, args...)
	} else {
		rows, err = t.DB().Pool.Query(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	return scanContacts(rows)
}

func pgContactsSQL(t models.Tenant, inner string, args []any, order string) (string, []any) {
	q := "SELECT " + pListColumns + ", ARRAY(SELECT t.tag FROM contact_tags t WHERE t.business_id = ? AND t.contact_id = p.id ORDER BY t.tag) FROM (" +
		inner + ") p ORDER BY " + strings.ReplaceAll(order, "c.", "p.")
	// The tag scope's placeholder comes first in the text, then inner's.
	return models.DollarArgs(q, append([]any{t.BusinessID()}, args...))
}

func scanContacts(rows pgx.Rows) ([]Contact, error) {
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.ID, &c.BusinessID, &c.Phone, &c.Name, &c.Email, &c.Language, &c.ConsentState, &c.Landline, &c.CreatedAt, &c.Tags); err != nil {
			return nil, err
		}
		if len(c.Tags) == 0 {
			c.Tags = nil
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// extrasBatch carries a page's extra queries into fetchPage; done says
// they were answered there.
type extrasBatch struct {
	ex        *PageExtras
	countSQL  string
	countArgs []any
	done      bool
}

// pgContactsBatch runs the page query with the page's count in one
// pipelined round trip.
func pgContactsBatch(ctx context.Context, t models.Tenant, inner string, args []any, order string, eb *extrasBatch) ([]Contact, error) {
	b := &pgx.Batch{}
	q, qa := pgContactsSQL(t, inner, args, order)
	b.Queue(q, qa...)
	if eb.countSQL != "" {
		cq, ca := models.DollarArgs(eb.countSQL, eb.countArgs)
		b.Queue(cq, ca...)
	}
	br := t.DB().Pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	out, err := scanContacts(rows)
	if err != nil {
		return nil, err
	}
	if eb.countSQL != "" {
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil {
			return nil, err
		}
		eb.ex.Count, eb.ex.More = min(n, eb.ex.CountUpTo), n > eb.ex.CountUpTo
	}
	eb.done = true
	return out, br.Close()
}

// fetchPageGorm is fetchPage on SQLite: the word search compares the
// text, so there is no plan to choose.
func fetchPageGorm(ctx context.Context, t models.Tenant, cond string, args []any, order string, limit int) ([]Contact, error) {
	var rows []Contact
	if err := t.DB().WithContext(ctx).Table("contacts AS c").Select(listColumns).Where(cond, args...).Order(order).Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	return withTags(ctx, t, rows)
}

// fetchPageRaw is fetchPageGorm for a whole SELECT of listColumns
// (sqliteFTSQuery).
func fetchPageRaw(ctx context.Context, t models.Tenant, sql string, args []any) ([]Contact, error) {
	var rows []Contact
	if err := t.DB().WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	return withTags(ctx, t, rows)
}

// withTags fills in the tags of rows.
func withTags(ctx context.Context, t models.Tenant, rows []Contact) ([]Contact, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	tags, err := tagsOf(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].Tags = tags[rows[i].ID]
	}
	return rows, nil
}

// Count counts every contact matching the filter.
func Count(ctx context.Context, t models.Tenant, f ContactFilter) (int64, error) {
	if err := t.Check(); err != nil {
		return 0, models.Wrap("contacts.Count", err)
	}
	q, err := contactsQuery(ctx, t, f)
	if err != nil {
		return 0, models.Wrap("contacts.Count", err)
	}
	var n int64
	err = q.Count(&n).Error
	return n, models.Wrap("contacts.Count", err)
}

// countUpToSQL counts the contacts matching cond up to limit+1.
func countUpToSQL(cond string, args []any, limit int64) (string, []any) {
	order := ""
	if cond == "c.business_id = ?" {
		// The whole book: count the newest rows, the pages the list has
		// just read, rather than let a sequential scan read the oldest
		// through its ring buffer from the operating system each time.
		order = " ORDER BY c.id DESC"
	}
	return "SELECT COUNT(*) FROM (SELECT 1 FROM contacts c WHERE " + cond + order + " LIMIT " + strconv.FormatInt(limit+1, 10) + ") x", args
}

// CountUpTo counts matching contacts but stops at limit, so a list
// page over a million contacts stays fast; more reports that there are
// more than limit.
func CountUpTo(ctx context.Context, t models.Tenant, f ContactFilter, limit int64) (n int64, more bool, err error) {
	if err := t.Check(); err != nil {
		return 0, false, models.Wrap("contacts.CountUpTo", err)
	}
	q, err := whereParts(ctx, t, f)
	if err != nil {
		return 0, false, models.Wrap("contacts.CountUpTo", err)
	}
	sql, args := q.countUpToSQL(limit)
	return countUpTo(ctx, t, sql, args, limit)
}

// countUpToSQL is countUpToSQL for the filter; a search on SQLite counts
// along contacts_fts (sqliteFTSQuery).
func (q filterSQL) countUpToSQL(limit int64) (string, []any) {
	if q.match != "" {
		inner, args := q.sqliteFTSQuery("1", "", "", nil, int(limit+1))
		return "SELECT COUNT(*) FROM (" + inner + ") x", args
	}
	cond, args := q.all()
	return countUpToSQL(cond, args, limit)
}

// countUpTo runs a countUpToSQL query.
func countUpTo(ctx context.Context, t models.Tenant, q string, args []any, limit int64) (n int64, more bool, err error) {
	if t.DB().Pool != nil { // every list page asks: pgx, without GORM
		q, args = models.DollarArgs(q, args)
		err = t.DB().Pool.QueryRow(ctx, q, args...).Scan(&n)
	} else {
		err = t.DB().WithContext(ctx).Raw(q, args...).Scan(&n).Error
	}
	if n > limit {
		return limit, true, err
	}
	return n, false, err
}
