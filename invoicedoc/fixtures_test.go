package invoicedoc

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, berlin) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func issuer() Party {
	return Party{
		Name:         "Optline Platform GmbH",
		Street:       "Hauptstraße 1\n2. OG",
		City:         "Berlin",
		Postcode:     "10115",
		Country:      "DE",
		VATID:        "DE123456789",
		TaxNumber:    "27/123/45678",
		ContactName:  "Jana Buchhaltung",
		ContactPhone: "+49 30 1234567",
		ContactEmail: "billing@optline.example",
		Email:        "invoices@optline.example",
	}
}

func bank() Bank {
	return Bank{AccountName: "Optline Platform GmbH", IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX", BankName: "Commerzbank"}
}

// line builds a line with the amount rounded once, as billing does.
func line(desc, cat, country string, qty int64, price string) Line {
	p := dec(price)
	return Line{Description: desc, Category: cat, Country: country, Quantity: qty, UnitPrice: p,
		Amount: p.Mul(decimal.NewFromInt(qty)).Round(2)}
}

// finish sets net, tax and gross from the lines.
func finish(d Document) Document {
	d.Net = decimal.Zero
	for _, l := range d.Lines {
		d.Net = d.Net.Add(l.Amount)
	}
	d.Tax = d.Net.Mul(d.VATRate).Div(decimal.NewFromInt(100)).Round(2)
	d.Gross = d.Net.Add(d.Tax)
	return d
}

func base(number string) Document {
	return Document{
		Kind:           KindInvoice,
		Number:         number,
		IssuedAt:       day(2026, 12, 1),
		DueAt:          day(2026, 12, 15),
		PeriodStart:    day(2026, 11, 1),
		PeriodEnd:      day(2026, 11, 30),
		Currency:       "EUR",
		Language:       "de",
		Issuer:         issuer(),
		Bank:           bank(),
		PaymentTerms:   "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
		BuyerReference: "Kunde 42",
	}
}

// germanInvoice: a German business, 19 % VAT, German document.
func germanInvoice() Document {
	d := base("2026-000123")
	d.Customer = Party{Name: "Müller & Söhne GmbH", Street: "Straße 5", City: "München", Postcode: "80331",
		Country: "DE", VATID: "DE987654321", Email: "buchhaltung@mueller-soehne.example"}
	d.Lines = []Line{
		line("Marketing-Nachrichten nach Deutschland (DE)", "marketing", "DE", 1234, "0.1131"),
		line("Utility-Nachrichten nach Deutschland (DE)", "utility", "DE", 3, "0.0333"),
		line("Authentifizierung nach Österreich (AT)", "authentication", "AT", 17, "0.0526"),
	}
	d.VAT, d.VATRate = VATStandard, dec("19")
	return finish(d)
}

// austrianInvoice: an Austrian business with a VAT ID: reverse charge.
func austrianInvoice() Document {
	d := base("2026-000124")
	d.Customer = Party{Name: "Wiener Grüße KG", Street: "Währinger Straße 12/3", City: "Wien", Postcode: "1090",
		Country: "AT", VATID: "ATU12345678", Email: "office@wiener-gruesse.example"}
	d.Lines = []Line{
		line("Marketing messages to Austria (AT)", "marketing", "AT", 20000, "0.0985"),
		line("Service conversations beyond the free tier", "service", "", 1500, "0.0300"),
	}
	d.Language = "en"
	d.PaymentTerms = "Payable within 14 days without deduction."
	d.VAT, d.VATRate = VATReverseCharge, decimal.Zero
	return finish(d)
}

// usInvoice: a customer outside the EU: not taxable in Germany.
func usInvoice() Document {
	d := base("2026-000125")
	d.Customer = Party{Name: "Acme Messaging Inc.", Street: "350 Fifth Avenue\nSuite 4100", City: "New York, NY",
		Postcode: "10118", Country: "US", Email: "ap@acme.example"}
	d.Lines = []Line{line("Marketing messages to the United States (US)", "marketing", "US", 999, "0.0250")}
	d.Language = "en"
	d.PaymentTerms = "Payable within 14 days without deduction."
	d.VAT, d.VATRate = VATOutsideEU, decimal.Zero
	return finish(d)
}

// creditNote cancels the German invoice in full.
func creditNote() Document {
	inv := germanInvoice()
	d := inv
	d.Kind = KindCreditNote
	d.Number = "CN-2026-000004"
	d.IssuedAt = day(2026, 12, 3)
	d.DueAt = time.Time{}
	d.PaymentTerms = ""
	d.Corrects, d.CorrectsDate = inv.Number, inv.IssuedAt
	return d
}

// manyLines: an invoice long enough for several pages.
func manyLines() Document {
	d := germanInvoice()
	d.Number = "2026-000126"
	d.Lines = nil
	countries := []string{"DE", "AT", "FR", "IT", "ES", "NL", "PL", "US", "IN", "BR"}
	for i, cat := range []string{"marketing", "utility", "authentication", "service"} {
		for j, c := range countries {
			d.Lines = append(d.Lines, line(fmt.Sprintf("%s-Nachrichten nach %s (%s)", cat, labelsDE.countryName(c), c),
				cat, c, int64(100*(i+1)+j*37), fmt.Sprintf("0.%04d", 300+i*250+j*13)))
		}
	}
	return finish(d)
}
