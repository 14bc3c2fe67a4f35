package models

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"gorm.io/gorm"
)

// DemoOwnerEmail and DemoStaffEmail are the demo business's logins.
const (
	DemoOwnerEmail = "owner@demo.optline.invalid"
	DemoStaffEmail = "staff@demo.optline.invalid"
)

// DemoCredentials are the generated demo logins, shown once.
type DemoCredentials struct {
	OwnerEmail, StaffEmail, Password string
	Loaded                           bool
}

// A demo seeder adds one area's demo rows (contacts, campaigns…) to the
// demo business. Areas register theirs from init, ordered by name.
type demoSeeder struct {
	name string
	fn   func(ctx context.Context, db *DB, tx *gorm.DB, biz *Business, owner *User) error
}

var (
	demoMu      sync.Mutex
	demoSeeders []demoSeeder
)

func registerDemo(name string, fn func(ctx context.Context, db *DB, tx *gorm.DB, biz *Business, owner *User) error) {
	demoMu.Lock()
	defer demoMu.Unlock()
	demoSeeders = append(demoSeeders, demoSeeder{name, fn})
	sort.Slice(demoSeeders, func(i, j int) bool { return demoSeeders[i].name < demoSeeders[j].name })
}

// LoadDemo creates the demo business "Café Sonnenschein" with an owner, a
// staff member and every area's demo data, once. The password is random
// and returned so the caller can show it; running it again does nothing.
func LoadDemo(ctx context.Context, db *DB) (DemoCredentials, error) {
	creds := DemoCredentials{OwnerEmail: DemoOwnerEmail, StaffEmail: DemoStaffEmail}
	defer db.tags.reset() // the demo book's tags
	if _, err := db.UserByEmail(ctx, DemoOwnerEmail); err == nil {
		return creds, nil
	} else if !errors.Is(err, ErrNotFound) {
		return creds, err
	}
	creds.Password = NewToken()[:16]
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		owner, err := db.newUser(tx, NewUserInput{Name: "Lena Sommer", Email: DemoOwnerEmail, Password: creds.Password, Locale: "de"}, false)
		if err != nil {
			return err
		}
		staff, err := db.newUser(tx, NewUserInput{Name: "Jonas Weber", Email: DemoStaffEmail, Password: creds.Password, Locale: "en"}, false)
		if err != nil {
			return err
		}
		created := db.Now().Add(-90 * 24 * time.Hour)
		biz := &Business{Name: "Café Sonnenschein", Status: BusinessActive, VerificationState: VerificationUnverified, CreatedAt: created, UpdatedAt: created}
		if err := tx.Create(biz).Error; err != nil {
			return err
		}
		for _, m := range []Membership{{BusinessID: biz.ID, UserID: owner.ID, Role: RoleOwner, CreatedAt: created}, {BusinessID: biz.ID, UserID: staff.ID, Role: RoleStaff, CreatedAt: created.Add(48 * time.Hour)}} {
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
		}
		if err := writeAudit(tx, db.Now(), AuditEntry{ActorEmail: "system", BusinessID: biz.ID, Action: "demo.loaded", TargetType: "business", TargetID: itoa(biz.ID)}); err != nil {
			return err
		}
		demoMu.Lock()
		seeders := append([]demoSeeder(nil), demoSeeders...)
		demoMu.Unlock()
		for _, s := range seeders {
			if err := s.fn(ctx, db, tx, biz, owner); err != nil {
				return errors.Join(errors.New("demo "+s.name), err)
			}
		}
		return nil
	})
	creds.Loaded = err == nil
	return creds, err
}
