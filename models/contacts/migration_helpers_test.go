package contacts_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// rerunMigration runs schema step version's Go function again on the
// stored rows, as an upgrade from before it would.
func rerunMigration(t *testing.T, db *models.DB, version int) {
	t.Helper()
	for _, m := range models.Migrations() {
		if m.Version == version {
			if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return m.Func(tx, db.Dialect) }); err != nil {
				t.Fatalf("schema %d again: %v", version, err)
			}
			return
		}
	}
	t.Fatalf("no schema step %d", version)
}

// rebuildSearchIndex drops SQLite's word index and builds it again from
// the stored contacts, as schema 10 does.
func rebuildSearchIndex(t *testing.T, db *models.DB) {
	t.Helper()
	for _, s := range []string{"DROP TRIGGER contacts_fts_insert", "DROP TRIGGER contacts_fts_update",
		"DROP TRIGGER contacts_fts_delete", "DROP TABLE contacts_fts"} {
		if err := db.Gorm.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	rerunMigration(t, db, 10)
}
