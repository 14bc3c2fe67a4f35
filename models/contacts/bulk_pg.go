package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/optline/optline/models"
)

// The PostgreSQL import path, built for speed (see BenchmarkApplyImportBatch):
//
//  1. Lock and read the batch's stored contacts (FOR UPDATE, in number
//     order, so concurrent imports queue instead of deadlocking) and the
//     suppressions of its numbers, by arrays of numbers and hashes.
//  2. Plan in Go with the rules shared with SQLite (decideConsent).
//  3. New contacts: take ids from the sequence and COPY them in, their
//     tags and consent events too. COPY is several times faster than
//     INSERT ... ON CONFLICT, whose speculative insertion costs about
//     20 µs a row here.
//  4. Changed contacts: COPY the final values into a temporary table and
//     apply them with one UPDATE ... FROM; their new tags with one INSERT
//     ... ON CONFLICT DO NOTHING.
//  5. Link earlier events to new contacts and lift suppressions with one
//     statement each.
//
// All in one pgx transaction. If another transaction inserts one of the
// batch's new numbers meanwhile, the unique index refuses the COPY and the
// batch is retried once from the start.
//
// With ImportBatchOptions.After (the previous batch of the same import,
// still being applied on another connection), the batch first does all of
// the above for its numbers that batch does not have, then waits for it
// to commit, then does its shared numbers, and commits. So the two
// batches' database work overlaps on two backends (two cores), while
// every number sees its rows in file order and batches commit in file
// order, exactly as if they ran one after the other. Waiting holds locks
// only on numbers the previous batch does not touch, so the two cannot
// deadlock.

// pgUpdateTable receives the final values of changed contacts. It lives as
// long as the connection and empties at each commit.
const pgUpdateTable = `CREATE TEMP TABLE IF NOT EXISTS contact_import_update (
	id bigint NOT NULL, name text NOT NULL, first_name text NOT NULL, last_name text NOT NULL, email text NOT NULL,
	language text NOT NULL, attrs jsonb NOT NULL, consent_state text NOT NULL, opted_in_at timestamptz, opt_in_source text NOT NULL,
	opted_out_at timestamptz, search text NOT NULL, import_row bigint
) ON COMMIT DELETE ROWS`

// pgContactFields are the contact's own columns, as copyFields writes them.
var pgContactFields = []string{"name", "first_name", "last_name", "email", "language", "attrs", "consent_state",
	"opted_in_at", "opt_in_source", "opted_out_at"}

var pgUpdateColumns = slices.Concat([]string{"id"}, pgContactFields, []string{"search", "import_row"})

// pgApplyUpdates finds each changed contact by its primary key. The ids
// were read and locked in this transaction for this business; the
// business test stays as a guard, written as an expression ("+ 0") so the
// planner cannot choose to scan the business's rows by contacts_page_idx
// (it did, with statistics that lagged a large import, reading the whole
// book for each batch).
const pgApplyUpdates = `UPDATE contacts c SET name = u.name, first_name = u.first_name, last_name = u.last_name, email = u.email,
	language = u.language, attrs = u.attrs, consent_state = u.consent_state, opted_in_at = u.opted_in_at, opt_in_source = u.opt_in_source,
	opted_out_at = u.opted_out_at, search = u.search, import_id = $2, import_row = u.import_row, updated_at = $3
FROM contact_import_update u WHERE c.id = u.id AND c.business_id + 0 = $1`

var pgContactColumns = slices.Concat([]string{"id", "business_id", "phone", "phone_hash"}, pgContactFields,
	[]string{"import_id", "import_row", "landline", "search", "created_at", "updated_at"})

var pgTagColumns = []string{"business_id", "contact_id", "tag"}

var pgEventColumns = []string{"business_id", "contact_id", "phone_hash", "kind", "at", "source", "source_text", "wording", "recorded_by", "created_at"}

func (b *importBatch) applyPG(ctx context.Context, res *BatchResult) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		*res = BatchResult{RowErrors: res.RowErrors}
		b.written = b.written[:0]
		if err = b.applyPGOnce(ctx, res); !isUniqueViolation(err) {
			if err == nil && b.fresh != nil {
				b.fresh.wrote(b.written)
			}
			return err
		}
		if b.fresh != nil { // another writer: look every number up from now on
			b.fresh.stop()
		}
	}
	return err
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (b *importBatch) applyPGOnce(ctx context.Context, res *BatchResult) error {
	tx, err := b.t.DB().Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	// A batch need not wait for its WAL to reach disk: after a crash a lost
	// batch is lost together with its ledger row, so the import applies it
	// again.
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return err
	}
	biz := b.t.BusinessID()
	if b.firstRow > 0 {
		tag, err := tx.Exec(ctx, `INSERT INTO contact_import_batches (business_id, import_id, first_row, applied_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			biz, b.importID, b.firstRow, b.now)
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var stored string
			if err := tx.QueryRow(ctx, `SELECT result FROM contact_import_batches WHERE business_id = $1 AND import_id = $2 AND first_row = $3`,
				biz, b.importID, b.firstRow).Scan(&stored); err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			return replayed(stored, res)
		}
	}
	own, shared := b.staged, []*stagedContact(nil)
	if b.after != nil && len(b.after.Phones) > 0 {
		own = make([]*stagedContact, 0, len(b.staged))
		for _, s := range b.staged {
			if _, ok := b.after.Phones[s.phone]; ok {
				shared = append(shared, s)
			} else {
				own = append(own, s)
			}
		}
	}
	if err := b.pgApplyPart(ctx, tx, own, res); err != nil {
		return err
	}
	if b.after != nil && b.after.Wait != nil {
		if err := b.after.Wait(ctx); err != nil {
			return fmt.Errorf("previous batch: %w", err)
		}
	}
	if err := b.pgApplyPart(ctx, tx, shared, res); err != nil {
		return err
	}
	if len(b.staged) > 0 {
		b.finish(res)
	}
	if b.firstRow > 0 {
		if _, err := tx.Exec(ctx, `UPDATE contact_import_batches SET result = $4 WHERE business_id = $1 AND import_id = $2 AND first_row = $3`,
			biz, b.importID, b.firstRow, models.JSONText(res)); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// pgApplyPart loads, plans and writes part of the batch's numbers.
func (b *importBatch) pgApplyPart(ctx context.Context, tx pgx.Tx, part []*stagedContact, res *BatchResult) error {
	if len(part) == 0 {
		return nil
	}
	prior, supp, err := b.pgLoad(ctx, tx, part)
	if err != nil {
		return err
	}
	p := b.plan(part, prior, supp, res)
	if err := b.pgInsert(ctx, tx, p.inserts); err != nil {
		return err
	}
	if err := b.pgUpdate(ctx, tx, p.updates); err != nil {
		return err
	}
	return b.pgFollowUps(ctx, tx, p)
}

// pgLoadContacts looks each number up in contacts_phone_key, one probe per
// number, whatever the statistics say. The plain form (business_id = $1
// AND phone = ANY($2)) let the planner scan the whole book: while a large
// import fills a book faster than ANALYZE runs, the statistics still say
// the business has a few hundred contacts, and every batch read all of
// them (0.3 s a batch at 650,000 contacts). The sub-select with FOR UPDATE
// cannot be pulled up into a join, so it stays a lookup per number.
const pgLoadContacts = `SELECT c.* FROM unnest($2::text[]) WITH ORDINALITY AS p(phone, n)
	CROSS JOIN LATERAL (SELECT ` + priorColumns + ` FROM contacts WHERE business_id = $1 AND phone = p.phone FOR UPDATE) c ORDER BY p.n`

// pgLoad locks and reads the stored contacts of part's numbers and reads
// their suppressions.
func (b *importBatch) pgLoad(ctx context.Context, tx pgx.Tx, part []*stagedContact) (map[string]*priorContact, map[string]time.Time, error) {
	phones := make([]string, 0, len(part))
	hashes := make([]string, len(part))
	for i, s := range part {
		hashes[i] = s.hash
		if b.fresh == nil || b.fresh.needsLookup(s.phone) {
			phones = append(phones, s.phone)
		}
	}
	// Rows are locked in number order (byte order, as the "C" collation of
	// contacts.phone), so two imports into one book queue instead of
	// deadlocking.
	slices.Sort(phones)
	prior := map[string]*priorContact{}
	rows, err := tx.Query(ctx, pgLoadContacts, b.t.BusinessID(), phones)
	if err != nil {
		return nil, nil, fmt.Errorf("read contacts: %w", err)
	}
	for rows.Next() {
		p := &priorContact{}
		var attrs []byte
		if err := rows.Scan(&p.ID, &p.Phone, &p.ConsentState, &p.OptedInAt, &p.OptInSource, &p.OptedOutAt, &p.ImportID, &p.ImportRow,
			&p.Name, &p.FirstName, &p.LastName, &p.Email, &p.Language, &attrs); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read contacts: %w", err)
		}
		if err := p.Attrs.Scan(attrs); err != nil {
			rows.Close()
			return nil, nil, err
		}
		prior[p.Phone] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read contacts: %w", err)
	}
	supp := map[string]time.Time{}
	rows, err = tx.Query(ctx, `SELECT phone_hash, opted_out_at FROM suppressions WHERE business_id = $1 AND phone_hash = ANY($2)`, b.t.BusinessID(), hashes)
	if err != nil {
		return nil, nil, fmt.Errorf("read suppressions: %w", err)
	}
	for rows.Next() {
		var h string
		var at time.Time
		if err := rows.Scan(&h, &at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		supp[h] = at.UTC()
	}
	rows.Close()
	return prior, supp, rows.Err()
}

// pgInsert gives new contacts ids from the sequence and copies them in
// with their tags.
func (b *importBatch) pgInsert(ctx context.Context, tx pgx.Tx, ins []*plannedContact) error {
	if len(ins) == 0 {
		return nil
	}
	var ids []int64
	if err := tx.QueryRow(ctx, `SELECT array_agg(nextval('contacts_id_seq')) FROM generate_series(1, $1)`, len(ins)).Scan(&ids); err != nil {
		return fmt.Errorf("contact ids: %w", err)
	}
	if len(ids) != len(ins) {
		return fmt.Errorf("contact ids: got %d of %d", len(ids), len(ins))
	}
	for i := range ins {
		ins[i].c.ID = ids[i]
		b.written = append(b.written, ins[i].c.Phone)
	}
	rows := newCopyRows(len(pgContactColumns))
	for _, w := range ins {
		c := &w.c
		rows.row()
		rows.int8(c.ID)
		rows.int8(c.BusinessID)
		rows.text(c.Phone)
		rows.text(c.PhoneHash)
		w.copyFields(rows)
		rows.int8(b.importID)
		rows.int8Ptr(c.ImportRow)
		rows.bool(c.Landline)
		rows.text(c.Search)
		rows.ts(c.CreatedAt)
		rows.ts(c.UpdatedAt)
	}
	if err := rows.copyIn(ctx, tx, "contacts", pgContactColumns); err != nil {
		return fmt.Errorf("copy contacts: %w", err)
	}
	tags := newCopyRows(len(pgTagColumns))
	for _, w := range ins {
		for _, tag := range w.s.tags {
			tags.row()
			tags.int8(b.t.BusinessID())
			tags.int8(w.c.ID)
			tags.text(tag)
		}
	}
	if err := tags.copyIn(ctx, tx, "contact_tags", pgTagColumns); err != nil {
		return fmt.Errorf("copy tags: %w", err)
	}
	return nil
}

// copyFields appends the contact's own fields, in the order of
// pgContactFields.
func (w *plannedContact) copyFields(rows *copyRows) {
	c := &w.c
	rows.text(c.Name)
	rows.text(c.FirstName)
	rows.text(c.LastName)
	rows.text(c.Email)
	rows.text(c.Language)
	rows.jsonb(w.attrs)
	rows.text(c.ConsentState)
	rows.tsPtr(c.OptedInAt)
	rows.text(c.OptInSource)
	rows.tsPtr(c.OptedOutAt)
}

// pgUpdate applies the final values of changed contacts and merges their
// tags.
func (b *importBatch) pgUpdate(ctx context.Context, tx pgx.Tx, ups []*plannedContact) error {
	if len(ups) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, pgUpdateTable); err != nil {
		return fmt.Errorf("update table: %w", err)
	}
	rows := newCopyRows(len(pgUpdateColumns))
	for _, w := range ups {
		c := &w.c
		rows.row()
		rows.int8(c.ID)
		w.copyFields(rows)
		rows.text(c.Search)
		rows.int8Ptr(c.ImportRow)
	}
	if err := rows.copyIn(ctx, tx, "contact_import_update", pgUpdateColumns); err != nil {
		return fmt.Errorf("copy updates: %w", err)
	}
	if _, err := tx.Exec(ctx, pgApplyUpdates, b.t.BusinessID(), b.importID, b.now); err != nil {
		return fmt.Errorf("update contacts: %w", err)
	}
	var ids []int64
	var tags []string
	for _, w := range ups {
		for _, tag := range w.s.tags {
			ids, tags = append(ids, w.c.ID), append(tags, tag)
		}
	}
	if len(tags) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO contact_tags (business_id, contact_id, tag) SELECT $1, t.id, t.tag FROM unnest($2::bigint[], $3::text[]) AS t(id, tag)
			ON CONFLICT DO NOTHING`, b.t.BusinessID(), ids, tags); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
	}
	return nil
}

// pgFollowUps writes consent events, links earlier events to new contacts
// and lifts suppressions.
func (b *importBatch) pgFollowUps(ctx context.Context, tx pgx.Tx, p batchPlan) error {
	events := newCopyRows(len(pgEventColumns))
	var lift []string
	for _, w := range p.all() {
		if w.o.event {
			events.row()
			events.int8(b.t.BusinessID())
			events.int8(w.c.ID)
			events.text(w.c.PhoneHash)
			events.text(consentKindIn)
			events.ts(*w.o.inAt)
			events.text(w.s.source)
			events.text(w.s.sourceText)
			events.text("")
			events.text(b.actor)
			events.ts(b.now)
		}
		if w.o.lift {
			lift = append(lift, w.c.PhoneHash)
		}
	}
	if len(p.inserts) > 0 {
		// Only numbers with unlinked events (erased contacts, STOPs from
		// strangers) match; the partial index keeps this cheap.
		hashes := make([]string, len(p.inserts))
		ids := make([]int64, len(p.inserts))
		for i, w := range p.inserts {
			hashes[i], ids[i] = w.c.PhoneHash, w.c.ID
		}
		if _, err := tx.Exec(ctx, `UPDATE consent_events e SET contact_id = v.id FROM unnest($2::text[], $3::bigint[]) AS v(hash, id)
			WHERE e.business_id = $1 AND e.contact_id IS NULL AND e.phone_hash = v.hash`, b.t.BusinessID(), hashes, ids); err != nil {
			return fmt.Errorf("consent history: %w", err)
		}
	}
	if err := events.copyIn(ctx, tx, "consent_events", pgEventColumns); err != nil {
		return fmt.Errorf("copy consent events: %w", err)
	}
	if len(lift) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM suppressions WHERE business_id = $1 AND phone_hash = ANY($2)`, b.t.BusinessID(), lift); err != nil {
			return fmt.Errorf("lift suppressions: %w", err)
		}
	}
	return nil
}

// replayed fills res from a ledger entry.
func replayed(stored string, res *BatchResult) error {
	if stored == "" {
		return errors.New("ledger entry without result")
	}
	if err := json.Unmarshal([]byte(stored), res); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	res.Replayed = true
	return nil
}

// AnalyzeImportLimit is the size of import after which RefreshContactStats
// is worth its cost.
const AnalyzeImportLimit = 10000

// RefreshStats has PostgreSQL sample the contact tables again. A
// large import changes a book faster than autovacuum notices (it analyzes
// a table after a tenth of it changed, which in a shared table of many
// books may be never), and the pages are planned from those statistics: a
// business they still think small gets plans that read its whole book.
// About 0.3 s at 1,000,000 contacts (ANALYZE samples 30,000 rows). SQLite's
// planner does without; there the search index the import wrote in many
// small segments is merged instead (OptimizeSearchIndex).
func RefreshStats(ctx context.Context, db *models.DB) error {
	if db.Dialect != models.Postgres {
		return db.OptimizeSearchIndex(ctx)
	}
	_, err := db.Pool.Exec(ctx, `ANALYZE contacts, contact_tags`)
	return models.Wrap("contacts.RefreshStats", err)
}
