// Package demo loads the demo business "Café Sonnenschein": an owner, a
// staff member and every area's demo rows, made by the same rules the
// areas' real code follows. It sits outside the core because it touches
// every domain.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/models/profiles"
)

// OwnerEmail and StaffEmail are the demo business's logins.
const (
	OwnerEmail = "owner@demo.optline.invalid"
	StaffEmail = "staff@demo.optline.invalid"
)

// Credentials are the generated demo logins, shown once.
type Credentials struct {
	OwnerEmail, StaffEmail, Password string
	Loaded                           bool
}

// seeders add each area's demo rows, in this order (imports name contacts
// the contact seeder made). A new area appends its seeder here.
var seeders = []struct {
	area string
	seed func(ctx context.Context, db *models.DB, tx *gorm.DB, biz *models.Business, owner *models.User) error
}{
	{"contacts", contacts.SeedDemo},
	{"imports", imports.SeedDemo},
	{"profile", profiles.SeedDemo},
}

// LoadDemo creates the demo business "Café Sonnenschein" with an owner, a
// staff member and every area's demo data, once. The password is random
// and returned so the caller can show it; running it again does nothing.
func Load(ctx context.Context, db *models.DB) (Credentials, error) {
	creds := Credentials{OwnerEmail: OwnerEmail, StaffEmail: StaffEmail}
	if _, err := db.UserByEmail(ctx, OwnerEmail); err == nil {
		return creds, nil
	} else if !errors.Is(err, models.ErrNotFound) {
		return creds, err
	}
	creds.Password = models.NewToken()[:16]
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		owner, err := db.NewUserTx(tx, models.NewUserInput{Name: "Lena Sommer", Email: OwnerEmail, Password: creds.Password, Locale: "de"}, false)
		if err != nil {
			return err
		}
		staff, err := db.NewUserTx(tx, models.NewUserInput{Name: "Jonas Weber", Email: StaffEmail, Password: creds.Password, Locale: "en"}, false)
		if err != nil {
			return err
		}
		created := db.Now().Add(-90 * 24 * time.Hour)
		biz := &models.Business{Name: "Café Sonnenschein", Status: models.BusinessActive, VerificationState: models.VerificationUnverified, CreatedAt: created, UpdatedAt: created}
		if err := tx.Create(biz).Error; err != nil {
			return err
		}
		for _, m := range []models.Membership{{BusinessID: biz.ID, UserID: owner.ID, Role: models.RoleOwner, CreatedAt: created}, {BusinessID: biz.ID, UserID: staff.ID, Role: models.RoleStaff, CreatedAt: created.Add(48 * time.Hour)}} {
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
		}
		if err := models.WriteAudit(tx, db.Now(), models.AuditEntry{ActorEmail: "system", BusinessID: biz.ID, Action: "demo.loaded", TargetType: "business", TargetID: strconv.FormatInt(biz.ID, 10)}); err != nil {
			return err
		}
		for _, s := range seeders {
			if err := s.seed(ctx, db, tx, biz, owner); err != nil {
				return fmt.Errorf("demo %s: %w", s.area, err)
			}
		}
		return nil
	})
	contacts.ForgetTags(db) // the demo book's tags
	creds.Loaded = err == nil
	return creds, err
}
