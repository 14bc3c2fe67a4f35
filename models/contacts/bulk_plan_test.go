package contacts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// TestImportLookupsIgnoreStaleStatistics plans the import's two lookups
// in a book that grew after the last ANALYZE, as during any large import:
// PostgreSQL then guesses a business has 0.5% of the table. Each batch
// must still find its numbers through contacts_phone_key and its changed
// contacts through the primary key; the plain forms of both read the
// whole book by contacts_page_idx instead, for every batch.
func TestImportLookupsIgnoreStaleStatistics(t *testing.T) {
	t.Parallel()
	db, _ := ctOpen(t, models.Postgres)
	ctx := context.Background()
	tn := ctTenant(t, db, "Big book")
	biz := tn.BusinessID()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO contacts (business_id, phone, phone_hash, created_at, updated_at)
		SELECT $1, '+49151' || lpad(g::text, 8, '0'), md5(g::text), now(), now() FROM generate_series(1, 150000) g`, biz); err != nil {
		t.Fatal(err)
	}
	phones := make([]string, 5000)
	for i := range phones {
		phones[i] = fmt.Sprintf("+49151%08d", i*30+1)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	explain := func(sql string, args ...any) string {
		t.Helper()
		rows, err := conn.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			t.Fatalf("explain: %v", err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	load := explain(contacts.PGLoadContactsSQL, biz, phones)
	if !strings.Contains(load, "contacts_phone_key") || strings.Contains(load, "contacts_page_idx") {
		t.Errorf("the batch's numbers are not looked up one by one:\n%s", load)
	}
	if _, err := conn.Exec(ctx, contacts.PGUpdateTableSQL); err != nil {
		t.Fatal(err)
	}
	upd := explain(contacts.PGApplyUpdatesSQL, biz, int64(1), db.Now())
	if !strings.Contains(upd, "contacts_pkey") || strings.Contains(upd, "contacts_page_idx") {
		t.Errorf("changed contacts are not found by their ids:\n%s", upd)
	}
}
