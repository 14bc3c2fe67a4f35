package contacts

import (
	"github.com/optline/optline/models"
)

// The import's lookups, for the plan tests in package contacts_test.
const (
	PGLoadContactsSQL = pgLoadContacts
	PGApplyUpdatesSQL = pgApplyUpdates
	PGUpdateTableSQL  = pgUpdateTable
)

// SearchIndexHits counts the contacts of the business whose words in the
// SQLite search index (not the contacts table) start with every term.
func SearchIndexHits(db *models.DB, businessID int64, terms ...string) (int64, error) {
	var n int64
	err := db.Gorm.Raw("SELECT COUNT(*) FROM contacts_fts WHERE contacts_fts MATCH ?", ftsMatch(businessID, terms)).Scan(&n).Error
	return n, err
}
