package models

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gorm.io/gorm"
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
	// Sort is one of ContactSorts; anything else means the default.
	Sort string
	// After and Before are keyset cursors from a ContactPage.
	After  string
	Before string
	Limit  int // 1..200, default 50
}

// Contact list orders. Only these reach SQL; any other value falls back to
// SortNewest.
const (
	SortNewest = "newest"
	SortOldest = "oldest"
	SortName   = "name"
)

// ContactSorts lists the allowed orders.
var ContactSorts = []string{SortNewest, SortOldest, SortName}

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

// sortSpec is an order: its ORDER BY, and its reverse for Previous.
type sortSpec struct {
	byName bool
	desc   bool
}

func (s sortSpec) order(reverse bool) string {
	desc := s.desc != reverse
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if s.byName {
		return "c.name_key" + dir + ", c.id" + dir
	}
	return "c.id" + dir
}

func specFor(sort string) sortSpec {
	switch NormalizeSort(sort) {
	case SortOldest:
		return sortSpec{}
	case SortName:
		return sortSpec{byName: true}
	}
	return sortSpec{desc: true}
}

// cursor is a keyset position: the id, and the name key for name order.
type cursor struct {
	id  int64
	key string
}

func encodeCursor(s sortSpec, c *Contact) string {
	id := strconv.FormatInt(c.ID, 10)
	if s.byName {
		return "n" + id + "." + base64.RawURLEncoding.EncodeToString([]byte(c.NameKey))
	}
	return "i" + id
}

// decodeCursor reads a cursor made for s; a malformed one, or one made for
// another order, gives ok=false and the list starts at the top.
func decodeCursor(s sortSpec, raw string) (cursor, bool) {
	if len(raw) < 2 || len(raw) > 1200 {
		return cursor{}, false
	}
	switch {
	case raw[0] == 'i' && !s.byName:
		id, err := strconv.ParseInt(raw[1:], 10, 64)
		return cursor{id: id}, err == nil && id > 0
	case raw[0] == 'n' && s.byName:
		idText, keyText, ok := strings.Cut(raw[1:], ".")
		id, err := strconv.ParseInt(idText, 10, 64)
		key, kerr := base64.RawURLEncoding.DecodeString(keyText)
		return cursor{id: id, key: string(key)}, ok && err == nil && kerr == nil && id > 0
	}
	return cursor{}, false
}

// keyset is the condition for rows after (or before, when back) cur.
func (s sortSpec) keyset(cur cursor, back bool) (string, []any) {
	less := s.desc != back // moving towards smaller keys
	op := ">"
	if less {
		op = "<"
	}
	if s.byName {
		return "(c.name_key " + op + " ? OR (c.name_key = ? AND c.id " + op + " ?))", []any{cur.key, cur.key, cur.id}
	}
	return "c.id " + op + " ?", []any{cur.id}
}

// where builds the filter's condition on contacts aliased c, always scoped
// to the business.
func (t Tenant) where(f ContactFilter) (string, []any) {
	base, args, search, sargs := t.whereParts(f)
	if search == "" {
		return base, args
	}
	return base + " AND " + search, append(args, sargs...)
}

// whereParts is the filter's condition without the search, and the search
// condition ("" when there is none).
func (t Tenant) whereParts(f ContactFilter) (base string, args []any, search string, searchArgs []any) {
	conds := []string{"c.business_id = ?"}
	args = []any{t.businessID}
	if terms := searchTerms(f.Query); len(terms) > 0 {
		search, searchArgs = searchCondition(t.db.Dialect, terms)
	} else if strings.TrimSpace(f.Query) != "" {
		conds = append(conds, "1 = 0") // nothing searchable was typed
	}
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
	if f.Segment != nil {
		cond, a := f.Segment.where()
		conds = append(conds, cond)
		args = append(args, a...)
	}
	return strings.Join(conds, " AND "), args, search, searchArgs
}

// searchTerms splits what the user typed into lower-case words, each of
// which must start a word of the contact's name, e-mail or number. Input
// that looks like a phone number is one term of its digits, without a
// leading 00 or national 0.
func searchTerms(q string) []string {
	q = strings.TrimSpace(q)
	if len(q) > 200 {
		q = q[:200]
	}
	if q == "" {
		return nil
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
		d := digits.String()
		if strings.HasPrefix(d, "00") {
			d = d[2:]
		} else if strings.HasPrefix(d, "0") {
			d = d[1:]
		}
		if d == "" {
			return nil
		}
		return []string{d}
	}
	var terms []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
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
	return terms
}

// searchCondition matches every term as a word prefix of c.search. On
// PostgreSQL it uses the full-text index of the search words (the words
// become lexemes as they are, without a text-search parser, in the index
// and in the query alike); SQLite compares the text.
func searchCondition(d Dialect, terms []string) (string, []any) {
	if d == Postgres {
		quoted := make([]string, len(terms))
		for i, t := range terms {
			quoted[i] = "'" + strings.NewReplacer("'", "''", `\`, `\\`).Replace(t) + "':*"
		}
		return "array_to_tsvector(string_to_array(c.search, ' ')) @@ CAST(? AS tsquery)", []any{strings.Join(quoted, " & ")}
	}
	conds := make([]string, len(terms))
	args := make([]any, len(terms))
	for i, t := range terms {
		conds[i] = `(' ' || c.search) LIKE ? ESCAPE '\'`
		args[i] = "% " + escapeLike(t) + "%"
	}
	return strings.Join(conds, " AND "), args
}

func (t Tenant) contactsQuery(ctx context.Context, f ContactFilter) *gorm.DB {
	cond, args := t.where(f)
	return t.db.WithContext(ctx).Table("contacts AS c").Where(cond, args...)
}

// ListContacts returns one page of contacts in the filter's order, with
// their tags. Pages are keyset-paginated: fast on any page, and stable
// while contacts are added.
func (t Tenant) ListContacts(ctx context.Context, f ContactFilter) (ContactPage, error) {
	var page ContactPage
	if err := t.check(); err != nil {
		return page, err
	}
	if f.Limit <= 0 || f.Limit > contactPageLimit {
		f.Limit = 50
	}
	spec := specFor(f.Sort)
	base, args, search, searchArgs := t.whereParts(f)
	back := false
	if cur, ok := decodeCursor(spec, f.Before); ok {
		back = true
		cond, a := spec.keyset(cur, true)
		base, args = base+" AND "+cond, append(args, a...)
	} else if cur, ok := decodeCursor(spec, f.After); ok {
		cond, a := spec.keyset(cur, false)
		base, args = base+" AND "+cond, append(args, a...)
	}
	rows, err := t.fetchPage(ctx, base, args, search, searchArgs, spec.order(back), f.Limit+1)
	if err != nil {
		return page, err
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
			page.Next = encodeCursor(spec, &rows[len(rows)-1])
			if more {
				page.Prev = encodeCursor(spec, &rows[0])
			}
		default:
			if more {
				page.Next = encodeCursor(spec, &rows[len(rows)-1])
			}
			if f.After != "" {
				page.Prev = encodeCursor(spec, &rows[0])
			}
		}
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	tags, err := t.tagsOf(ctx, ids)
	if err != nil {
		return page, err
	}
	for i := range rows {
		rows[i].Tags = tags[rows[i].ID]
	}
	page.Contacts = rows
	return page, nil
}

// searchWindow is how many rows, in list order, a PostgreSQL search page
// first looks through before it asks the search index.
const searchWindow = 5000

// fetchPage reads up to limit contacts matching base and search in order.
//
// On PostgreSQL a search needs care. For a term that matches many
// contacts ("m") the fastest plan walks the list's index and filters; for
// a rare one ("kundin4711@") that walk reads the whole table and the
// search index is far faster. The planner cannot tell them apart (prefix
// terms have no statistics), so the page first filters the next
// searchWindow rows in order, and only when that does not fill the page
// asks the search index (with plain index scans switched off for that one
// query).
func (t Tenant) fetchPage(ctx context.Context, base string, args []any, search string, searchArgs []any, order string, limit int) ([]Contact, error) {
	var rows []Contact
	if search == "" || t.db.Dialect != Postgres {
		cond, a := base, args
		if search != "" {
			cond, a = base+" AND "+search, append(append([]any(nil), args...), searchArgs...)
		}
		err := t.db.WithContext(ctx).Table("contacts AS c").Select("c.*").Where(cond, a...).Order(order).Limit(limit).Find(&rows).Error
		return rows, err
	}
	all := append(append([]any(nil), args...), searchArgs...)
	probe := "SELECT c.* FROM (SELECT * FROM contacts c WHERE " + base + " ORDER BY " + order + " LIMIT " + strconv.Itoa(searchWindow) +
		") c WHERE " + search + " ORDER BY " + order + " LIMIT ?"
	if err := t.db.WithContext(ctx).Raw(probe, append(all, limit)...).Scan(&rows).Error; err != nil || len(rows) == limit {
		return rows, err
	}
	rows = nil
	err := t.db.Tx(ctx, func(tx *gorm.DB) error {
		for _, set := range []string{"SET LOCAL enable_indexscan = off", "SET LOCAL enable_seqscan = off"} {
			if err := tx.Exec(set).Error; err != nil {
				return err
			}
		}
		return tx.Raw("SELECT c.* FROM contacts c WHERE "+base+" AND "+search+" ORDER BY "+order+" LIMIT ?", append(all, limit)...).Scan(&rows).Error
	})
	return rows, err
}

// CountContacts counts every contact matching the filter.
func (t Tenant) CountContacts(ctx context.Context, f ContactFilter) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	var n int64
	err := t.contactsQuery(ctx, f).Count(&n).Error
	return n, err
}

// CountContactsUpTo counts matching contacts but stops at limit, so a list
// page over a million contacts stays fast; more reports that there are
// more than limit.
func (t Tenant) CountContactsUpTo(ctx context.Context, f ContactFilter, limit int64) (n int64, more bool, err error) {
	if err := t.check(); err != nil {
		return 0, false, err
	}
	cond, args := t.where(f)
	args = append(args, limit+1)
	err = t.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM contacts c WHERE "+cond+" LIMIT ?) x", args...).Scan(&n).Error
	if n > limit {
		return limit, true, err
	}
	return n, false, err
}
