package models

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"gorm.io/gorm"
)

// platformID is the shape of the platform's numeric ids.
var platformID = regexp.MustCompile(`^[0-9]{5,32}$`)

// SetSender records a business's sender on the messaging platform
// (administrators only; the handler checks the role). Both ids are the
// platform's numeric ids, or both empty to clear them; a phone-number id
// already given to another business is refused, because incoming events
// are routed by it.
func (db *DB) SetSender(ctx context.Context, actor *User, businessID int64, phoneNumberID, wabaID, ip string) error {
	phoneNumberID, wabaID = strings.TrimSpace(phoneNumberID), strings.TrimSpace(wabaID)
	v := &ValidationError{}
	if phoneNumberID != "" && !platformID.MatchString(phoneNumberID) {
		v.Add("phone_number_id", "sender.bad_id")
	}
	if wabaID != "" && !platformID.MatchString(wabaID) {
		v.Add("waba_id", "sender.bad_id")
	}
	if (phoneNumberID == "") != (wabaID == "") {
		v.Add("phone_number_id", "sender.both")
	}
	if err := v.Err(); err != nil {
		return Wrap("DB.SetSender", err)
	}
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var b Business
		if err := tx.First(&b, "id = ?", businessID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		if phoneNumberID != "" {
			var taken int64
			if err := tx.Model(&Business{}).Where("phone_number_id = ? AND id <> ?", phoneNumberID, businessID).Count(&taken).Error; err != nil {
				return err
			}
			if taken > 0 {
				return Invalid("phone_number_id", "sender.taken")
			}
		}
		if err := tx.Model(&Business{}).Where("id = ?", businessID).
			Updates(map[string]any{"phone_number_id": phoneNumberID, "waba_id": wabaID, "updated_at": db.Now()}).Error; err != nil {
			return err
		}
		return WriteAudit(tx, db.Now(), AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: businessID,
			Action: "business.sender_set", TargetType: "business", TargetID: Itoa(businessID),
			Detail: "phone number id " + orDash(phoneNumberID) + ", business account id " + orDash(wabaID), IP: ip})
	})
	return Wrap("DB.SetSender", err)
}

// BusinessOfNumber finds the business whose sender is phoneNumberID
// (routing of incoming events); ErrNotFound when none is.
func (db *DB) BusinessOfNumber(ctx context.Context, phoneNumberID string) (*Business, error) {
	if phoneNumberID == "" {
		return nil, ErrNotFound
	}
	var b Business
	err := db.WithContext(ctx).First(&b, "phone_number_id = ?", phoneNumberID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &b, Wrap("DB.BusinessOfNumber", err)
}

// SandboxSenderPrefix starts the synthetic sender ids the sandbox provider
// gives a business without an administrator-set sender: phone-number id
// and business account id are both "sandbox-<business id>". They are not
// the platform's numeric ids, so SetSender never accepts one (an
// administrator replaces it with real ids or clears it).
const SandboxSenderPrefix = "sandbox-"

// SandboxSenderID is the synthetic sender id of a business.
func SandboxSenderID(businessID int64) string {
	return SandboxSenderPrefix + Itoa(businessID)
}

// IsSandboxSender reports whether id is a synthetic sandbox id.
func IsSandboxSender(id string) bool { return strings.HasPrefix(id, SandboxSenderPrefix) }

// ClaimSandboxSender gives the business its synthetic sandbox sender when
// it has no sender yet (both ids empty), so that the sandbox's events,
// routed like the platform's by phone-number id, find it; a business with
// a sender keeps it. It answers the sender the business has afterwards. It
// is one conditional UPDATE, so concurrent claims and an administrator's
// SetSender cannot interleave into a half-set sender; it is not audited
// (no one decided anything: it is the sandbox's default).
func (db *DB) ClaimSandboxSender(ctx context.Context, businessID int64) (phoneNumberID, wabaID string, err error) {
	id := SandboxSenderID(businessID)
	g := db.WithContext(ctx)
	if err := g.Model(&Business{}).Where("id = ? AND phone_number_id = '' AND waba_id = ''", businessID).
		Updates(map[string]any{"phone_number_id": id, "waba_id": id, "updated_at": db.Now()}).Error; err != nil {
		return "", "", Wrap("DB.ClaimSandboxSender", err)
	}
	var b Business
	if err := g.First(&b, "id = ?", businessID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", "", ErrNotFound
		}
		return "", "", Wrap("DB.ClaimSandboxSender", err)
	}
	return b.PhoneNumberID, b.WABAID, nil
}
