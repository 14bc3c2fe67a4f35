package contacts

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/optline/optline/models"
)

// Reading a page of contacts: one dialect switch, the PostgreSQL path in
// fetch_pg.go.

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
	if t.DB().Dialect != models.Postgres {
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
