package profiles

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Limits of the legal and billing details.
const (
	LegalNameMax = 200
	VATIDMax     = 20
)

// Currencies businesses can be billed in.
var Currencies = []string{"EUR", "USD", "GBP", "CHF", "INR", "SEK", "DKK", "NOK", "PLN", "CZK", "HUF", "RON", "BGN", "CAD", "AUD", "BRL", "MXN", "JPY", "SGD", "AED"}

// vatFormats are the VAT ID patterns per country (ISO code), after
// removing spaces, dots and dashes. Greece uses the prefix EL.
var vatFormats = map[string]*regexp.Regexp{
	"AT": regexp.MustCompile(`^ATU\d{8}$`),
	"BE": regexp.MustCompile(`^BE[01]\d{9}$`),
	"BG": regexp.MustCompile(`^BG\d{9,10}$`),
	"CY": regexp.MustCompile(`^CY\d{8}[A-Z]$`),
	"CZ": regexp.MustCompile(`^CZ\d{8,10}$`),
	"DE": regexp.MustCompile(`^DE\d{9}$`),
	"DK": regexp.MustCompile(`^DK\d{8}$`),
	"EE": regexp.MustCompile(`^EE\d{9}$`),
	"GR": regexp.MustCompile(`^EL\d{9}$`),
	"ES": regexp.MustCompile(`^ES[A-Z0-9]\d{7}[A-Z0-9]$`),
	"FI": regexp.MustCompile(`^FI\d{8}$`),
	"FR": regexp.MustCompile(`^FR[A-HJ-NP-Z0-9]{2}\d{9}$`),
	"HR": regexp.MustCompile(`^HR\d{11}$`),
	"HU": regexp.MustCompile(`^HU\d{8}$`),
	"IE": regexp.MustCompile(`^IE(\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])$`),
	"IT": regexp.MustCompile(`^IT\d{11}$`),
	"LT": regexp.MustCompile(`^LT(\d{9}|\d{12})$`),
	"LU": regexp.MustCompile(`^LU\d{8}$`),
	"LV": regexp.MustCompile(`^LV\d{11}$`),
	"MT": regexp.MustCompile(`^MT\d{8}$`),
	"NL": regexp.MustCompile(`^NL\d{9}B\d{2}$`),
	"PL": regexp.MustCompile(`^PL\d{10}$`),
	"PT": regexp.MustCompile(`^PT\d{9}$`),
	"RO": regexp.MustCompile(`^RO[1-9]\d{1,9}$`),
	"SE": regexp.MustCompile(`^SE\d{10}01$`),
	"SI": regexp.MustCompile(`^SI\d{8}$`),
	"SK": regexp.MustCompile(`^SK\d{10}$`),
	// Outside the EU, with VAT IDs used on European invoices.
	"GB": regexp.MustCompile(`^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$`),
	"CH": regexp.MustCompile(`^CHE\d{9}(MWST|TVA|IVA)?$`),
	"NO": regexp.MustCompile(`^NO\d{9}(MVA)?$`),
}

// vatPrefix is the prefix a country's VAT IDs start with.
func vatPrefix(country string) string {
	switch country {
	case "GR":
		return "EL"
	case "CH":
		return "CHE"
	}
	return country
}

// HasVATFormat reports whether country's VAT IDs are format-checked.
func HasVATFormat(country string) bool { _, ok := vatFormats[country]; return ok }

var vatStrip = strings.NewReplacer(" ", "", ".", "", "-", "", "\u00a0", "")

// NormalizeVATID checks a VAT ID against the country's format and returns
// it without spaces, upper-cased. Countries without a known format accept
// 4–20 letters and digits.
func NormalizeVATID(field, s, country string) (string, error) {
	s = strings.ToUpper(vatStrip.Replace(strings.TrimSpace(s)))
	if s == "" {
		return "", nil
	}
	re, known := vatFormats[country]
	if !known {
		if !regexp.MustCompile(`^[A-Z0-9]{4,20}$`).MatchString(s) {
			return s, models.Invalid(field, "vat.invalid_generic")
		}
		return s, nil
	}
	if !re.MatchString(s) {
		// A valid ID of another country says more than "wrong format".
		for c, other := range vatFormats {
			if c != country && other.MatchString(s) {
				return s, models.Invalid(field, "vat.wrong_country", vatPrefix(c), country)
			}
		}
		return s, models.Invalid(field, "vat.invalid."+country)
	}
	return s, nil
}

// CheckTimeZone accepts IANA names such as Europe/Berlin or UTC.
func CheckTimeZone(field, s string) error {
	if s == "" || s == "Local" || len(s) > 64 || strings.ContainsAny(s, " \\") {
		return models.Invalid(field, "legal.time_zone.invalid", s)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return models.Invalid(field, "legal.time_zone.invalid", s)
	}
	return nil
}

func validCurrency(c string) bool {
	for _, x := range Currencies {
		if x == c {
			return true
		}
	}
	return false
}

// LegalInput is the legal and billing form.
type LegalInput struct {
	LegalName         string
	RegisteredAddress string
	Country           string
	VATID             string
	BillingEmail      string
	TimeZone          string
	Currency          string
	ConfirmReverify   bool
}

func (in LegalInput) normalize() (LegalInput, *models.ValidationError) {
	v := &models.ValidationError{}
	in.LegalName = cleanLine(in.LegalName)
	if in.LegalName == "" {
		v.Add("legal_name", "legal.legal_name.required")
	} else {
		checkText(v, "legal_name", "legal.legal_name", in.LegalName, LegalNameMax, false)
	}
	in.RegisteredAddress = cleanText(in.RegisteredAddress)
	if in.RegisteredAddress == "" {
		v.Add("registered_address", "legal.registered_address.required")
	} else {
		checkText(v, "registered_address", "legal.registered_address", in.RegisteredAddress, AddressMax, true)
	}
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if !models.ValidCountry(in.Country) {
		v.Add("country", "legal.country.invalid")
	}
	if utf8.RuneCountInString(in.VATID) > 40 {
		v.Add("vat_id", "vat.invalid_generic")
	} else if vat, err := NormalizeVATID("vat_id", in.VATID, in.Country); err != nil {
		if !v.Has("country") {
			v.Merge(err)
		}
	} else {
		in.VATID = vat
	}
	in.BillingEmail = strings.TrimSpace(in.BillingEmail)
	if in.BillingEmail != "" {
		if n := utf8.RuneCountInString(in.BillingEmail); n > ProfileEmailMax {
			v.Add("billing_email", "profile.email.too_long", ProfileEmailMax, n)
		} else if models.CheckEmail("billing_email", in.BillingEmail) != nil {
			v.Add("billing_email", "email.invalid")
		} else {
			in.BillingEmail = models.NormalizeEmail(in.BillingEmail)
		}
	}
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	v.Merge(CheckTimeZone("time_zone", in.TimeZone))
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if !validCurrency(in.Currency) {
		v.Add("currency", "legal.currency.invalid")
	}
	return in, v
}

// SaveLegal stores the legal and billing details (owners only; the route
// enforces it). Changing the legal name of a verified business sends it
// back to review, which the owner must confirm.
func SaveLegal(ctx context.Context, t models.Tenant, actor *models.User, in LegalInput, ip string) (SaveResult, error) {
	var res SaveResult
	in, verr := in.normalize()
	if err := verr.Err(); err != nil {
		return res, models.Wrap("profiles.SaveLegal", err)
	}
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		b, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		renamed := in.LegalName != p.LegalName
		if renamed && b.Verified() && !in.ConfirmReverify {
			return models.Invalid("confirm_reverify", confirmKey)
		}
		upd := map[string]any{}
		res.Changed = diffFields(upd, []fieldChange{
			{"legal_name", p.LegalName, in.LegalName}, {"registered_address", p.RegisteredAddress, in.RegisteredAddress},
			{"country", p.Country, in.Country}, {"vat_id", p.VATID, in.VATID}, {"billing_email", p.BillingEmail, in.BillingEmail},
			{"time_zone", p.TimeZone, in.TimeZone}, {"currency", p.Currency, in.Currency},
		})
		if len(upd) == 0 {
			return nil
		}
		now := t.DB().Now()
		upd["updated_at"] = now
		if err := t.ScopedTx(tx).Model(&Profile{}).Where("id = ?", p.ID).Updates(upd).Error; err != nil {
			return err
		}
		prev := ""
		if renamed && p.LegalName != "" {
			prev = "legal name " + p.LegalName
		}
		if err := models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(), Action: "profile.legal_updated",
			TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10), Detail: strings.Join(res.Changed, ", "), Previous: prev, IP: ip}); err != nil {
			return err
		}
		if renamed {
			res.Reverify, res.PendingUpdated, err = namesChanged(t, tx, b, p, b.Name, in.LegalName, actor, ip)
		}
		return err
	})
	return res, models.Wrap("profiles.SaveLegal", err)
}
