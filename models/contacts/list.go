package contacts

import (
	"context"
	"slices"
	"strconv"

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
