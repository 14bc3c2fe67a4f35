package models_test

import (
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// ctTenant creates a business and returns its scope.
func ctTenant(t testing.TB, db *models.DB, name string) models.Tenant {
	t.Helper()
	now := db.Now()
	b := &models.Business{Name: name, Status: models.BusinessActive, VerificationState: models.VerificationUnverified, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(b).Error; err != nil {
		t.Fatalf("create business: %v", err)
	}
	tn, err := db.Tenant(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// ctDB opens a fresh test database with a clock the test moves.
func ctDB(t testing.TB) (*models.DB, *dbtest.Clock) {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	return db, clock
}
