package contacts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// ConsentInput is opt-in evidence typed by a person: how (one of
// OptInSources), on which day (YYYY-MM-DD) and the wording the customer
// agreed to.
type ConsentInput struct {
	Source  string
	Date    string
	Wording string
}

func (in ConsentInput) empty() bool {
	return strings.TrimSpace(in.Source) == "" && strings.TrimSpace(in.Date) == "" && strings.TrimSpace(in.Wording) == ""
}

// check validates the evidence into v (fields consent_source,
// consent_date, consent_wording) and returns when consent was given. A
// date of today means now, so consent given at the counter after an
// opt-out this morning counts as newer.
func (in ConsentInput) check(v *models.ValidationError, now time.Time) time.Time {
	src := strings.TrimSpace(in.Source)
	switch {
	case src == "":
		v.Add("consent_source", "consent.source_required")
	case !slices.Contains(OptInSources, src):
		v.Add("consent_source", "consent.source_invalid")
	}
	var at time.Time
	date := strings.TrimSpace(in.Date)
	if date == "" {
		v.Add("consent_date", "consent.date_required")
	} else if d, err := time.Parse("2006-01-02", date); err != nil {
		v.Add("consent_date", "consent.date_invalid")
	} else {
		today := now.UTC().Truncate(24 * time.Hour)
		switch {
		case d.After(today):
			v.Add("consent_date", "consent.date_future")
		case d.Year() < 2000:
			v.Add("consent_date", "consent.date_too_old")
		case d.Equal(today):
			at = now.UTC()
		default:
			at = d
		}
	}
	w := strings.TrimSpace(in.Wording)
	switch {
	case w == "":
		v.Add("consent_wording", "consent.wording_required")
	case !utf8.ValidString(w):
		v.Add("consent_wording", "field.invalid_text")
	case utf8.RuneCountInString(w) > maxWordingRunes:
		v.Add("consent_wording", "field.too_long", maxWordingRunes)
	case hasControlCharsMultiline(w):
		v.Add("consent_wording", "field.control_chars")
	}
	return at
}

func hasControlCharsMultiline(s string) bool {
	return models.HasControlChars(strings.NewReplacer("\r", "", "\n", "").Replace(s))
}

// ContactInput is the manual "Add contact" form.
type ContactInput struct {
	Phone    string // as typed
	Region   string // default country for numbers without +, e.g. "DE"
	Name     string
	Email    string
	Language string
	Tags     string // comma-separated
	Consent  ConsentInput
}

// phoneProblem maps the importer's phone error codes to messages.
func phoneProblem(v *models.ValidationError, field string, err error) {
	var pe *importer.PhoneError
	if errors.As(err, &pe) {
		if pe.Code == importer.CodePhoneMissing {
			v.Add(field, "field.required")
			return
		}
		v.Add(field, "phone."+pe.Code, pe.Region)
		return
	}
	v.Add(field, "phone.phone_invalid", "")
}

func checkOptionalText(v *models.ValidationError, field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "field.invalid_text")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "field.too_long", max)
	case models.HasControlChars(s):
		v.Add(field, "field.control_chars")
	}
}

func splitTagInput(v *models.ValidationError, field, s string) []string {
	return parseTags(v, field, "tag.too_many", s)
}

// parseTags reads tags as people type them: separated by commas,
// semicolons, bars or line breaks, normalised, each once. The first bad
// tag, or more than maxContactTags (tooMany), is reported at field.
func parseTags(v *models.ValidationError, field, tooMany string, in ...string) []string {
	var tags []string
	for _, raw := range in {
		for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == '\n' }) {
			tag := NormalizeTag(part)
			if tag == "" || slices.Contains(tags, tag) {
				continue
			}
			if err := checkTag(field, tag); err != nil {
				if !v.Has(field) {
					v.Merge(err)
				}
				continue
			}
			tags = append(tags, tag)
		}
	}
	if len(tags) > maxContactTags && !v.Has(field) {
		v.Add(field, tooMany, maxContactTags)
	}
	return tags
}

// Create adds one contact by hand. Without consent evidence the
// contact is stored as not messageable; with it, opted in. A number that
// opted out earlier is opted in again only by consent given after the
// opt-out; without consent it is stored opted out.
func Create(ctx context.Context, t models.Tenant, in ContactInput, recordedBy string) (*Contact, error) {
	if err := t.Check(); err != nil {
		return nil, models.Wrap("contacts.Create", err)
	}
	v := &models.ValidationError{}
	now := t.DB().Now()
	phone, perr := importer.NormalizePhone(strings.TrimSpace(in.Phone), strings.ToUpper(strings.TrimSpace(in.Region)))
	if perr != nil {
		phoneProblem(v, "phone", perr)
	}
	c := &Contact{BusinessID: t.BusinessID(), Phone: phone, Name: strings.TrimSpace(in.Name),
		ConsentState: ConsentNone, Attrs: Attrs{}, CreatedAt: now, UpdatedAt: now}
	checkOptionalText(v, "name", c.Name, maxContactName)
	c.Email, c.Language = contactDetails(v, in.Email, in.Language)
	tags := splitTagInput(v, "tags", in.Tags)
	var consentAt time.Time
	if !in.Consent.empty() {
		consentAt = in.Consent.check(v, now)
	}
	if err := v.Err(); err != nil {
		return nil, models.Wrap("contacts.Create", err)
	}
	c.derive()
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := t.ScopedTx(tx).Model(&Contact{}).Where("phone = ?", phone).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Invalid("phone", "contact.phone_taken")
		}
		var supp Suppression
		err := t.ScopedTx(tx).First(&supp, "phone_hash = ?", c.PhoneHash).Error
		suppressed := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		switch {
		case suppressed && !consentAt.IsZero() && !consentAt.After(supp.OptedOutAt):
			return models.Invalid("consent_date", "consent.before_opt_out", supp.OptedOutAt.Format("2006-01-02"))
		case suppressed && consentAt.IsZero():
			out := supp.OptedOutAt
			c.ConsentState, c.OptedOutAt = ConsentOptedOut, &out
		case !consentAt.IsZero():
			c.ConsentState, c.OptedInAt, c.OptInSource = ConsentOptedIn, &consentAt, in.Consent.Source
			if suppressed {
				out := supp.OptedOutAt
				c.OptedOutAt = &out
			}
		}
		if err := tx.Create(c).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.Invalid("phone", "contact.phone_taken")
			}
			return err
		}
		if err := linkConsentHistory(tx, t.BusinessID(), c); err != nil {
			return err
		}
		if c.ConsentState == ConsentOptedIn {
			if err := grantConsent(tx, t.BusinessID(), c, consentAt, in.Consent, recordedBy, now); err != nil {
				return err
			}
		}
		return insertTags(tx, t.BusinessID(), c.ID, tags)
	})
	if err != nil {
		return nil, models.Wrap("contacts.Create", err)
	}
	tagsChanged(t)
	c.Tags = tags
	return c, nil
}

// linkConsentHistory attaches earlier events of the same number (kept
// after an erasure, or from a STOP of a stranger) to a new contact, so its
// page shows why it is opted out.
func linkConsentHistory(tx *gorm.DB, businessID int64, c *Contact) error {
	return tx.Model(&ConsentEvent{}).Where("business_id = ? AND phone_hash = ? AND contact_id IS NULL", businessID, c.PhoneHash).
		Update("contact_id", c.ID).Error
}

// grantConsent writes the opt-in event and lifts a suppression.
func grantConsent(tx *gorm.DB, businessID int64, c *Contact, at time.Time, in ConsentInput, recordedBy string, now time.Time) error {
	if err := tx.Where("business_id = ? AND phone_hash = ?", businessID, c.PhoneHash).Delete(&Suppression{}).Error; err != nil {
		return err
	}
	return tx.Create(&ConsentEvent{BusinessID: businessID, ContactID: &c.ID, PhoneHash: c.PhoneHash, Kind: consentKindIn, At: at,
		Source: in.Source, Wording: strings.TrimSpace(in.Wording), RecordedBy: recordedBy, CreatedAt: now}).Error
}

func insertTags(tx *gorm.DB, businessID, contactID int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(tags))
	for i, tag := range tags {
		rows[i] = map[string]any{"business_id": businessID, "contact_id": contactID, "tag": tag}
	}
	return tx.Table("contact_tags").Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error
}

// RecordOptIn records new consent for a contact who is not opted in. For
// someone who opted out it must be dated after the opt-out.
func RecordOptIn(ctx context.Context, t models.Tenant, contactID int64, in ConsentInput, recordedBy string) error {
	v := &models.ValidationError{}
	now := t.DB().Now()
	at := in.check(v, now)
	if err := v.Err(); err != nil {
		return models.Wrap("contacts.RecordOptIn", err)
	}
	return t.DB().Tx(ctx, func(tx *gorm.DB) error {
		c, err := lockContact(t, tx, contactID)
		if err != nil {
			return err
		}
		if c.ConsentState == ConsentOptedIn {
			return models.ErrConflict
		}
		var supp Suppression
		if err := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).First(&supp, "phone_hash = ?", c.PhoneHash).Error; err == nil {
			if c.OptedOutAt == nil || supp.OptedOutAt.After(*c.OptedOutAt) {
				c.OptedOutAt = &supp.OptedOutAt
			}
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if c.OptedOutAt != nil && !at.After(*c.OptedOutAt) && (c.ConsentState == ConsentOptedOut || supp.PhoneHash != "") {
			return models.Invalid("consent_date", "consent.before_opt_out", c.OptedOutAt.Format("2006-01-02"))
		}
		if err := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Contact{}).Where("id = ?", c.ID).Updates(map[string]any{
			"consent_state": ConsentOptedIn, "opted_in_at": at, "opt_in_source": in.Source, "updated_at": now}).Error; err != nil {
			return err
		}
		return grantConsent(tx, t.BusinessID(), c, at, in, recordedBy, now)
	})
}

// AddTag tags one contact.
func AddTag(ctx context.Context, t models.Tenant, contactID int64, tag string) error {
	tag = NormalizeTag(tag)
	if err := checkTag("tag", tag); err != nil {
		return models.Wrap("contacts.AddTag", err)
	}
	if err := hasContact(ctx, t, contactID); err != nil {
		return models.Wrap("contacts.AddTag", err)
	}
	defer tagsChanged(t)
	return insertTags(t.DB().WithContext(ctx), t.BusinessID(), contactID, []string{tag})
}

// RemoveTag removes one tag from one contact.
func RemoveTag(ctx context.Context, t models.Tenant, contactID int64, tag string) error {
	if err := hasContact(ctx, t, contactID); err != nil {
		return models.Wrap("contacts.RemoveTag", err)
	}
	defer tagsChanged(t)
	return t.DB().WithContext(ctx).Exec("DELETE FROM contact_tags WHERE business_id = ? AND contact_id = ? AND tag = ?", t.BusinessID(), contactID, NormalizeTag(tag)).Error
}

// Delete erases a contact on request: name, number, e-mail,
// attributes and tags go, and the number leaves the lists of repeated
// numbers of the imports. What stays is a suppression keyed by the
// number's hash (so an old list cannot bring the person back without new
// consent) and the consent events, unlinked, with their hash, time and
// source as evidence.
func Delete(ctx context.Context, t models.Tenant, contactID int64, recordedBy string) error {
	if err := t.Check(); err != nil {
		return models.Wrap("contacts.Delete", err)
	}
	defer tagsChanged(t)
	return t.DB().Tx(ctx, func(tx *gorm.DB) error {
		c, err := lockContact(t, tx, contactID)
		if err != nil {
			return err
		}
		now := t.DB().Now()
		var n int64
		if err := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Suppression{}).Where("phone_hash = ?", c.PhoneHash).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := tx.Create(&Suppression{BusinessID: t.BusinessID(), PhoneHash: c.PhoneHash, OptedOutAt: now, Source: OptOutErasure, CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		if c.ConsentState != ConsentOptedOut {
			if err := tx.Create(&ConsentEvent{BusinessID: t.BusinessID(), PhoneHash: c.PhoneHash, Kind: consentKindOut, At: now,
				Source: OptOutErasure, RecordedBy: recordedBy, CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&ConsentEvent{}).Where("business_id = ? AND contact_id = ?", t.BusinessID(), c.ID).Update("contact_id", nil).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM contact_tags WHERE business_id = ? AND contact_id = ?", t.BusinessID(), c.ID).Error; err != nil {
			return err
		}
		// The number also goes from the imports' lists of repeated numbers.
		if err := tx.Exec("DELETE FROM import_repeats WHERE business_id = ? AND phone = ?", t.BusinessID(), c.Phone).Error; err != nil {
			return err
		}
		return tx.Where("business_id = ? AND id = ?", t.BusinessID(), c.ID).Delete(&Contact{}).Error
	})
}

// HasAny reports whether the book holds any contact.
func HasAny(ctx context.Context, t models.Tenant) (bool, error) {
	if err := t.Check(); err != nil {
		return false, models.Wrap("contacts.HasAny", err)
	}
	var ids []int64
	err := t.Scoped(ctx).Model(&Contact{}).Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, models.Wrap("contacts.HasAny", err)
}
