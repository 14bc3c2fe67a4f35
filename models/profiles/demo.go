package profiles

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// SeedDemo gives the demo business a complete profile, an earlier
// refused badge request and a pending resubmission, so the
// administrators' queue has something to review.
func SeedDemo(ctx context.Context, db *models.DB, tx *gorm.DB, biz *models.Business, owner *models.User) error {
	now := db.Now()
	p := newProfile(biz.ID, biz.CreatedAt)
	p.About = "Frisch gebacken, jeden Morgen ab 7 Uhr."
	p.Description = "Café und Bäckerei in Neukölln: Frühstück, Kuchen nach Omas Rezepten und Kaffee aus der Rösterei um die Ecke."
	p.Vertical = "RESTAURANT"
	p.Address = "Sonnenallee 12\n12045 Berlin"
	p.Email = "hallo@cafe-sonnenschein.example"
	p.Website1 = "https://cafe-sonnenschein.example"
	p.PhoneE164 = "+4930901820"
	p.LegalName = "Sonnenschein Gastro GmbH"
	p.RegisteredAddress = "Sonnenallee 12\n12045 Berlin"
	p.Country = "DE"
	p.VATID = "DE123456789"
	p.BillingEmail = "buchhaltung@cafe-sonnenschein.example"
	p.TimeZone = "Europe/Berlin"
	p.Currency = "EUR"
	p.UpdatedAt = now
	if err := tx.Create(p).Error; err != nil {
		return models.Wrap("profiles.SeedDemo", err)
	}
	links := strings.Join([]string{
		"https://www.tagesspiegel.example/neukoelln/cafe-sonnenschein",
		"https://www.yelp.example/biz/cafe-sonnenschein-berlin",
		"https://www.google.example/maps/place/cafe-sonnenschein",
		"https://www.berlin-food-guide.example/sonnenschein",
		"https://www.instagram.example/cafesonnenschein",
	}, "\n")
	submitted := now.Add(-40 * 24 * time.Hour)
	decided := submitted.Add(3 * 24 * time.Hour)
	refile := decided.Add(RefileWait)
	first := &VerificationRequest{BusinessID: biz.ID, Kind: KindFirst, State: RequestRejected, Revision: 1,
		DisplayName: biz.Name, LegalName: "Sonnenschein Gastro", RegistrationNumber: "HRB 12345", Website: p.Website1,
		Country: "DE", Links: strings.Join(strings.Split(links, "\n")[:4], "\n") + "\nhttps://www.facebook.example/cafesonnenschein",
		SubmittedByID: &owner.ID, SubmittedByEmail: owner.Email, SubmittedAt: submitted, UpdatedAt: decided,
		DecidedAt: &decided, DecidedByEmail: "review@optline.invalid",
		Reason:      "The legal name does not match the trade register (it lists “Sonnenschein Gastro GmbH”) and the register number is incomplete (court missing).",
		RefileAfter: &refile}
	again := now.Add(-2 * 24 * time.Hour)
	second := &VerificationRequest{BusinessID: biz.ID, Kind: KindResubmission, State: RequestPending, Revision: 1,
		DisplayName: biz.Name, LegalName: p.LegalName, RegistrationNumber: "HRB 12345 B (Amtsgericht Charlottenburg)", Website: p.Website1,
		Country: "DE", Links: links, FurtherInfo: "Family-run since 1998; two shops in Berlin.",
		SubmittedByID: &owner.ID, SubmittedByEmail: owner.Email, SubmittedAt: again, UpdatedAt: again}
	for _, r := range []*VerificationRequest{first, second} {
		if err := tx.Create(r).Error; err != nil {
			return models.Wrap("profiles.SeedDemo", err)
		}
	}
	if err := tx.Model(&models.Business{}).Where("id = ?", biz.ID).Update("verification_state", models.VerificationPending).Error; err != nil {
		return models.Wrap("profiles.SeedDemo", err)
	}
	biz.VerificationState = models.VerificationPending
	for _, e := range []struct {
		at time.Time
		a  models.AuditEntry
	}{
		{submitted, models.AuditEntry{ActorID: owner.ID, ActorEmail: owner.Email, BusinessID: biz.ID, Action: "verification.requested", TargetType: "verification_request", TargetID: strconv.FormatInt(first.ID, 10), Previous: models.VerificationUnverified}},
		{decided, models.AuditEntry{ActorEmail: "review@optline.invalid", BusinessID: biz.ID, Action: "verification.rejected", TargetType: "verification_request", TargetID: strconv.FormatInt(first.ID, 10), Detail: first.Reason, Previous: "request pending, business pending"}},
		{again, models.AuditEntry{ActorID: owner.ID, ActorEmail: owner.Email, BusinessID: biz.ID, Action: "verification.requested", TargetType: "verification_request", TargetID: strconv.FormatInt(second.ID, 10), Previous: models.VerificationRejected}},
	} {
		if err := models.WriteAudit(tx, e.at, e.a); err != nil {
			return models.Wrap("profiles.SeedDemo", err)
		}
	}
	return nil
}
