package invoicedoc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/i18n"
	"github.com/shopspring/decimal"
)

// labels are the words of one document language. The documents carry
// their own English and German texts: an invoice is a legal document in
// the customer's language, not a page of the portal.
type labels struct {
	lang          string
	invoice       string
	creditNote    string
	number        string
	creditNumber  string
	issueDate     string
	period        string
	dueDate       string
	buyerRef      string
	ourVATID      string
	ourTaxNumber  string
	vatID         string
	taxNumber     string
	corrects      string // "Cancels invoice %s of %s"
	description   string
	quantity      string
	unitPrice     string
	amount        string
	netAt         string // "Net amount (VAT %s)"
	net           string
	vatAt         string // "VAT %s"
	gross         string
	grossCredit   string
	payBy         string // "Please transfer %s by %s to the account below, quoting %s."
	payNow        string // "Please transfer %s to the account below, quoting %s."
	creditPay     string // "The amount of %s is credited to you."
	bank          string
	accountHolder string
	bankName      string
	contact       string
	phone         string
	email         string
	page          string // "Page %d of %s"
	continued     string
	noteRC        string
	noteOutside   string
	dateFmt       string
}

var labelsEN = labels{
	lang:          "en",
	invoice:       "Invoice",
	creditNote:    "Credit note",
	number:        "Invoice no.",
	creditNumber:  "Credit note no.",
	issueDate:     "Issue date",
	period:        "Period of supply",
	dueDate:       "Due date",
	buyerRef:      "Buyer reference",
	ourVATID:      "Our VAT ID",
	ourTaxNumber:  "Our tax number",
	vatID:         "VAT ID",
	taxNumber:     "Tax number",
	corrects:      "Cancels invoice %s of %s.",
	description:   "Description",
	quantity:      "Quantity",
	unitPrice:     "Unit price",
	amount:        "Amount",
	netAt:         "Net amount (VAT %s)",
	net:           "Net amount",
	vatAt:         "VAT %s",
	gross:         "Total amount",
	grossCredit:   "Total credit",
	payBy:         "Please transfer %s by %s to the account below, quoting %s.",
	payNow:        "Please transfer %s to the account below, quoting %s.",
	creditPay:     "The amount of %s is credited to you.",
	bank:          "Bank details",
	accountHolder: "Account holder",
	bankName:      "Bank",
	contact:       "Contact",
	phone:         "Phone",
	email:         "E-mail",
	page:          "Page %d of %s",
	continued:     "continued",
	noteRC:        "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC).",
	noteOutside:   "Not taxable in Germany (place of supply outside the EU, § 3a (2) UStG).",
	dateFmt:       "2 Jan 2006",
}

// German labels. A credit note that cancels an invoice is a
// "Stornorechnung": "Gutschrift" in § 14 (2) UStG means an invoice the
// recipient issues for what it received (self-billing), so it would
// mislabel the document.
var labelsDE = labels{
	lang:          "de",
	invoice:       "Rechnung",
	creditNote:    "Stornorechnung",
	number:        "Rechnungsnummer",
	creditNumber:  "Belegnummer",
	issueDate:     "Rechnungsdatum",
	period:        "Leistungszeitraum",
	dueDate:       "Fällig am",
	buyerRef:      "Käuferreferenz",
	ourVATID:      "Unsere USt-IdNr.",
	ourTaxNumber:  "Unsere Steuernummer",
	vatID:         "USt-IdNr.",
	taxNumber:     "Steuernummer",
	corrects:      "Storno der Rechnung %s vom %s.",
	description:   "Beschreibung",
	quantity:      "Menge",
	unitPrice:     "Einzelpreis",
	amount:        "Betrag",
	netAt:         "Nettobetrag (USt. %s)",
	net:           "Nettobetrag",
	vatAt:         "Umsatzsteuer %s",
	gross:         "Gesamtbetrag",
	grossCredit:   "Stornobetrag",
	payBy:         "Bitte überweisen Sie %s bis zum %s auf das unten genannte Konto; Verwendungszweck: %s.",
	payNow:        "Bitte überweisen Sie %s auf das unten genannte Konto; Verwendungszweck: %s.",
	creditPay:     "Der Betrag von %s wird Ihnen gutgeschrieben.",
	bank:          "Bankverbindung",
	accountHolder: "Kontoinhaber",
	bankName:      "Bank",
	contact:       "Kontakt",
	phone:         "Telefon",
	email:         "E-Mail",
	page:          "Seite %d von %s",
	continued:     "Fortsetzung",
	noteRC:        "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwSt-Systemrichtlinie 2006/112/EG).",
	noteOutside:   "Nicht im Inland steuerbar (Leistungsort außerhalb der EU, § 3a Abs. 2 UStG).",
	dateFmt:       "02.01.2006",
}

func labelsFor(lang string) *labels {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "de") {
		return &labelsDE
	}
	return &labelsEN
}

// legalNote is the note the VAT treatment requires: the document's own
// Note when billing gave one, else the standard text.
func (l *labels) legalNote(d Document) string {
	if n := strings.TrimSpace(d.Note); n != "" {
		return n
	}
	switch d.VAT {
	case VATReverseCharge:
		return l.noteRC
	case VATOutsideEU:
		return l.noteOutside
	}
	return ""
}

func (l *labels) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(l.dateFmt)
}

// number formats v with exactly scale decimals and digit grouping:
// 1,234.5600 (en) or 1.234,5600 (de).
func (l *labels) num(v decimal.Decimal, scale int) string {
	s := v.StringFixed(int32(scale))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	dec, group := ".", ","
	if l.lang == "de" {
		dec, group = ",", "."
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(dec)
		b.WriteString(frac)
	}
	return b.String()
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "INR": "₹"}

// money formats an amount with scale decimals: "1.234,56 €" in German,
// "€1,234.56" in English; currencies without a symbol show their code
// ("CHF 1,234.56" / "1.234,56 CHF").
func (l *labels) money(v decimal.Decimal, scale int, currency string) string {
	currency = strings.ToUpper(currency)
	n := l.num(v, scale)
	sym, ok := currencySymbols[currency]
	if l.lang == "de" {
		if !ok {
			sym = currency
		}
		return n + "\u00a0" + sym
	}
	if !ok {
		return currency + "\u00a0" + n
	}
	if strings.HasPrefix(n, "-") {
		return "-" + sym + n[1:]
	}
	return sym + n
}

// amount formats a total or line amount in the currency's minor unit.
func (l *labels) amt(v decimal.Decimal, currency string) string {
	return l.money(v, minorDigits(currency), currency)
}

// price formats a unit price with the decimals it has (at least the
// currency's): 0.0333 stays 0,0333 €, 0.05 shows 0,05 €.
func (l *labels) price(v decimal.Decimal, currency string) string {
	return l.money(v, priceScale(v, currency), currency)
}

func (l *labels) rate(v decimal.Decimal) string {
	s := l.num(v, scaleOf(v))
	if l.lang == "de" {
		return s + "\u00a0%"
	}
	return s + "%"
}

func (l *labels) qty(q int64) string {
	return l.num(decimal.NewFromInt(q), 0)
}

// scaleOf is the number of decimals v needs (0.0330 → 3).
func scaleOf(v decimal.Decimal) int {
	s := v.String()
	_, frac, ok := strings.Cut(s, ".")
	if !ok {
		return 0
	}
	return len(strings.TrimRight(frac, "0"))
}

func priceScale(v decimal.Decimal, currency string) int {
	if s, m := scaleOf(v), minorDigits(currency); s > m {
		return s
	}
	return minorDigits(currency)
}

func minorDigits(currency string) int { return i18n.CurrencyDigits(currency) }

// clean makes text safe for both documents: valid UTF-8, no control
// characters (a tab becomes a space; newlines are kept only where
// multiline is true), only characters of the Basic Multilingual Plane
// (the PDF font and fpdf's UTF-16 encoder know no others; the rest become
// U+FFFD), and no runs of spaces.
func clean(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
			b.WriteRune('\n')
			space = false
			continue
		case r == '\r':
			continue
		case r == '\t' || r == '\n' || unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.IsControl(r) || r == '\uFEFF' || (r >= 0xFFFE && r <= 0xFFFF) || unicode.Is(unicode.Cf, r) && r != '\u00AD':
			continue
		case r > 0xFFFF:
			r = '\uFFFD'
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if multiline {
		lines := strings.Split(out, "\n")
		keep := lines[:0]
		for _, ln := range lines {
			if ln = strings.TrimSpace(ln); ln != "" {
				keep = append(keep, ln)
			}
		}
		return strings.Join(keep, "\n")
	}
	return strings.TrimSpace(out)
}

// lines splits a "\n"-separated address into its cleaned lines.
func splitLines(s string) []string {
	s = clean(s, true)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// countryName is the country's name in the document language (CLDR
// names from golang.org/x/text), or its code when unknown.
func (l *labels) countryName(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	r, err := language.ParseRegion(code)
	if err != nil || code == "" || code == "ZZ" {
		return code
	}
	tag := language.English
	if l.lang == "de" {
		tag = language.German
	}
	if n := display.Regions(tag).Name(r); n != "" {
		return n
	}
	return code
}

// formatIBAN groups an IBAN in fours, as printed on paper.
func formatIBAN(iban string) string {
	iban = compact(iban)
	var b strings.Builder
	for i, r := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// compact removes all spaces and upper-cases (IBAN, BIC, VAT IDs).
func compact(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(clean(s, false)), ""))
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func itoa(i int) string { return strconv.Itoa(i) }
