package models_test

import (
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// ctTenant creates a business and returns its scope.
func ctTenant(t testing.TB, db *models.DB, name string) models.Tenant {
	return dbtest.Business(t, db, name)
}

// ctDB opens a fresh test database with a clock the test moves.
func ctDB(t testing.TB) (*models.DB, *dbtest.Clock) { return dbtest.OpenClocked(t) }
