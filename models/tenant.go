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
	// tx, when set, is the transaction every query of this tenant runs in
	// (see Tenant.Tx).
	tx *gorm.DB
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
// table must have a business_id column. In a tenant from Tenant.Tx the
// query runs in that transaction.
func (t Tenant) Scoped(ctx context.Context) *gorm.DB {
	if t.businessID <= 0 || t.db == nil {
		// A zero Tenant is a programming error; fail the query loudly.
		g := t.dbOrPanic().WithContext(ctx)
		_ = g.AddError(ErrNoTenant)
		return g
	}
	return t.Gorm(ctx).Where("business_id = ?", t.businessID)
}

// Gorm is an unscoped handle for queries that add the business condition
// themselves (joins, tables reached through a scoped parent); inside
// Tenant.Tx it is the transaction.
func (t Tenant) Gorm(ctx context.Context) *gorm.DB {
	if t.tx != nil {
		return t.tx.WithContext(ctx)
	}
	return t.dbOrPanic().WithContext(ctx)
}

// Tx runs fn in one transaction with a tenant bound to it: everything fn
// does through that tenant, in any domain package, commits or rolls back
// together, and stays scoped to this business. Inside a transaction it
// joins the outer one.
func (t Tenant) Tx(ctx context.Context, fn func(tx Tenant) error) error {
	if t.tx != nil {
		return fn(t)
	}
	return t.dbOrPanic().Tx(ctx, func(tx *gorm.DB) error {
		bound := t
		bound.tx = tx
		return fn(bound)
	})
}

// InTx reports whether the tenant is bound to a transaction, and which.
func (t Tenant) InTx() (*gorm.DB, bool) { return t.tx, t.tx != nil }

// WithTx binds the tenant to a transaction begun elsewhere (a whole-platform
// operation that also writes one business's rows).
func (t Tenant) WithTx(tx *gorm.DB) Tenant {
	t.tx = tx
	return t
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
	return Wrap("Tenant.First", err)
}

// Business loads the tenant's own business row.
func (t Tenant) Business(ctx context.Context) (*Business, error) {
	return t.db.BusinessByID(ctx, t.businessID)
}

// Check fails for a zero Tenant, so raw SQL never runs unscoped.
func (t Tenant) Check() error {
	if t.db == nil || t.businessID <= 0 {
		return ErrNoTenant
	}
	return nil
}
