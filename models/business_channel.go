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
