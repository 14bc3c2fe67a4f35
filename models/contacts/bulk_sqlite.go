package contacts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// The SQLite import path: SQLite has one writer at a time, so inside one
// (IMMEDIATE) transaction the batch reads the stored contacts and
// suppressions of its numbers, plans with the shared rules and writes with
// multi-row upserts.

const sqliteUpsertHead = `INSERT INTO contacts (business_id, phone, phone_hash, name, first_name, last_name, email, language, attrs,
	consent_state, opted_in_at, opt_in_source, opted_out_at, import_id, import_row, landline, search, created_at, updated_at) VALUES `

const sqliteUpsertTail = ` ON CONFLICT (business_id, phone) DO UPDATE SET name = excluded.name, first_name = excluded.first_name,
	last_name = excluded.last_name, email = excluded.email, language = excluded.language, attrs = excluded.attrs,
	consent_state = excluded.consent_state, opted_in_at = excluded.opted_in_at, opt_in_source = excluded.opt_in_source,
	opted_out_at = excluded.opted_out_at, import_id = excluded.import_id, import_row = excluded.import_row, search = excluded.search,
	updated_at = excluded.updated_at RETURNING id, phone`

// sqliteUpsertCols is the number of columns sqliteUpsertHead names.
const sqliteUpsertCols = 19

// sqliteChunk is the contacts per upsert statement.
const sqliteChunk = models.SQLiteParams / sqliteUpsertCols

func (b *importBatch) applySQLite(ctx context.Context, res *BatchResult) error {
	return b.t.DB().Tx(ctx, func(tx *gorm.DB) error {
		biz := b.t.BusinessID()
		conn := tx.Statement.ConnPool
		if b.firstRow > 0 {
			r, err := conn.ExecContext(ctx, `INSERT INTO contact_import_batches (business_id, import_id, first_row, applied_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				biz, b.importID, b.firstRow, b.now)
			if err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				var stored string
				if err := conn.QueryRowContext(ctx, `SELECT result FROM contact_import_batches WHERE business_id = ? AND import_id = ? AND first_row = ?`,
					biz, b.importID, b.firstRow).Scan(&stored); err != nil {
					return fmt.Errorf("ledger: %w", err)
				}
				return replayed(stored, res)
			}
		}
		if len(b.staged) > 0 {
			prior, supp, err := b.sqliteLoad(tx)
			if err != nil {
				return err
			}
			if err := b.sqliteWrite(ctx, tx, b.plan(b.staged, prior, supp, res)); err != nil {
				return err
			}
			b.finish(res)
		}
		if b.firstRow > 0 {
			if _, err := conn.ExecContext(ctx, `UPDATE contact_import_batches SET result = ? WHERE business_id = ? AND import_id = ? AND first_row = ?`,
				models.JSONText(res), biz, b.importID, b.firstRow); err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
		}
		return nil
	})
}

// sqliteLoad reads the stored contacts and suppressions of the batch's
// numbers.
func (b *importBatch) sqliteLoad(tx *gorm.DB) (map[string]*priorContact, map[string]time.Time, error) {
	prior := make(map[string]*priorContact, len(b.staged))
	supp := map[string]time.Time{}
	for start := 0; start < len(b.staged); start += 500 {
		part := b.staged[start:min(start+500, len(b.staged))]
		phones := make([]string, len(part))
		hashes := make([]string, len(part))
		for i, s := range part {
			phones[i], hashes[i] = s.phone, s.hash
		}
		var rows []priorContact
		if err := tx.Raw(`SELECT `+priorColumns+` FROM contacts WHERE business_id = ? AND phone IN ?`, b.t.BusinessID(), phones).Scan(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("read contacts: %w", err)
		}
		for i := range rows {
			prior[rows[i].Phone] = &rows[i]
		}
		var sups []Suppression
		if err := tx.Raw(`SELECT phone_hash, opted_out_at FROM suppressions WHERE business_id = ? AND phone_hash IN ?`, b.t.BusinessID(), hashes).
			Scan(&sups).Error; err != nil {
			return nil, nil, fmt.Errorf("read suppressions: %w", err)
		}
		for _, s := range sups {
			supp[s.PhoneHash] = s.OptedOutAt.UTC()
		}
	}
	return prior, supp, nil
}

// priorColumns are the stored contact's columns the rules need.
const priorColumns = `id, phone, consent_state, opted_in_at, opt_in_source, opted_out_at, import_id, import_row, name, first_name, last_name, email, language, attrs`

// sqliteWrite upserts the contacts, then writes tags, events, lifted
// suppressions and links earlier events to new contacts.
func (b *importBatch) sqliteWrite(ctx context.Context, tx *gorm.DB, p batchPlan) error {
	conn := &preparedPool{ConnPool: tx.Statement.ConnPool, stmts: map[string]*sql.Stmt{}}
	defer conn.close()
	writes := p.all()
	for start := 0; start < len(writes); start += sqliteChunk {
		part := writes[start:min(start+sqliteChunk, len(writes))]
		args := make([]any, 0, len(part)*sqliteUpsertCols)
		byPhone := make(map[string]*plannedContact, len(part))
		for _, w := range part {
			c := &w.c
			byPhone[c.Phone] = w
			args = append(args, c.BusinessID, c.Phone, c.PhoneHash, c.Name, c.FirstName, c.LastName, c.Email, c.Language, w.attrs,
				c.ConsentState, c.OptedInAt, c.OptInSource, c.OptedOutAt, b.importID, c.ImportRow, c.Landline, c.Search, c.CreatedAt, c.UpdatedAt)
		}
		rows, err := conn.QueryContext(ctx, sqliteUpsertHead+models.Placeholders(len(part), sqliteUpsertCols)+sqliteUpsertTail, args...)
		if err != nil {
			return fmt.Errorf("upsert contacts: %w", err)
		}
		for rows.Next() {
			var id int64
			var phone string
			if err := rows.Scan(&id, &phone); err != nil {
				rows.Close()
				return err
			}
			byPhone[phone].c.ID = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("upsert contacts: %w", err)
		}
	}
	var tagArgs, eventArgs []any
	var lift, fresh []string
	freshIDs := map[string]int64{}
	for _, w := range writes {
		id := w.c.ID
		for _, tag := range w.s.tags {
			tagArgs = append(tagArgs, b.t.BusinessID(), id, tag)
		}
		if w.o.event {
			eventArgs = append(eventArgs, b.t.BusinessID(), id, w.c.PhoneHash, consentKindIn, *w.o.inAt, w.s.source, w.s.sourceText, "", b.actor, b.now)
		}
		if w.o.lift {
			lift = append(lift, w.c.PhoneHash)
		}
		if w.inserted {
			fresh = append(fresh, w.c.PhoneHash)
			freshIDs[w.c.PhoneHash] = id
		}
	}
	if err := execRows(ctx, conn, `INSERT INTO contact_tags (business_id, contact_id, tag) VALUES `, ` ON CONFLICT DO NOTHING`, 3, tagArgs); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if err := b.sqliteLink(ctx, tx, fresh, freshIDs); err != nil {
		return err
	}
	if err := execRows(ctx, conn, `INSERT INTO consent_events (business_id, contact_id, phone_hash, kind, at, source, source_text, wording, recorded_by, created_at) VALUES `, ``, 10, eventArgs); err != nil {
		return fmt.Errorf("consent events: %w", err)
	}
	for start := 0; start < len(lift); start += 500 {
		part := lift[start:min(start+500, len(lift))]
		if err := tx.Exec(`DELETE FROM suppressions WHERE business_id = ? AND phone_hash IN ?`, b.t.BusinessID(), part).Error; err != nil {
			return fmt.Errorf("lift suppressions: %w", err)
		}
	}
	return nil
}

// sqliteLink attaches earlier, unlinked consent events to new contacts.
func (b *importBatch) sqliteLink(ctx context.Context, tx *gorm.DB, hashes []string, ids map[string]int64) error {
	for start := 0; start < len(hashes); start += 500 {
		part := hashes[start:min(start+500, len(hashes))]
		var found []string
		if err := tx.Raw(`SELECT DISTINCT phone_hash FROM consent_events WHERE business_id = ? AND contact_id IS NULL AND phone_hash IN ?`,
			b.t.BusinessID(), part).Scan(&found).Error; err != nil {
			return fmt.Errorf("consent history: %w", err)
		}
		for _, h := range found {
			if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE consent_events SET contact_id = ? WHERE business_id = ? AND contact_id IS NULL AND phone_hash = ?`,
				ids[h], b.t.BusinessID(), h); err != nil {
				return fmt.Errorf("consent history: %w", err)
			}
		}
	}
	return nil
}

// preparedPool prepares each distinct statement once per batch: the
// multi-row statements repeat with the same shape, and parsing them again
// each time cost a quarter of the time.
type preparedPool struct {
	gorm.ConnPool
	stmts map[string]*sql.Stmt
}

func (p *preparedPool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

func (p *preparedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *preparedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *preparedPool) close() {
	for _, st := range p.stmts {
		st.Close()
	}
}

// execRows inserts args, ncols per row, in multi-row statements.
func execRows(ctx context.Context, conn gorm.ConnPool, head, tail string, ncols int, args []any) error {
	per := max(1, models.SQLiteParams/ncols)
	for start := 0; start < len(args); start += per * ncols {
		part := args[start:min(start+per*ncols, len(args))]
		if _, err := conn.ExecContext(ctx, head+models.Placeholders(len(part)/ncols, ncols)+tail, part...); err != nil {
			return err
		}
	}
	return nil
}
