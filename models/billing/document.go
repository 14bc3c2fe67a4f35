package billing

import (
	"time"
	_ "time/tzdata" // the issuer's zone on hosts without a zoneinfo database

	"encoding/json"
	"fmt"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/invoicedoc"
)

// Renderer makes an issued invoice's documents.
type Renderer struct {
	PDF func(invoicedoc.Document) ([]byte, error)
	XML func(invoicedoc.Document) ([]byte, error)
}

// Documents is the renderer Issue and CancelWithCreditNote use (set by
// render.go to invoicedoc.PDF and invoicedoc.XRechnung; tests may replace
// it). While it is unset nothing can be issued (ErrNoRenderer).
var Documents Renderer

var categoryNames = map[string][2]string{
	Marketing:      {"Marketing messages", "Marketing-Nachrichten"},
	Utility:        {"Utility messages", "Service-Benachrichtigungen (Utility)"},
	Authentication: {"Authentication messages", "Authentifizierungs-Nachrichten"},
	Service:        {"Service replies", "Service-Antworten"},
}

// CountryName is the country's name in lang ("en" or "de").
func CountryName(country, lang string) string {
	r, err := language.ParseRegion(country)
	if err != nil {
		return country
	}
	tag := language.English
	if lang == "de" {
		tag = language.German
	}
	if n := display.Regions(tag).Name(r); n != "" {
		return n
	}
	return country
}

// LineDescription is an invoice line's text in lang: "Marketing messages
// to Germany (DE)", or "… to other countries" for the card's default.
func LineDescription(category, country, lang string) string {
	names, ok := categoryNames[category]
	if !ok {
		names = [2]string{category + " messages", category + "-Nachrichten"}
	}
	de := lang == "de"
	name := names[0]
	if de {
		name = names[1]
	}
	switch {
	case country == "" && de:
		return name + " in übrige Länder"
	case country == "":
		return name + " to other countries"
	case de:
		return fmt.Sprintf("%s nach %s (%s)", name, CountryName(country, "de"), country)
	}
	return fmt.Sprintf("%s to %s (%s)", name, CountryName(country, "en"), country)
}

// ToDocument is what invoicedoc renders of an invoice (issued: with its
// number and issuer snapshot) or credit note (corrected is the invoice it
// cancels). Amounts of a credit note are positive, as UBL CreditNote
// (type 381) expects.
func ToDocument(inv *Invoice, corrected *Invoice) (invoicedoc.Document, error) {
	var snap issuerSnapshot
	if inv.Issuer != "" {
		if err := json.Unmarshal([]byte(inv.Issuer), &snap); err != nil {
			return invoicedoc.Document{}, fmt.Errorf("invoice %d: issuer snapshot: %w", inv.ID, err)
		}
	}
	street, postcode, city := invoicedoc.ParseAddress(inv.CustomerAddress, inv.CustomerCountry)
	lang := inv.Language
	d := invoicedoc.Document{
		Kind: invoicedoc.KindInvoice, Number: inv.NumberOr(), PeriodStart: inv.PeriodStart, PeriodEnd: inv.PeriodEnd,
		Currency: inv.Currency, Language: lang, Issuer: snap.Party, Bank: snap.Bank,
		Customer: invoicedoc.Party{Name: inv.CustomerName, Street: street, Postcode: postcode, City: city,
			Country: inv.CustomerCountry, VATID: inv.CustomerVATID, Email: inv.CustomerEmail},
		PaymentTerms:   PaymentTerms(snap.TermsDays, lang),
		BuyerReference: snap.BuyerReference,
		VAT:            inv.VATTreatment, VATRate: inv.VATRate, Net: inv.Net, Tax: inv.Tax, Gross: inv.Gross, Note: inv.Note,
	}
	if d.BuyerReference == "" {
		d.BuyerReference = fmt.Sprintf("OPTLINE-%d", inv.BusinessID)
	}
	if inv.IssuedAt != nil {
		d.IssuedAt = inv.IssuedAt.In(IssuerZone)
	}
	if inv.DueAt != nil {
		d.DueAt = inv.DueAt.In(IssuerZone)
	}
	if inv.Kind == KindCreditNote {
		d.Kind = invoicedoc.KindCreditNote
		if corrected != nil {
			d.Corrects = corrected.NumberOr()
			if corrected.IssuedAt != nil {
				d.CorrectsDate = corrected.IssuedAt.In(IssuerZone)
			}
		}
	}
	for _, l := range inv.Lines {
		d.Lines = append(d.Lines, invoicedoc.Line{Description: l.Description, Category: l.Category, Country: l.Country,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, Amount: l.Amount})
	}
	return d, nil
}

// IssuerZone is the issuer's time zone (the VAT rules are those of an
// issuer in Germany): an invoice's issue and due dates are its calendar
// dates, and its number's year is the year of its issue date there, so
// an invoice issued at 00:30 on 1 January in Berlin is dated 1 January
// and numbered in the new year's series.
var IssuerZone = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PaymentTerms is the terms sentence in lang.
func PaymentTerms(days int, lang string) string {
	if lang == "de" {
		if days == 0 {
			return "Zahlbar sofort ohne Abzug."
		}
		return fmt.Sprintf("Zahlbar innerhalb von %d Tagen ohne Abzug.", days)
	}
	if days == 0 {
		return "Payable immediately without deduction."
	}
	return fmt.Sprintf("Payable within %d days without deduction.", days)
}
