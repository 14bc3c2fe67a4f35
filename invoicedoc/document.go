// Package invoicedoc renders issued invoices and credit notes as
// documents: a PDF for people (fpdf with an embedded UTF-8 font) and an
// XRechnung 3.0 UBL file for machines (EN 16931). It is neither HTTP nor
// storage: billing builds a Document from its records and stores what
// this package returns.
package invoicedoc

import (
	"time"

	"github.com/shopspring/decimal"
)

// Kinds of documents.
const (
	KindInvoice    = "invoice"     // UBL Invoice, type code 380
	KindCreditNote = "credit_note" // UBL CreditNote, type code 381
)

// VAT treatments of a customer (billing decides which applies).
const (
	VATStandard      = "standard"       // German customer: the German rate (19%)
	VATReverseCharge = "reverse_charge" // EU customer in another member state with a VAT ID: 0%, reverse charge (category AE)
	VATOutsideEU     = "outside_eu"     // outside the EU: not taxable here (category O)
)

// Party is the issuer or the customer.
type Party struct {
	Name      string
	Street    string // address lines, "\n"-separated
	City      string
	Postcode  string
	Country   string // ISO 3166-1 alpha-2
	VATID     string
	TaxNumber string // the issuer's tax number, when it has no VAT ID
	// Registration is the issuer's commercial register entry, e.g.
	// "HRB 123456 B, Amtsgericht Charlottenburg" (BT-30; German companies
	// print it on business letters, § 35a GmbHG). Optional.
	Registration string
	// Contact (the issuer's: BG-6 seller contact).
	ContactName  string
	ContactPhone string
	ContactEmail string
	Email        string // electronic address (BT-34 / BT-49)
}

// Bank is how the customer pays.
type Bank struct {
	AccountName string
	IBAN        string
	BIC         string
	BankName    string
}

// Line is one invoice line: messages of one category to one country.
type Line struct {
	Description string // e.g. "Marketing messages to Germany (DE)"
	Category    string // billing category
	Country     string // recipient country, "" for other countries
	Quantity    int64
	UnitPrice   decimal.Decimal // as on the rate card (several decimals)
	Amount      decimal.Decimal // quantity × unit price, rounded once to the currency's minor unit
}

// Document is everything an issued invoice or credit note shows.
type Document struct {
	Kind     string
	Number   string // e.g. 2026-000123, or CN-2026-000004
	IssuedAt time.Time
	DueAt    time.Time
	// PeriodStart and PeriodEnd are the period of supply (calendar
	// month, inclusive dates).
	PeriodStart  time.Time
	PeriodEnd    time.Time
	Currency     string // ISO 4217
	Language     string // "en" or "de": the customer's language
	Issuer       Party
	Customer     Party
	Bank         Bank
	PaymentTerms string // e.g. "Payable within 14 days without deduction."
	// BuyerReference is BT-10 (the customer's order or Leitweg
	// reference, or a stated default).
	BuyerReference string
	Lines          []Line
	VAT            string          // VATStandard, VATReverseCharge or VATOutsideEU
	VATRate        decimal.Decimal // percent, e.g. 19 (0 for the others)
	Net            decimal.Decimal
	Tax            decimal.Decimal
	Gross          decimal.Decimal
	// Note is the legal note for the VAT treatment (reverse charge,
	// not taxable here) in the document's language; "" for standard.
	Note string
	// Corrects names the invoice a credit note corrects (BT-25) and its
	// issue date (BT-26).
	Corrects     string
	CorrectsDate time.Time
}
