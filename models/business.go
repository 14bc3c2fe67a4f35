package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
)

// Business is one tenant: a company that messages its customers.
type Business struct {
	ID                int64
	Name              string
	Status            string // active | suspended
	SuspendedAt       *time.Time
	SuspendedReason   string
	VerificationState string // unverified | pending | verified | rejected
	// PhoneNumberID and WABAID are the business's sender on the messaging
	// platform (schema 12), set by administrators; "" until then.
	PhoneNumberID string
	WABAID        string `gorm:"column:waba_id"`
	// MessagingTier is how many unique recipients the business may reach
	// in a moving 24 hours outside a customer-service window (schema 17;
	// Tiers lists the steps, 0 is unlimited), set by administrators.
	MessagingTier int
	// MonthlyLimit is the owner's spending limit per calendar month in
	// the rate card's currency; nil is none.
	MonthlyLimit decimal.NullDecimal
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Business statuses and verification states.
const (
	BusinessActive    = "active"
	BusinessSuspended = "suspended"

	VerificationUnverified = "unverified"
	VerificationPending    = "pending"
	VerificationVerified   = "verified"
	VerificationRejected   = "rejected"
)

// Tiers are the platform's messaging tiers in order (PRODUCT.md
// "Sending"); TierUnlimited is the last.
var Tiers = []int{250, 2000, 10000, 100000, TierUnlimited}

// TierUnlimited is the tier without a limit.
const TierUnlimited = 0

// Verified reports whether the business carries the verified badge.
func (b *Business) Verified() bool { return b.VerificationState == VerificationVerified }

// Suspended reports whether administrators suspended the business.
func (b *Business) Suspended() bool { return b.Status == BusinessSuspended }

// Itoa is an id as text (audit targets, keys).
func Itoa(id int64) string { return strconv.FormatInt(id, 10) }

// SignUpInput is the self-registration form.
type SignUpInput struct {
	BusinessName string
	NewUserInput
}

// SignUp registers a business and its owner in one transaction.
func (db *DB) SignUp(ctx context.Context, in SignUpInput) (*User, *Business, error) {
	v := &ValidationError{}
	v.Merge(CheckName("business_name", in.BusinessName, 120))
	in.validate(v)
	if err := v.Err(); err != nil {
		return nil, nil, Wrap("DB.SignUp", err)
	}
	var u *User
	var b *Business
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = db.NewUserTx(tx, in.NewUserInput, false); err != nil {
			return err
		}
		now := db.Now()
		b = &Business{Name: strings.TrimSpace(in.BusinessName), Status: BusinessActive, VerificationState: VerificationUnverified, MessagingTier: Tiers[0], CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(b).Error; err != nil {
			return err
		}
		if err := tx.Create(&Membership{BusinessID: b.ID, UserID: u.ID, Role: RoleOwner, CreatedAt: now}).Error; err != nil {
			return err
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: u.ID, ActorEmail: u.Email, BusinessID: b.ID, Action: "business.signed_up", TargetType: "business", TargetID: Itoa(b.ID)})
	})
	if err != nil {
		return nil, nil, Wrap("DB.SignUp", err)
	}
	return u, b, nil
}

// BusinessByID loads a business (administrators' view; tenants go through
// Tenant.Business).
func (db *DB) BusinessByID(ctx context.Context, id int64) (*Business, error) {
	var b Business
	err := db.WithContext(ctx).First(&b, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &b, Wrap("DB.BusinessByID", err)
}

// BusinessListItem is one row of the administrators' business list.
type BusinessListItem struct {
	Business
	Members int64
	Owner   string
}

// ListBusinesses returns businesses for administrators, newest first,
// optionally filtered by a name fragment.
func (db *DB) ListBusinesses(ctx context.Context, q string, limit int) ([]BusinessListItem, error) {
	var out []BusinessListItem
	tx := db.WithContext(ctx).Table("businesses b").
		Select("b.*, (SELECT COUNT(*) FROM memberships m WHERE m.business_id = b.id) AS members, " +
			"COALESCE((SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.business_id = b.id AND m.role = 'owner' ORDER BY m.id LIMIT 1), '') AS owner").
		Order("b.id DESC").Limit(limit)
	if q = strings.TrimSpace(q); q != "" {
		ids, err := db.businessesNamed(ctx, q, limit)
		if err != nil {
			return nil, Wrap("DB.ListBusinesses", err)
		}
		tx = tx.Where("b.id IN ?", ids)
	}
	return out, tx.Scan(&out).Error
}

// BusinessNames lists up to limit business names, newest first: the
// choices of a filter by business (one narrow query, no counts).
func (db *DB) BusinessNames(ctx context.Context, limit int) ([]string, error) {
	var names []string
	err := db.WithContext(ctx).Table("businesses").Order("id DESC").Limit(limit).Pluck("name", &names).Error
	return names, Wrap("DB.BusinessNames", err)
}

// businessesNamed gives the ids, newest first, of up to limit businesses
// whose name contains q with accents and case folded ("cafe" finds Café).
// The names are folded in Go (FoldSearch, as the contact search), the same
// on both databases; a platform's list of businesses is small enough to
// read whole for an administrator's search (one narrow column).
func (db *DB) businessesNamed(ctx context.Context, q string, limit int) ([]int64, error) {
	want := FoldSearch(q)
	rows, err := db.WithContext(ctx).Table("businesses").Select("id, name").Order("id DESC").Rows()
	if err != nil {
		return nil, fmt.Errorf("search business names: %w", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() && len(ids) < limit {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("search business names: %w", err)
		}
		if strings.Contains(FoldSearch(name), want) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// SetBusinessSuspended suspends (with a reason) or reinstates a business.
// Suspension ends every session of its members at once.
func (db *DB) SetBusinessSuspended(ctx context.Context, actor *User, businessID int64, suspend bool, reason string, ip string) error {
	if suspend && strings.TrimSpace(reason) == "" {
		return Invalid("reason", "field.required")
	}
	if err := CheckName("reason", orDash(reason), 500); suspend && err != nil {
		return Wrap("DB.SetBusinessSuspended", err)
	}
	return db.Tx(ctx, func(tx *gorm.DB) error {
		var b Business
		if err := tx.First(&b, "id = ?", businessID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		now := db.Now()
		upd := map[string]any{"updated_at": now}
		action := "business.reinstated"
		if suspend {
			upd["status"], upd["suspended_at"], upd["suspended_reason"] = BusinessSuspended, now, strings.TrimSpace(reason)
			action = "business.suspended"
		} else {
			upd["status"], upd["suspended_at"], upd["suspended_reason"] = BusinessActive, nil, ""
		}
		if err := tx.Model(&Business{}).Where("id = ?", businessID).Updates(upd).Error; err != nil {
			return err
		}
		if suspend {
			if err := tx.Where("user_id IN (SELECT user_id FROM memberships WHERE business_id = ?)", businessID).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: businessID, Action: action,
			TargetType: "business", TargetID: Itoa(businessID), Detail: strings.TrimSpace(reason), IP: ip, Previous: b.Status})
	})
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// PlatformStats are the administrators' headline numbers.
type PlatformStats struct {
	Businesses, Suspended, Users int64
}

// PlatformStats counts businesses and users.
func (db *DB) PlatformStats(ctx context.Context) (PlatformStats, error) {
	var st PlatformStats
	g := db.WithContext(ctx)
	if err := g.Model(&Business{}).Count(&st.Businesses).Error; err != nil {
		return st, Wrap("DB.PlatformStats", err)
	}
	if err := g.Model(&Business{}).Where("status = ?", BusinessSuspended).Count(&st.Suspended).Error; err != nil {
		return st, Wrap("DB.PlatformStats", err)
	}
	return st, g.Model(&User{}).Count(&st.Users).Error
}
