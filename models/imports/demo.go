package imports

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// demoImported and demoUpdated are the demo people (indexes into
// demoPeople) that the demo import added and updated: the import's counts
// and its "contacts of this import" link show exactly them, as the real
// import would have left the book.
var (
	demoImported = []int{48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}
	demoUpdated  = []int{2, 3}
)

// SeedDemo adds a finished import to the demo business's history:
// a German Excel file with a few rejected rows, a repeated number and a
// blank row, which added and updated some of the demo contacts (seeded
// before it: the demo loader runs the contact seeder first). Its error report is written from
// the stored rows on demand; the uploaded file itself is not kept after an
// import ends.
func SeedDemo(_ context.Context, db *models.DB, tx *gorm.DB, biz *models.Business, owner *models.User) error {
	started := db.Now().Add(-6 * 24 * time.Hour).Truncate(time.Minute)
	finished := started.Add(4 * time.Second)
	consentAt := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	headers := []string{"Telefonnummer", "Vorname", "Nachname", "E-Mail-Adresse", "Schlagwörter", "Einwilligung am", "Einwilligungsquelle"}
	mapping := importer.DetectMapping(headers)
	errs := []importer.RowError{
		{Row: 4, Field: importer.FieldPhone, Code: importer.CodePhoneTooShort, Message: `phone "0151 12" is too short for Germany (DE)`,
			Raw: []string{"0151 12", "Jana", "Krüger", "jana.krueger@example.de", "stammkunde", "03.11.2025", "Laden"}},
		{Row: 9, Field: importer.FieldEmail, Code: importer.CodeEmailInvalid, Message: `email "tom.at.example.de" is not a valid e-mail address`,
			Raw: []string{"0170 5550123", "Tom", "Becker", "tom.at.example.de", "", "12.11.2025", "Webformular"}},
		{Row: 13, Field: importer.FieldOptInAt, Code: importer.CodeDateFuture, Message: `opt-in date "24.12.2031" is in the future`,
			Raw: []string{"+49 160 5550199", "Mia", "Schulz", "", "newsletter", "24.12.2031", "Kasse"}},
		{Row: 17, Field: importer.FieldPhone, Code: importer.CodePhoneLetters, Message: `phone "siehe Notiz" contains letters`,
			Raw: []string{"siehe Notiz", "=HYPERLINK(\"http://example.com\",\"Gewinn\")", "", "", "", "", ""}},
	}
	imp := &Import{BusinessID: biz.ID, CreatedByID: &owner.ID, CreatedByName: owner.Name, FileName: "Kundenliste_Laden_2025.csv",
		FileSize: 1_482, FileSHA256: "demo", Status: ImportDone, Format: importer.Format{Encoding: importer.Windows1252, Delimiter: ';'},
		Headers: headers, Mapping: mapping, Policy: contacts.DuplicateUpdate,
		Settings:      ImportSettings{Region: "DE", ConsentMode: ConsentFromDeclaration, TimeZone: "Europe/Berlin", BatchSize: importer.DefaultBatchSize},
		ConsentSource: "in_store", ConsentAt: &consentAt, ConsentConfirmedByID: &owner.ID, ConsentConfirmedBy: owner.Name + " <" + owner.Email + ">",
		ConsentConfirmedAt: &started,
		Imported:           int64(len(demoImported)), Updated: int64(len(demoUpdated)), Failed: int64(len(errs)), Duplicates: 2, Blank: 1,
		BytesDone: 1_482, BytesTotal: 1_482, CreatedAt: started.Add(-2 * time.Minute), UpdatedAt: finished,
		QueuedAt: &started, StartedAt: &started, ProgressAt: &finished, FinishedAt: &finished}
	imp.RowsTotal = imp.Imported + imp.Updated + imp.Failed + imp.Duplicates + imp.Blank
	imp.RowsDone = imp.RowsTotal
	if err := tx.Create(imp).Error; err != nil {
		return models.Wrap("imports.SeedDemo", err)
	}
	if err := markDemoImported(tx, biz, imp, consentAt, finished); err != nil {
		return models.Wrap("imports.SeedDemo", err)
	}
	// The owner's consent declaration is logged as the real confirmation
	// (QueueImport) logs it.
	if err := models.WriteAudit(tx, started, models.AuditEntry{ActorID: owner.ID, ActorEmail: owner.Email, BusinessID: biz.ID, Action: "import.queued",
		TargetType: "import", TargetID: models.Itoa(imp.ID),
		Detail: fmt.Sprintf("consent: %s (%s, %s, confirmed)", ConsentFromDeclaration, imp.ConsentSource, consentAt.Format("2006-01-02"))}); err != nil {
		return models.Wrap("imports.SeedDemo", err)
	}
	t, err := db.Tenant(biz.ID)
	if err != nil {
		return models.Wrap("imports.SeedDemo", err)
	}
	return insertRowErrors(t.WithTx(tx), tx, imp.ID, errs)
}

// markDemoImported makes the demo contacts of the import look as the
// import writes them: import_id set, the new ones created at the import
// with the declared consent (in store, the declared day, recorded by the
// import), and the messageable count FinishImport stores.
func markDemoImported(tx *gorm.DB, biz *models.Business, imp *Import, consentAt, at time.Time) error {
	book := contacts.DemoPhones()
	phones := func(idx []int) []string {
		out := make([]string, len(idx))
		for i, j := range idx {
			out[i] = book[j]
		}
		return out
	}
	added, updated := phones(demoImported), phones(demoUpdated)
	if err := tx.Exec(`UPDATE contacts SET import_id = ?, created_at = ?, updated_at = ?, opted_in_at = ?, opt_in_source = ?
		WHERE business_id = ? AND phone IN ?`, imp.ID, at, at, consentAt, imp.ConsentSource, biz.ID, added).Error; err != nil {
		return fmt.Errorf("demo import contacts: %w", err)
	}
	if err := tx.Exec(`UPDATE consent_events SET at = ?, source = ?, wording = '', recorded_by = ?, created_at = ?
		WHERE business_id = ? AND contact_id IN (SELECT id FROM contacts WHERE business_id = ? AND phone IN ?)`,
		consentAt, imp.ConsentSource, "import:"+models.Itoa(imp.ID), at, biz.ID, biz.ID, added).Error; err != nil {
		return fmt.Errorf("demo import consent: %w", err)
	}
	if err := tx.Exec(`UPDATE contacts SET import_id = ?, updated_at = ? WHERE business_id = ? AND phone IN ?`,
		imp.ID, at, biz.ID, updated).Error; err != nil {
		return fmt.Errorf("demo import updates: %w", err)
	}
	return tx.Exec(`UPDATE imports SET messageable = `+messageableOfImport+`, landlines = `+landlinesOfImport+` WHERE id = ?`,
		biz.ID, imp.ID, contacts.ConsentOptedIn, biz.ID, imp.ID, imp.ID).Error
}
