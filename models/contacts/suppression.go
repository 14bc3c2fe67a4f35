package contacts

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/optline/optline/models"
)

// IsSuppressed reports whether the number said stop (and has not opted in
// again since).
func IsSuppressed(ctx context.Context, t models.Tenant, e164 string) (bool, error) {
	var n int64
	err := t.Scoped(ctx).Model(&Suppression{}).Where("phone_hash = ?", PhoneHash(e164)).Count(&n).Error
	return n > 0, models.Wrap("contacts.IsSuppressed", err)
}

// OptOut records that the contact does not want marketing messages any
// more, now. Opting out someone already opted out changes nothing.
func OptOut(ctx context.Context, t models.Tenant, contactID int64, source, recordedBy string) error {
	c, err := ByID(ctx, t, contactID)
	if err != nil {
		return models.Wrap("contacts.OptOut", err)
	}
	return OptOutPhone(ctx, t, c.Phone, source, recordedBy, t.DB().Now())
}

// OptOutPhone records an opt-out of the number at the given time, whether
// or not a contact with that number exists (a STOP reply may come from
// anyone). It writes the suppression (keeping the latest time), a consent
// event, and marks the contact opted out. Repeating the same opt-out (same
// time and source) changes nothing, so a webhook delivered twice is harmless.
func OptOutPhone(ctx context.Context, t models.Tenant, e164, source, recordedBy string, at time.Time) error {
	if err := t.Check(); err != nil {
		return models.Wrap("contacts.OptOutPhone", err)
	}
	if !ValidE164(e164) {
		return models.Invalid("phone", "phone.invalid_e164")
	}
	at = at.UTC()
	hash := PhoneHash(e164)
	source = strings.TrimSpace(source)
	return t.DB().Tx(ctx, func(tx *gorm.DB) error {
		var prev Suppression
		err := t.ScopedTx(tx).Clauses(clause.Locking{Strength: "UPDATE"}).First(&prev, "phone_hash = ?", hash).Error
		exists := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var c Contact
		cerr := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Clauses(clause.Locking{Strength: "UPDATE"}).First(&c, "phone = ?", e164).Error
		hasContact := cerr == nil
		if cerr != nil && !errors.Is(cerr, gorm.ErrRecordNotFound) {
			return cerr
		}
		if exists && prev.OptedOutAt.Equal(at) && prev.Source == source && (!hasContact || c.ConsentState == ConsentOptedOut) {
			return nil
		}
		now := t.DB().Now()
		switch {
		case !exists:
			if err := tx.Create(&Suppression{BusinessID: t.BusinessID(), PhoneHash: hash, OptedOutAt: at, Source: source, CreatedAt: now}).Error; err != nil {
				return err
			}
		case at.After(prev.OptedOutAt):
			if err := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Suppression{}).Where("phone_hash = ?", hash).
				Updates(map[string]any{"opted_out_at": at, "source": source}).Error; err != nil {
				return err
			}
		}
		ev := ConsentEvent{BusinessID: t.BusinessID(), PhoneHash: hash, Kind: consentKindOut, At: at, Source: source, RecordedBy: recordedBy, CreatedAt: now}
		if hasContact {
			ev.ContactID = &c.ID
			outAt := at
			if c.ConsentState == ConsentOptedOut && c.OptedOutAt != nil && c.OptedOutAt.After(at) {
				outAt = *c.OptedOutAt
			}
			if exists && prev.OptedOutAt.After(outAt) {
				outAt = prev.OptedOutAt
			}
			if err := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Contact{}).Where("id = ?", c.ID).
				Updates(map[string]any{"consent_state": ConsentOptedOut, "opted_out_at": outAt, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return tx.Create(&ev).Error
	})
}
