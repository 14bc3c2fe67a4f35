package models

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// Tenant is the one door to business-scoped data. Every query for a
// business's rows starts from Tenant.Scoped, which adds the business_id
// condition, so isolation holds by construction. A Tenant cannot be made
// for business 0: GORM drops zero values from struct conditions, and an
// unscoped query must never happen by accident.
type Tenant struct {
	db         *DB
	businessID int64
}

// Tenant returns the scope for businessID, or ErrNoTenant for id <= 0.
func (db *DB) Tenant(businessID int64) (Tenant, error) {
	if businessID <= 0 {
		return Tenant{}, ErrNoTenant
	}
	return Tenant{db: db, businessID: businessID}, nil
}

// BusinessID is the scoped business.
func (t Tenant) BusinessID() int64 { return t.businessID }

// DB is the database behind the tenant (for engines that need raw access
// and add the scope themselves).
func (t Tenant) DB() *DB { return t.db }

// Scoped starts a query on table (or model) limited to this business. The
// table must have a business_id column.
func (t Tenant) Scoped(ctx context.Context) *gorm.DB {
	if t.businessID <= 0 || t.db == nil {
		// A zero Tenant is a programming error; fail the query loudly.
		g := t.dbOrPanic().WithContext(ctx)
		_ = g.AddError(ErrNoTenant)
		return g
	}
	return t.db.WithContext(ctx).Where("business_id = ?", t.businessID)
}

// ScopedTx is Scoped inside a transaction.
func (t Tenant) ScopedTx(tx *gorm.DB) *gorm.DB {
	if t.businessID <= 0 {
		_ = tx.AddError(ErrNoTenant)
		return tx
	}
	return tx.Where("business_id = ?", t.businessID)
}

func (t Tenant) dbOrPanic() *DB {
	if t.db == nil {
		panic(ErrNoTenant)
	}
	return t.db
}

// First loads one row of this business into dest by primary key, mapping
// a missing row (or another business's row) to ErrNotFound.
func (t Tenant) First(ctx context.Context, dest any, id int64) error {
	err := t.Scoped(ctx).First(dest, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// Business loads the tenant's own business row.
func (t Tenant) Business(ctx context.Context) (*Business, error) {
	return t.db.BusinessByID(ctx, t.businessID)
}
