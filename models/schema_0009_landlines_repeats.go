package models

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
)

// Schema 9: likely landlines and the numbers an import found repeated.
//
//   - contacts.landline: the number probably cannot take chat-app messages
//     (importer.LikelyLandline: a fixed line or a service number). Set by
//     imports and by contacts added by hand; the stored contacts are judged
//     here, a page of ids at a time.
//   - contacts.import_row: the file row the import named in import_id last
//     wrote the contact from, so a later batch that meets the number again
//     can say which row it repeats.
//   - imports.landlines: how many of the contacts a finished import wrote
//     look like landlines (NULL for imports finished before this version).
//   - import_repeats: one row per file row that repeated a number, with the
//     row that number was first seen on, keyed like import_row_errors; by
//     business and number too, so erasing a contact erases it here.
//
// flagStoredLandlines then judges the contacts already stored.
const schema0009 = `
ALTER TABLE contacts ADD COLUMN landline {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN import_row {{bigint}};
ALTER TABLE imports ADD COLUMN landlines {{bigint}};
CREATE TABLE import_repeats (
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	import_id {{bigint}} NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	row_num {{bigint}} NOT NULL,
	first_row {{bigint}} NOT NULL,
	phone TEXT NOT NULL,
	PRIMARY KEY (import_id, row_num)
);
CREATE INDEX import_repeats_phone_idx ON import_repeats (business_id, phone);
`

func flagStoredLandlines(tx *gorm.DB, _ Dialect) error {
	type row struct {
		ID    int64
		Phone string
	}
	var after int64
	for {
		var page []row
		if err := tx.Raw(`SELECT id, phone FROM contacts WHERE id > ? ORDER BY id LIMIT 5000`, after).Scan(&page).Error; err != nil {
			return fmt.Errorf("read contacts after id %d: %w", after, err)
		}
		if len(page) == 0 {
			return nil
		}
		var ids []int64
		for _, r := range page {
			if importer.LikelyLandline(r.Phone) {
				ids = append(ids, r.ID)
			}
		}
		for start := 0; start < len(ids); start += 500 {
			if err := tx.Exec(`UPDATE contacts SET landline = TRUE WHERE id IN ?`, ids[start:min(start+500, len(ids))]).Error; err != nil {
				return fmt.Errorf("flag landlines: %w", err)
			}
		}
		after = page[len(page)-1].ID
	}
}
