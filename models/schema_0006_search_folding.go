package models

import (
	"fmt"

	"gorm.io/gorm"
)

// Schema 6: the contact search text is folded (FoldSearch: no accents, ß
// as ss) and carries the e-mail's domain as a word of its own. The text is
// made in Go, so the stored rows are rewritten here, a page of ids at a
// time; rows whose text is already current are not touched.

func refoldContactSearch(tx *gorm.DB, _ Dialect) error {
	type row struct {
		ID                         int64
		Name, Email, Phone, Search string
	}
	var after int64
	for {
		var page []row
		if err := tx.Raw(`SELECT id, name, email, phone, search FROM contacts WHERE id > ? ORDER BY id LIMIT 2000`, after).
			Scan(&page).Error; err != nil {
			return fmt.Errorf("read contacts after id %d: %w", after, err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			if s := SearchText(r.Name, r.Email, r.Phone); s != r.Search {
				if err := tx.Exec(`UPDATE contacts SET search = ? WHERE id = ?`, s, r.ID).Error; err != nil {
					return fmt.Errorf("refold contact %d: %w", r.ID, err)
				}
			}
		}
		after = page[len(page)-1].ID
	}
}
