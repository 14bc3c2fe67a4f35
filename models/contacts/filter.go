package contacts

import (
	"context"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// The list filter as SQL: one WHERE for the list, its counts, exports
// and bulk actions.

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

func contactsQuery(ctx context.Context, t models.Tenant, f ContactFilter) (*gorm.DB, error) {
	cond, args, err := where(ctx, t, f)
	return t.DB().WithContext(ctx).Table("contacts AS c").Where(cond, args...), err
}
