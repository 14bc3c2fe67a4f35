package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
)

func init() { registerDemo("imports", seedImportDemo) }

// seedImportDemo adds a finished import to the demo business's history:
// a German Excel file with a few rejected rows. Its error report is
// written from the stored rows on demand; the uploaded file itself is
// not kept after an import ends.
func seedImportDemo(_ context.Context, db *DB, tx *gorm.DB, biz *Business, owner *User) error {
	started := db.Now().Add(-6 * 24 * time.Hour).Truncate(time.Minute)
	finished := started.Add(4 * time.Second)
	consentAt := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	headers := []string{"Telefonnummer", "Vorname", "Nachname", "E-Mail-Adresse", "Schlagwörter", "Einwilligung am", "Einwilligungsquelle"}
	mapping := importer.DetectMapping(headers)
	errs := []importer.RowError{
		{Row: 14, Field: importer.FieldPhone, Code: importer.CodePhoneTooShort, Message: `phone "0151 12" is too short for Germany (DE)`,
			Raw: []string{"0151 12", "Jana", "Krüger", "jana.krueger@example.de", "stammkunde", "03.11.2025", "Laden"}},
		{Row: 57, Field: importer.FieldEmail, Code: importer.CodeEmailInvalid, Message: `email "tom.at.example.de" is not a valid e-mail address`,
			Raw: []string{"0170 5550123", "Tom", "Becker", "tom.at.example.de", "", "12.11.2025", "Webformular"}},
		{Row: 103, Field: importer.FieldOptInAt, Code: importer.CodeDateFuture, Message: `opt-in date "24.12.2031" is in the future`,
			Raw: []string{"+49 160 5550199", "Mia", "Schulz", "", "newsletter", "24.12.2031", "Kasse"}},
		{Row: 250, Field: importer.FieldPhone, Code: importer.CodePhoneLetters, Message: `phone "siehe Notiz" contains letters`,
			Raw: []string{"siehe Notiz", "=HYPERLINK(\"http://example.com\",\"Gewinn\")", "", "", "", "", ""}},
	}
	imp := &Import{BusinessID: biz.ID, CreatedByID: &owner.ID, CreatedByName: owner.Name, FileName: "Kundenliste_Laden_2025.csv",
		FileSize: 31_874, FileSHA256: "demo", Status: ImportDone, Format: importer.Format{Encoding: importer.Windows1252, Delimiter: ';'},
		Headers: headers, Mapping: mapping, Policy: DuplicateUpdate,
		Settings:      ImportSettings{Region: "DE", ConsentMode: ConsentFromDeclaration, TimeZone: "Europe/Berlin", BatchSize: importer.DefaultBatchSize},
		ConsentSource: "in_store", ConsentAt: &consentAt, ConsentConfirmedByID: &owner.ID, ConsentConfirmedBy: owner.Name + " <" + owner.Email + ">",
		ConsentConfirmedAt: &started,
		RowsTotal:          412, RowsDone: 412, Imported: 371, Updated: 12, Skipped: 0, Suppressed: 3, Failed: int64(len(errs)), Duplicates: 17, Blank: 5,
		BytesDone: 31_874, BytesTotal: 31_874, CreatedAt: started.Add(-2 * time.Minute), UpdatedAt: finished,
		QueuedAt: &started, StartedAt: &started, ProgressAt: &finished, FinishedAt: &finished}
	if err := tx.Create(imp).Error; err != nil {
		return err
	}
	// The owner's consent declaration is logged as the real confirmation
	// (QueueImport) logs it.
	if err := writeAudit(tx, started, AuditEntry{ActorID: owner.ID, ActorEmail: owner.Email, BusinessID: biz.ID, Action: "import.queued",
		TargetType: "import", TargetID: itoa(imp.ID),
		Detail: fmt.Sprintf("consent: %s (%s, %s, confirmed)", ConsentFromDeclaration, imp.ConsentSource, consentAt.Format("2006-01-02"))}); err != nil {
		return err
	}
	t := Tenant{db: db, businessID: biz.ID}
	return t.insertRowErrors(tx, imp.ID, errs)
}
