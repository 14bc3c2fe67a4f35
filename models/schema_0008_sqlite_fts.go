package models

import (
	"fmt"

	"gorm.io/gorm"
)

// Schema 8: a word index for the contact search on SQLite.
//
// SQLite compared every contact's search text with LIKE: a name search in
// a book of 50,000 contacts read the whole book (82 ms), and 50 clients
// searching at once queued for seconds. contacts_fts is an FTS5 index of
// the same text (searchText, already folded in Go) with the contact's
// business as a second column, so a search is a walk of the index in the
// list's order (sqliteSearch in contact_list.go).
//
//   - The tokenizer splits at white space only: letters, digits, marks,
//     punctuation and symbols are all token characters, so a token is
//     exactly a word of the search text ("anna.berg@example.com",
//     "o'brien", "49151…") and a word-prefix query means what the LIKE
//     "% word%" did. Case and accents are already folded (foldSearch);
//     remove_diacritics 0 keeps FTS5 from folding differently.
//   - prefix '1 2' keeps one- and two-letter prefixes ("m", "sc") to one
//     doclist each, so they are read lazily in rowid order instead of
//     merged from every word they start.
//   - It is an external-content table over contacts (no second copy of
//     the text); triggers keep it in sync with every write path (the
//     import's upsert, edits, erasure), and an update that leaves the
//     search text as it was (consent, tags, attributes) does not touch it.
//
// PostgreSQL keeps its GIN index (schema 3); there this migration does
// nothing.
func init() {
	register(migration{Version: 8, Name: "contacts: FTS5 word index for search on SQLite", Func: sqliteContactsFTS})
}

// sqliteFTSStatements builds the index and its triggers. Trigger bodies
// hold semicolons, so they run one by one here instead of through
// splitSQL.
var sqliteFTSStatements = []string{
	`CREATE VIRTUAL TABLE contacts_fts USING fts5(search, business_id,
		content='contacts', content_rowid='id', prefix='1 2',
		tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co M* P* S*'")`,
	`CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
		INSERT INTO contacts_fts (rowid, search, business_id) VALUES (new.id, new.search, new.business_id);
	END`,
	`CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
		INSERT INTO contacts_fts (contacts_fts, rowid, search, business_id) VALUES ('delete', old.id, old.search, old.business_id);
	END`,
	`CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search, business_id ON contacts
	WHEN old.search IS NOT new.search OR old.business_id IS NOT new.business_id BEGIN
		INSERT INTO contacts_fts (contacts_fts, rowid, search, business_id) VALUES ('delete', old.id, old.search, old.business_id);
		INSERT INTO contacts_fts (rowid, search, business_id) VALUES (new.id, new.search, new.business_id);
	END`,
	// Index the contacts already stored.
	`INSERT INTO contacts_fts (contacts_fts) VALUES ('rebuild')`,
}

func sqliteContactsFTS(tx *gorm.DB, d Dialect) error {
	if d != SQLite {
		return nil
	}
	for _, stmt := range sqliteFTSStatements {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("%s: %w", firstWords(stmt, 4), err)
		}
	}
	return nil
}
