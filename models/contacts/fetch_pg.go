package contacts

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/optline/optline/models"
)

// Reading a page of contacts on PostgreSQL: pgx directly, the page and its
// extras (count, tags) in one round trip.

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
