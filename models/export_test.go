package models

// The import's lookups, for the plan tests in package models_test.
const (
	PGLoadContactsSQL = pgLoadContacts
	PGApplyUpdatesSQL = pgApplyUpdates
	PGUpdateTableSQL  = pgUpdateTable
)
