package billing

import (
	"context"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

// Settings is the platform's issuer details (one row, empty until an
// administrator fills them in).
func Settings(ctx context.Context, db *models.DB) (IssuerSettings, error) {
	var s IssuerSettings
	err := db.WithContext(ctx).Table("billing_settings").Where("id = 1").Take(&s).Error
	return s, models.Wrap("billing.Settings", err)
}

// Complete reports whether the settings hold what an invoice must show:
// name and address, a VAT ID or tax number, the seller contact (BG-6)
// and the bank account.
func (s IssuerSettings) Complete() bool {
	return s.Name != "" && s.Street != "" && s.Postcode != "" && s.City != "" && s.Country != "" &&
		(s.VATID != "" || s.TaxNumber != "") && s.ContactName != "" && s.ContactPhone != "" && s.ContactEmail != "" &&
		s.IBAN != "" && s.BankAccountName != ""
}

var (
	emailShape = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	phoneShape = regexp.MustCompile(`^\+?[0-9 ()/.-]{5,30}$`)
	bicShape   = regexp.MustCompile(`^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	ibanShape  = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)
	taxNumber  = regexp.MustCompile(`^[0-9/ ]{10,20}$`)
)

// ValidIBAN checks an IBAN's shape and its ISO 13616 mod-97 checksum
// (spaces removed, upper case).
func ValidIBAN(iban string) bool {
	if !ibanShape.MatchString(iban) {
		return false
	}
	r := iban[4:] + iban[:4]
	var digits strings.Builder
	for _, c := range r {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		default:
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

func cleanLine(s string, max int) string {
	s = models.CleanStored(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// SaveSettings validates and stores the issuer details, audited. Every
// problem is reported at once; nothing is stored when there is one.
func SaveSettings(ctx context.Context, db *models.DB, actor *models.User, in SettingsInput, ip string) (IssuerSettings, error) {
	v := &models.ValidationError{}
	s := IssuerSettings{
		Name: cleanLine(in.Name, 200), Postcode: cleanLine(in.Postcode, 20), City: cleanLine(in.City, 100),
		Country: strings.ToUpper(cleanLine(in.Country, 2)), TaxNumber: cleanLine(in.TaxNumber, 30), Registration: cleanLine(in.Registration, 200),
		ContactName: cleanLine(in.ContactName, 200), ContactPhone: cleanLine(in.ContactPhone, 40),
		ContactEmail: strings.ToLower(cleanLine(in.ContactEmail, 200)), BankAccountName: cleanLine(in.BankAccountName, 200),
		BankName: cleanLine(in.BankName, 200), BuyerReference: cleanLine(in.BuyerReference, 100),
		IBAN: strings.ToUpper(strings.ReplaceAll(cleanLine(in.IBAN, 50), " ", "")),
		BIC:  strings.ToUpper(strings.ReplaceAll(cleanLine(in.BIC, 20), " ", "")),
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(in.Street, "\r\n", "\n"), "\n") {
		if l = cleanLine(l, 200); l != "" {
			lines = append(lines, l)
		}
	}
	s.Street = strings.Join(lines, "\n")
	for _, f := range []struct{ field, val string }{{"name", s.Name}, {"street", s.Street}, {"postcode", s.Postcode},
		{"city", s.City}, {"contact_name", s.ContactName}, {"bank_account_name", s.BankAccountName}} {
		if f.val == "" {
			v.Add(f.field, "billing.settings."+f.field+".required")
		}
	}
	if len(lines) > 3 {
		v.Add("street", "billing.settings.street.lines")
	}
	if !models.ValidCountry(s.Country) {
		v.Add("country", "billing.settings.country.invalid")
	}
	if in.VATID != "" {
		id, err := profiles.NormalizeVATID("vat_id", in.VATID, s.Country)
		v.Merge(err)
		s.VATID = id
	}
	if s.TaxNumber != "" && !taxNumber.MatchString(s.TaxNumber) {
		v.Add("tax_number", "billing.settings.tax_number.invalid")
	}
	if s.VATID == "" && s.TaxNumber == "" && !v.Has("vat_id") && !v.Has("tax_number") {
		v.Add("vat_id", "billing.settings.vat_id.required")
	}
	if s.ContactPhone == "" {
		v.Add("contact_phone", "billing.settings.contact_phone.required")
	} else if !phoneShape.MatchString(s.ContactPhone) {
		v.Add("contact_phone", "billing.settings.contact_phone.invalid")
	}
	if s.ContactEmail == "" {
		v.Add("contact_email", "billing.settings.contact_email.required")
	} else if !emailShape.MatchString(s.ContactEmail) {
		v.Add("contact_email", "billing.settings.contact_email.invalid")
	}
	if s.IBAN == "" {
		v.Add("iban", "billing.settings.iban.required")
	} else if !ValidIBAN(s.IBAN) {
		v.Add("iban", "billing.settings.iban.invalid")
	}
	if s.BIC != "" && !bicShape.MatchString(s.BIC) {
		v.Add("bic", "billing.settings.bic.invalid")
	}
	days, err := strconv.Atoi(strings.TrimSpace(in.PaymentTermsDays))
	if err != nil || days < 0 || days > 120 {
		v.Add("payment_terms_days", "billing.settings.payment_terms_days.invalid")
	}
	s.PaymentTermsDays = days
	if err := v.Err(); err != nil {
		return s, err
	}
	now := db.Now()
	s.UpdatedAt = &now
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var old IssuerSettings
		if err := tx.Table("billing_settings").Where("id = 1").Take(&old).Error; err != nil {
			return err
		}
		var actorID *int64
		if actor != nil {
			actorID = &actor.ID
		}
		if err := tx.Table("billing_settings").Where("id = 1").Updates(map[string]any{
			"name": s.Name, "street": s.Street, "postcode": s.Postcode, "city": s.City, "country": s.Country,
			"vat_id": s.VATID, "tax_number": s.TaxNumber, "registration": s.Registration, "contact_name": s.ContactName, "contact_phone": s.ContactPhone,
			"contact_email": s.ContactEmail, "bank_account_name": s.BankAccountName, "iban": s.IBAN, "bic": s.BIC,
			"bank_name": s.BankName, "payment_terms_days": s.PaymentTermsDays, "buyer_reference": s.BuyerReference,
			"updated_by_id": actorID, "updated_at": now}).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, audit(actor, "billing.settings.save", "billing_settings", "1",
			"issuer "+s.Name+", IBAN "+maskIBAN(s.IBAN), "issuer "+old.Name+", IBAN "+maskIBAN(old.IBAN), ip))
	})
	return s, models.Wrap("billing.SaveSettings", err)
}

func maskIBAN(iban string) string {
	if len(iban) < 8 {
		return iban
	}
	return iban[:4] + "…" + iban[len(iban)-4:]
}

func audit(actor *models.User, action, targetType, targetID, detail, previous, ip string) models.AuditEntry {
	e := models.AuditEntry{Action: action, TargetType: targetType, TargetID: targetID, Detail: detail, Previous: previous, IP: ip}
	if actor != nil {
		e.ActorID, e.ActorEmail = actor.ID, actor.Email
	}
	return e
}
