package models

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
