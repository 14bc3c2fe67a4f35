package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Schema 10: a word index for the contact search on SQLite.
//
// SQLite compared every contact's search text with LIKE: a name search in
// a book of 50,000 contacts that cannot fill its page from the newest
// rows read the whole book (82 ms), and 50 clients searching at once
// queued for seconds. contacts_fts is an FTS5 index of the same text
// (searchText, already folded in Go), walked in the list's order
// (sqliteSearch in contact_list.go).
//
//   - Each word is stored with its business in front, ten digits wide
//     ("0000000017:gross" for "gross" in business 17), so a search is one
//     prefix lookup per word, already scoped to the business: no second
//     condition for FTS5 to intersect (an AND with the business's own
//     list of 50,000 rows cost more than the words' lookups), and another
//     business's contacts are never read. Terms never hold ':'
//     (searchTerms), so no query reaches another business's words.
//   - prefix '12 13' (the business's 11 characters and one or two more)
//     keeps a one- or two-letter search ("m", "sc") to one list read
//     lazily in the list's order; without it FTS5 merges the lists of
//     every word with that start first (9.7 instead of 0.1–0.2 ms for "m"
//     at 50,000 contacts).
//   - The tokenizer splits at white space only: letters, digits, marks,
//     punctuation and symbols are token characters, so a token is exactly
//     a word of the search text ("anna.berg@example.com", "o'brien",
//     "49151…") and a prefix query means what the LIKE "% word%" did. Case
//     and accents are already folded (FoldSearch); remove_diacritics 0
//     keeps FTS5 from folding differently.
//   - It is contentless (the text stays in contacts only), with
//     contentless_delete so rows can be removed by id. Triggers keep it in
//     sync with every write path (the import's upsert, edits, erasure); an
//     update that leaves the search text as it was (consent, tags,
//     attributes) does not touch it. A large import ends with an
//     'optimize' of the index (OptimizeSearchIndex).
//
// PostgreSQL keeps its GIN index (schema 3); there this migration does
// nothing.

// ftsWords is the indexed text of a contact row (new or old): its search
// words, each after its business (FTSBusiness).
const ftsWords = `printf('%%010d:', %[1]s.business_id) || replace(%[1]s.search, ' ', ' ' || printf('%%010d:', %[1]s.business_id))`

// FTSBusiness is what starts every word of the business in contacts_fts.
func FTSBusiness(businessID int64) string { return fmt.Sprintf("%010d:", businessID) }

// sqliteFTSStatements builds the index and its triggers. Trigger bodies
// hold semicolons, so they run one by one here instead of through
// splitSQL.
var sqliteFTSStatements = []string{
	`CREATE VIRTUAL TABLE contacts_fts USING fts5(words, content='', contentless_delete=1, prefix='12 13',
		tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co M* P* S*'")`,
	`CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
		INSERT INTO contacts_fts (rowid, words) VALUES (new.id, ` + fmt.Sprintf(ftsWords, "new") + `);
	END`,
	`CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
		DELETE FROM contacts_fts WHERE rowid = old.id;
	END`,
	`CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search, business_id ON contacts
	WHEN old.search IS NOT new.search OR old.business_id IS NOT new.business_id BEGIN
		DELETE FROM contacts_fts WHERE rowid = old.id;
		INSERT INTO contacts_fts (rowid, words) VALUES (new.id, ` + fmt.Sprintf(ftsWords, "new") + `);
	END`,
	// Index the contacts already stored.
	`INSERT INTO contacts_fts (rowid, words) SELECT c.id, ` + fmt.Sprintf(ftsWords, "c") + ` FROM contacts c`,
	`INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize')`,
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

// OptimizeSearchIndex merges the SQLite search index (contacts_fts) into
// one segment after a large import, which wrote it in many small ones:
// searches then read one list per word (a common prefix 0.24 → 0.07 ms,
// two words 1.9 → 1.1 ms at 50,000 contacts). On PostgreSQL it does
// nothing.
func (db *DB) OptimizeSearchIndex(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	return db.WithContext(ctx).Exec(`INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize')`).Error
}
