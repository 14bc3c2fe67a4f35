package templates

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
)

// SeedDemo gives the demo business an approved marketing template (with
// the opt-out button) and a utility draft, checked by the same rules.
func SeedDemo(_ context.Context, db *models.DB, tx *gorm.DB, biz *models.Business, owner *models.User) error {
	now := db.Now()
	approved := now.Add(-20 * 24 * time.Hour)
	for _, d := range []struct {
		in     Input
		status string
		at     *time.Time
	}{
		{Input{Name: "weekend_offer", Language: "de", Category: channel.CategoryMarketing, Header: "Wochenende bei {{1}}", HeaderSample: "Café Sonnenschein",
			Body: "Hallo {{1}}, am Samstag gibt es jedes zweite Stück Kuchen für {{2}}. Wir freuen uns auf dich!", BodySamples: []string{"Mia", "1 €"},
			Footer: "Café Sonnenschein", Buttons: []channel.Button{{Type: channel.ButtonQuickReply, Text: OptOutText}}}, StateApproved, &approved},
		{Input{Name: "order_ready", Language: "en", Category: channel.CategoryUtility,
			Body: "Hi {{1}}, your order {{2}} is ready for pick-up.", BodySamples: []string{"Alex", "#1042"},
			Buttons: []channel.Button{{Type: channel.ButtonPhone, Text: "Call the café", Phone: "+49301234567"}}}, StateDraft, nil},
	} {
		if err := Check(d.in); err != nil {
			return err
		}
		in := d.in.normalize()
		f := fieldsOf(in)
		t := Template{BusinessID: biz.ID, Name: in.Name, Language: in.Language, Category: in.Category, Header: in.Header,
			HeaderSample: in.HeaderSample, Body: in.Body, BodySamplesJSON: f["body_samples"].(string), Footer: in.Footer,
			ButtonsJSON: f["buttons"].(string), Status: d.status, Quality: QualityUnknown, CreatedByID: &owner.ID,
			SubmittedAt: d.at, StatusAt: d.at, CreatedAt: now, UpdatedAt: now}
		if d.status == StateApproved {
			t.Quality = QualityGreen
		}
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
	}
	return nil
}
