package profiles

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/optline/optline/models"
)

// Profile is a business's messaging profile (what customers see in their
// chat app) and its legal and billing details. The display name is the
// business's own name (businesses.name), so there is one source for it.
type Profile struct {
	ID                int64
	BusinessID        int64
	About             string
	Description       string
	Vertical          string
	Address           string
	Email             string
	Website1          string `gorm:"column:website1"`
	Website2          string `gorm:"column:website2"`
	PhoneE164         string `gorm:"column:phone_e164"`
	PhotoKey          string
	PhotoType         string
	PhotoSize         int64
	PhotoPx           int
	PhotoUpdatedAt    *time.Time
	LegalName         string
	RegisteredAddress string
	Country           string
	VATID             string `gorm:"column:vat_id"`
	BillingEmail      string
	TimeZone          string
	Currency          string
	StaffCanEdit      bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName is the profiles table.
func (Profile) TableName() string { return "business_profiles" }

// Websites lists the non-empty websites in order.
func (p *Profile) Websites() []string {
	var out []string
	for _, w := range []string{p.Website1, p.Website2} {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// HasPhoto reports whether a profile photo was uploaded.
func (p *Profile) HasPhoto() bool { return p.PhotoKey != "" }

// CanEdit reports whether a member with role may change the messaging
// profile: owners always, staff when the owner allowed it.
func (p *Profile) CanEdit(role models.Role) bool {
	return role == models.RoleOwner || (role == models.RoleStaff && p.StaffCanEdit)
}

func newProfile(businessID int64, now time.Time) *Profile {
	return &Profile{BusinessID: businessID, Vertical: "UNDEFINED", TimeZone: "UTC", Currency: "EUR", CreatedAt: now, UpdatedAt: now}
}

// Get loads the business's profile; a business that never saved one
// gets the defaults (not stored until the first save).
func Get(ctx context.Context, t models.Tenant) (*Profile, error) {
	var p Profile
	err := t.Scoped(ctx).First(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return newProfile(t.BusinessID(), t.DB().Now()), nil
	}
	return &p, models.Wrap("profiles.Get", err)
}

// Of loads any business's profile (administrators' review).
func Of(ctx context.Context, db *models.DB, businessID int64) (*Profile, error) {
	t, err := db.Tenant(businessID)
	if err != nil {
		return nil, models.Wrap("profiles.Of", err)
	}
	return Get(ctx, t)
}

// lockProfile creates the profile row when missing and loads it, together
// with the business row, locked for the rest of the transaction. Every
// change to names, verification state or profile goes through it, so
// those changes are serialised per business.
func lockProfile(t models.Tenant, tx *gorm.DB) (*models.Business, *Profile, error) {
	if err := lockBusiness(tx, "?", t.BusinessID()); err != nil {
		return nil, nil, err
	}
	var b models.Business
	if err := tx.First(&b, "id = ?", t.BusinessID()).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, models.ErrNotFound
		}
		return nil, nil, err
	}
	if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "business_id"}}, DoNothing: true}).
		Create(newProfile(t.BusinessID(), t.DB().Now())).Error; err != nil {
		return nil, nil, err
	}
	var p Profile
	if err := t.ScopedTx(tx).Clauses(clause.Locking{Strength: "UPDATE"}).First(&p).Error; err != nil {
		return nil, nil, err
	}
	return &b, &p, nil
}

// lockBusiness takes the business row's write lock as the transaction's
// first statement: a no-op UPDATE locks the row on PostgreSQL and takes
// SQLite's write lock before anything is read, so concurrent writers wait
// their turn (busy timeout) instead of failing with SQLITE_BUSY when a
// read transaction would have to be upgraded. where is the id or a
// subquery yielding it.
func lockBusiness(tx *gorm.DB, where string, args ...any) error {
	res := tx.Exec("UPDATE businesses SET updated_at = updated_at WHERE id = "+where, args...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// ProfileInput is the messaging-profile form.
type ProfileInput struct {
	DisplayName string
	About       string
	Description string
	Vertical    string
	Address     string
	Email       string
	Website1    string
	Website2    string
	Phone       string
	// ConfirmReverify acknowledges that renaming a verified business
	// removes its badge until an administrator approves again.
	ConfirmReverify bool
}

// SaveResult says what a save did beyond storing the fields.
type SaveResult struct {
	Changed []string
	// Reverify is set when a name change sent a verified business back
	// to review (badge removed).
	Reverify bool
	// PendingUpdated is set when a name change updated the request
	// administrators are reviewing.
	PendingUpdated bool
}

// ErrConfirmReverify is the problem key returned when a verified
// business changes a reviewed name without confirming.
const confirmKey = "profile.confirm_reverify.required"

// Save validates and stores the messaging profile. Staff may save
// only when the owner allowed it (ErrForbidden otherwise).
func Save(ctx context.Context, t models.Tenant, actor *models.User, role models.Role, in ProfileInput, ip string) (SaveResult, error) {
	var res SaveResult
	cur, err := Get(ctx, t)
	if err != nil {
		return res, models.Wrap("profiles.Save", err)
	}
	in, verr := in.normalize(cur.Country)
	if err := verr.Err(); err != nil {
		return res, models.Wrap("profiles.Save", err)
	}
	err = t.DB().Tx(ctx, func(tx *gorm.DB) error {
		b, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		if !p.CanEdit(role) {
			return models.ErrForbidden
		}
		renamed := in.DisplayName != b.Name
		if renamed && b.Verified() && !in.ConfirmReverify {
			return models.Invalid("confirm_reverify", confirmKey)
		}
		upd := map[string]any{}
		res.Changed = diffFields(upd, []fieldChange{
			{"about", p.About, in.About}, {"description", p.Description, in.Description},
			{"vertical", p.Vertical, in.Vertical}, {"address", p.Address, in.Address},
			{"email", p.Email, in.Email}, {"website1", p.Website1, in.Website1},
			{"website2", p.Website2, in.Website2}, {"phone_e164", p.PhoneE164, in.Phone},
		})
		now := t.DB().Now()
		if renamed {
			res.Changed = append([]string{"display_name"}, res.Changed...)
			if err := tx.Model(&models.Business{}).Where("id = ?", b.ID).Updates(map[string]any{"name": in.DisplayName, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		if len(res.Changed) == 0 {
			return nil
		}
		if len(upd) > 0 {
			upd["updated_at"] = now
			if err := t.ScopedTx(tx).Model(&Profile{}).Where("id = ?", p.ID).Updates(upd).Error; err != nil {
				return err
			}
		}
		prev := ""
		if renamed {
			prev = "name " + b.Name
		}
		if err := models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(), Action: "profile.updated",
			TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10), Detail: strings.Join(res.Changed, ", "), Previous: prev, IP: ip}); err != nil {
			return err
		}
		if renamed {
			p.UpdatedAt = now
			res.Reverify, res.PendingUpdated, err = namesChanged(t, tx, b, p, in.DisplayName, p.LegalName, actor, ip)
		}
		return err
	})
	return res, models.Wrap("profiles.Save", err)
}

type fieldChange struct {
	column, old, new string
}

// diffFields puts each changed column into upd and returns the names.
func diffFields(upd map[string]any, fields []fieldChange) []string {
	var changed []string
	for _, f := range fields {
		if f.old != f.new {
			upd[f.column] = f.new
			changed = append(changed, f.column)
		}
	}
	return changed
}

// SetStaffCanEdit lets the owner allow or forbid staff to edit the
// messaging profile.
func SetStaffCanEdit(ctx context.Context, t models.Tenant, actor *models.User, allow bool, ip string) error {
	return t.DB().Tx(ctx, func(tx *gorm.DB) error {
		_, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		if p.StaffCanEdit == allow {
			return nil
		}
		now := t.DB().Now()
		if err := t.ScopedTx(tx).Model(&Profile{}).Where("id = ?", p.ID).Updates(map[string]any{"staff_can_edit": allow, "updated_at": now}).Error; err != nil {
			return err
		}
		detail := "staff may not edit the profile"
		if allow {
			detail = "staff may edit the profile"
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(), Action: "profile.staff_access",
			TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10), Detail: detail, IP: ip})
	})
}
