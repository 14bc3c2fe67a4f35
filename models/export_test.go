package models

import "gorm.io/gorm"

// The import's lookups, for the plan tests in package models_test.
const (
	PGLoadContactsSQL = pgLoadContacts
	PGApplyUpdatesSQL = pgApplyUpdates
	PGUpdateTableSQL  = pgUpdateTable
)

// RefoldContactSearch runs schema 6's rewrite of the search text.
func RefoldContactSearch(db *DB) error { return refoldContactSearch(db.Gorm, db.Dialect) }

// FlagStoredLandlines runs schema 9's judgement of the stored contacts.
func FlagStoredLandlines(db *DB) error { return flagStoredLandlines(db.Gorm, db.Dialect) }

// CreateSearchIndex drops the SQLite search index and builds it again as
// schema 10 does, from the contacts stored.
func CreateSearchIndex(db *DB) error {
	return db.Gorm.Transaction(func(tx *gorm.DB) error {
		for _, s := range []string{"DROP TRIGGER contacts_fts_insert", "DROP TRIGGER contacts_fts_update",
			"DROP TRIGGER contacts_fts_delete", "DROP TABLE contacts_fts"} {
			if err := tx.Exec(s).Error; err != nil {
				return err
			}
		}
		return sqliteContactsFTS(tx, db.Dialect)
	})
}

// SearchIndexHits counts the contacts of the business whose words in the
// SQLite search index (not the contacts table) start with every term.
func SearchIndexHits(db *DB, businessID int64, terms ...string) (int64, error) {
	var n int64
	err := db.Gorm.Raw("SELECT COUNT(*) FROM contacts_fts WHERE contacts_fts MATCH ?", ftsMatch(businessID, terms)).Scan(&n).Error
	return n, err
}
