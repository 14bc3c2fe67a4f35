package billing

import (
	"github.com/shopspring/decimal"

	"github.com/optline/optline/invoicedoc"
)

// GermanVAT is the German standard rate, percent.
var GermanVAT = decimal.NewFromInt(19)

// euMembers are the EU member states (ISO codes; Greece is GR here, EL
// only in VAT IDs).
var euMembers = map[string]bool{
	"AT": true, "BE": true, "BG": true, "CY": true, "CZ": true, "DE": true, "DK": true, "EE": true, "ES": true,
	"FI": true, "FR": true, "GR": true, "HR": true, "HU": true, "IE": true, "IT": true, "LT": true, "LU": true,
	"LV": true, "MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SE": true, "SI": true, "SK": true,
}

// InEU reports whether country is an EU member state.
func InEU(country string) bool { return euMembers[country] }

// VATFor is the VAT treatment of a customer, the issuer being German:
//
//   - Germany: German VAT at 19%.
//   - another EU member state with a VAT ID: reverse charge, 0%, with the
//     legal note (the customer accounts for the VAT, Art. 196 VAT Directive).
//   - another EU member state without a VAT ID: German VAT at 19% (a
//     supply to a non-business; place of supply as for B2C here).
//   - outside the EU: not taxable in Germany, 0%, with the note
//     (place of supply at the customer, § 3a (2) UStG).
//   - no country in the profile: treated as Germany (19%), the safe side.
func VATFor(country, vatID string) (treatment string, rate decimal.Decimal) {
	switch {
	case country == "" || country == "DE":
		return invoicedoc.VATStandard, GermanVAT
	case InEU(country) && vatID != "":
		return invoicedoc.VATReverseCharge, decimal.Zero
	case InEU(country):
		return invoicedoc.VATStandard, GermanVAT
	default:
		return invoicedoc.VATOutsideEU, decimal.Zero
	}
}

// VATNote is the legal note for a treatment in lang ("en" or "de"); ""
// for standard VAT.
func VATNote(treatment, lang string) string {
	switch treatment {
	case invoicedoc.VATReverseCharge:
		if lang == "de" {
			return "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL). Die Umsatzsteuer schuldet der Leistungsempfänger."
		}
		return "Reverse charge: VAT to be accounted for by the recipient (Article 196 of Council Directive 2006/112/EC)."
	case invoicedoc.VATOutsideEU:
		if lang == "de" {
			return "Nicht im Inland steuerbare Leistung (Ort der sonstigen Leistung beim Leistungsempfänger, § 3a Abs. 2 UStG)."
		}
		return "Not taxable in Germany: the place of supply is the customer's country (Section 3a (2) German VAT Act)."
	}
	return ""
}

// LanguageFor is the customer's document language by country: German
// for DE, AT and CH, English otherwise.
func LanguageFor(country string) string {
	switch country {
	case "DE", "AT", "CH":
		return "de"
	}
	return "en"
}

// MinorUnits is how many decimals the currency's minor unit has.
func MinorUnits(currency string) int32 {
	switch currency {
	case "JPY", "HUF", "ISK", "KRW", "CLP":
		return 0
	}
	return 2
}

// LineAmount is quantity × unit price rounded once, half away from zero
// (half-up for positive amounts), to the currency's minor unit:
// 3 × 0.0333 = 0.0999 → 0.10. Rounding happens per line and nowhere else;
// the tax is rounded once on the net total.
func LineAmount(quantity int64, unit decimal.Decimal, currency string) decimal.Decimal {
	return decimal.NewFromInt(quantity).Mul(unit).Round(MinorUnits(currency))
}

// TaxOf is the tax on net at rate percent, rounded once to the minor unit.
func TaxOf(net, rate decimal.Decimal, currency string) decimal.Decimal {
	return net.Mul(rate).Div(decimal.NewFromInt(100)).Round(MinorUnits(currency))
}
