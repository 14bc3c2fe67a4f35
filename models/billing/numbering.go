package billing

import (
	"fmt"

	"gorm.io/gorm"
)

// Numbering: one gapless series per kind and calendar year (UTC) of the
// issue date: invoices 2026-000001, 2026-000002, …; credit notes
// CN-2026-000001, …. The number is taken inside the issuing transaction
// by incrementing the series row: the row lock (PostgreSQL; SQLite
// serialises write transactions) makes concurrent issues wait for each
// other, and a transaction that fails rolls its number back, so numbers
// are never skipped or repeated. Drafts have no number.

func seriesOf(kind string) string {
	if kind == KindCreditNote {
		return "CN"
	}
	return "INV"
}

// FormatNumber is the printed number of seq in kind's series of year.
func FormatNumber(kind string, year int, seq int64) string {
	if kind == KindCreditNote {
		return fmt.Sprintf("CN-%04d-%06d", year, seq)
	}
	return fmt.Sprintf("%04d-%06d", year, seq)
}

// nextNumber takes the next number of kind's series for year inside tx.
func nextNumber(tx *gorm.DB, kind string, year int) (int64, error) {
	if err := tx.Exec(`INSERT INTO invoice_series (kind, year, last_number) VALUES (?, ?, 0) ON CONFLICT (kind, year) DO NOTHING`, kind, year).Error; err != nil {
		return 0, err
	}
	var seq int64
	err := tx.Raw(`UPDATE invoice_series SET last_number = last_number + 1 WHERE kind = ? AND year = ? RETURNING last_number`, kind, year).Scan(&seq).Error
	if err == nil && seq == 0 {
		err = fmt.Errorf("invoice series %s/%d: no row", kind, year)
	}
	return seq, err
}
