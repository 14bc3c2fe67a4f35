package contacts

import (
	"context"
	"strconv"

	"github.com/optline/optline/models"
)

// Counting the contacts a filter matches, exactly or up to a cap.

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
	if t.DB().Dialect == models.Postgres { // every list page asks: pgx, without GORM
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
