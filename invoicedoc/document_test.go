package invoicedoc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestMoneyFormatsPerLanguage(t *testing.T) {
	cases := []struct {
		l    *labels
		v    string
		cur  string
		want string
	}{
		{&labelsDE, "1234.56", "EUR", "1.234,56\u00a0€"},
		{&labelsEN, "1234.56", "EUR", "€1,234.56"},
		{&labelsDE, "1234567.5", "EUR", "1.234.567,50\u00a0€"},
		{&labelsEN, "-12.3", "EUR", "-€12.30"},
		{&labelsDE, "-12.3", "EUR", "-12,30\u00a0€"},
		{&labelsEN, "0", "USD", "$0.00"},
		{&labelsEN, "999.99", "CHF", "CHF\u00a0999.99"},
		{&labelsDE, "999.99", "CHF", "999,99\u00a0CHF"},
		{&labelsEN, "1500", "JPY", "JPY\u00a01,500"},
	}
	for _, c := range cases {
		if got := c.l.amt(dec(c.v), c.cur); got != c.want {
			t.Errorf("%s amount(%s %s) = %q, want %q", c.l.lang, c.v, c.cur, got, c.want)
		}
	}
	// Unit prices keep the rate card's decimals, never fewer than the
	// currency's.
	prices := map[string]string{"0.0333": "0,0333\u00a0€", "0.05": "0,05\u00a0€", "0.1": "0,10\u00a0€", "0.12345": "0,12345\u00a0€", "2": "2,00\u00a0€"}
	for v, want := range prices {
		if got := labelsDE.price(dec(v), "EUR"); got != want {
			t.Errorf("price(%s) = %q, want %q", v, got, want)
		}
	}
	if got := labelsDE.rate(dec("19")); got != "19\u00a0%" {
		t.Errorf("rate 19 = %q", got)
	}
	if got := labelsEN.rate(dec("7.50")); got != "7.5%" {
		t.Errorf("rate 7.50 = %q", got)
	}
	if got := labelsDE.qty(1234567); got != "1.234.567" {
		t.Errorf("quantity = %q", got)
	}
}

// A document whose sums disagree, or that lacks what the law or the
// e-invoice needs, is refused with a reason, never rendered.
func TestInconsistentDocumentsAreRefused(t *testing.T) {
	cases := map[string]func(d *Document){
		"unknown kind":        func(d *Document) { d.Kind = "quote" },
		"no number":           func(d *Document) { d.Number = " \x00 " },
		"no issue date":       func(d *Document) { d.IssuedAt = time.Time{} },
		"bad currency":        func(d *Document) { d.Currency = "EURO" },
		"no customer":         func(d *Document) { d.Customer.Name = "" },
		"no lines":            func(d *Document) { d.Lines = nil },
		"net not sum":         func(d *Document) { d.Net = d.Net.Add(dec("0.01")); d.Gross = d.Net.Add(d.Tax) },
		"tax not 19 % of net": func(d *Document) { d.Tax = d.Tax.Add(dec("0.01")); d.Gross = d.Net.Add(d.Tax) },
		"gross not net+tax":   func(d *Document) { d.Gross = d.Gross.Add(dec("1")) },
		"line not qty×price": func(d *Document) {
			d.Lines[1].Amount = dec("0.11") // 3 × 0.0333 = 0.0999 → 0.10
			d.Net, d.Tax, d.Gross = dec("140.57"), dec("26.71"), dec("167.28")
		},
		"amount with 3 decimals": func(d *Document) { d.Lines[1].Amount = dec("0.0999") },
		"negative quantity":      func(d *Document) { d.Lines[0].Quantity = -1 },
		"unknown VAT":            func(d *Document) { d.VAT = "exempt" },
		"standard without rate":  func(d *Document) { d.VATRate = decimal.Zero },
		"issuer without VAT ID or tax number": func(d *Document) {
			d.Issuer.VATID, d.Issuer.TaxNumber = "", ""
		},
	}
	for name, mutate := range cases {
		d := germanInvoice()
		mutate(&d)
		if _, err := PDF(d); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: PDF error = %v, want ErrInvalid", name, err)
		}
		if _, err := XRechnung(d); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: XRechnung error = %v, want ErrInvalid", name, err)
		}
	}

	rc := austrianInvoice()
	rc.Customer.VATID = ""
	if _, err := XRechnung(rc); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "customer's VAT ID") {
		t.Errorf("reverse charge without the customer's VAT ID: %v", err)
	}
	rc = austrianInvoice()
	rc.Tax = dec("1.00")
	if _, err := PDF(rc); !errors.Is(err, ErrInvalid) {
		t.Errorf("reverse charge with tax: %v", err)
	}
	cn := creditNote()
	cn.Corrects = ""
	if _, err := XRechnung(cn); !errors.Is(err, ErrInvalid) {
		t.Errorf("credit note without the invoice it corrects: %v", err)
	}
	// XRechnung needs the seller contact (BR-DE-5/6/7) where the PDF
	// does not.
	d := germanInvoice()
	d.Issuer.ContactPhone = ""
	if _, err := XRechnung(d); !errors.Is(err, ErrInvalid) {
		t.Errorf("XRechnung without the seller's phone: %v", err)
	}
	if _, err := PDF(d); err != nil {
		t.Errorf("PDF without the seller's phone: %v", err)
	}
}

// Rounding is once per line, half up: 3 × 0.0333 = 0.0999 → 0.10 and
// 999 × 0.025 = 24.975 → 24.98 are accepted as billing computes them.
func TestLineRoundingOncePerLine(t *testing.T) {
	d := usInvoice()
	if d.Lines[0].Amount.String() != "24.98" {
		t.Fatalf("fixture amount %s", d.Lines[0].Amount)
	}
	if _, err := XRechnung(d); err != nil {
		t.Fatal(err)
	}
	d.Lines[0].Amount, d.Net, d.Gross = dec("24.97"), dec("24.97"), dec("24.97")
	if _, err := XRechnung(d); !errors.Is(err, ErrInvalid) {
		t.Errorf("24.975 rounded down to 24.97 accepted: %v", err)
	}
}

// ublDoc is what the tests read back from the XML.
type ublDoc struct {
	XMLName  xml.Name
	ID       string `xml:"ID"`
	TypeCode string `xml:"InvoiceTypeCode"`
	CNCode   string `xml:"CreditNoteTypeCode"`
	DueDate  string `xml:"DueDate"`
	Custom   string `xml:"CustomizationID"`
	BuyerRef string `xml:"BuyerReference"`
	Billing  string `xml:"BillingReference>InvoiceDocumentReference>ID"`
	Seller   struct {
		VAT  []string `xml:"Party>PartyTaxScheme>CompanyID"`
		Name string   `xml:"Party>PartyLegalEntity>RegistrationName"`
	} `xml:"AccountingSupplierParty"`
	Buyer struct {
		Endpoint string   `xml:"Party>EndpointID"`
		VAT      []string `xml:"Party>PartyTaxScheme>CompanyID"`
		Name     string   `xml:"Party>PartyLegalEntity>RegistrationName"`
		Street   string   `xml:"Party>PostalAddress>StreetName"`
	} `xml:"AccountingCustomerParty"`
	Category string   `xml:"TaxTotal>TaxSubtotal>TaxCategory>ID"`
	Percent  string   `xml:"TaxTotal>TaxSubtotal>TaxCategory>Percent"`
	Exempt   string   `xml:"TaxTotal>TaxSubtotal>TaxCategory>TaxExemptionReasonCode"`
	Payable  string   `xml:"LegalMonetaryTotal>PayableAmount"`
	Lines    []string `xml:"InvoiceLine>LineExtensionAmount"`
	CNLines  []string `xml:"CreditNoteLine>LineExtensionAmount"`
	Prices   []string `xml:"InvoiceLine>Price>PriceAmount"`
	Names    []string `xml:"InvoiceLine>Item>Name"`
	IBAN     string   `xml:"PaymentMeans>PayeeFinancialAccount>ID"`
	Means    string   `xml:"PaymentMeans>PaymentMeansCode"`
}

func readUBL(t *testing.T, b []byte) ublDoc {
	t.Helper()
	var u ublDoc
	if err := xml.Unmarshal(b, &u); err != nil {
		t.Fatalf("XML does not parse: %v\n%s", err, b)
	}
	return u
}

func TestXRechnungContent(t *testing.T) {
	b, err := XRechnung(germanInvoice())
	if err != nil {
		t.Fatal(err)
	}
	u := readUBL(t, b)
	if u.XMLName.Local != "Invoice" || u.XMLName.Space != nsInvoice || u.TypeCode != "380" {
		t.Errorf("root %v type %q", u.XMLName, u.TypeCode)
	}
	if u.Custom != CustomizationID || u.ID != "2026-000123" || u.DueDate != "2026-12-15" || u.BuyerRef != "Kunde 42" {
		t.Errorf("header: %+v", u)
	}
	if u.Category != "S" || u.Percent != "19" || u.Payable != "167.27" {
		t.Errorf("tax %s %s payable %s", u.Category, u.Percent, u.Payable)
	}
	if strings.Join(u.Prices, " ") != "0.1131 0.0333 0.0526" || strings.Join(u.Lines, " ") != "139.57 0.10 0.89" {
		t.Errorf("prices %v amounts %v", u.Prices, u.Lines)
	}
	if u.Buyer.Name != "Müller & Söhne GmbH" || u.Buyer.Street != "Straße 5" || u.Buyer.Endpoint != "buchhaltung@mueller-soehne.example" {
		t.Errorf("buyer %+v", u.Buyer)
	}
	if u.Means != "58" || u.IBAN != "DE89370400440532013000" {
		t.Errorf("payment means %s %s", u.Means, u.IBAN)
	}

	b, _ = XRechnung(austrianInvoice())
	u = readUBL(t, b)
	if u.Category != "AE" || u.Percent != "0" || u.Exempt != "VATEX-EU-AE" || strings.Join(u.Buyer.VAT, ",") != "ATU12345678" {
		t.Errorf("reverse charge: %+v", u)
	}

	// Not subject to VAT: neither party's VAT ID (BR-O-02).
	b, _ = XRechnung(usInvoice())
	u = readUBL(t, b)
	if u.Category != "O" || u.Exempt != "VATEX-EU-O" || len(u.Buyer.VAT) != 0 {
		t.Errorf("outside EU: %+v", u)
	}
	for _, v := range u.Seller.VAT {
		if v == "DE123456789" {
			t.Error("outside-EU invoice names the seller's VAT ID")
		}
	}
	if bytes.Contains(b, []byte("<cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:PartyTaxScheme>")) {
		t.Error("outside-EU invoice has a party VAT scheme")
	}

	b, _ = XRechnung(creditNote())
	u = readUBL(t, b)
	if u.XMLName.Local != "CreditNote" || u.XMLName.Space != nsCreditNote || u.CNCode != "381" || u.Billing != "2026-000123" {
		t.Errorf("credit note: %+v", u)
	}
	if strings.Join(u.CNLines, " ") != "139.57 0.10 0.89" || u.Payable != "167.27" {
		t.Errorf("credit note amounts %v payable %s", u.CNLines, u.Payable)
	}
}

// A credit note given with negative amounts renders as the positive
// credit a UBL CreditNote carries.
func TestCreditNoteWithNegativeAmounts(t *testing.T) {
	pos := creditNote()
	neg := creditNote()
	neg.Lines = append([]Line(nil), pos.Lines...)
	for i := range neg.Lines {
		neg.Lines[i].Quantity = -neg.Lines[i].Quantity
		neg.Lines[i].Amount = neg.Lines[i].Amount.Neg()
	}
	neg.Net, neg.Tax, neg.Gross = pos.Net.Neg(), pos.Tax.Neg(), pos.Gross.Neg()
	a, err := XRechnung(pos)
	if err != nil {
		t.Fatal(err)
	}
	b, err := XRechnung(neg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("negative credit note differs from the positive one")
	}
}

// Without bank details the invoice still says how it is paid (payment
// means "not defined") and asks for no transfer.
func TestInvoiceWithoutBank(t *testing.T) {
	d := germanInvoice()
	d.Bank = Bank{}
	b, err := XRechnung(d)
	if err != nil {
		t.Fatal(err)
	}
	if u := readUBL(t, b); u.Means != "1" || u.IBAN != "" {
		t.Errorf("payment means %q iban %q", u.Means, u.IBAN)
	}
	text := pdfText(t, mustPDF(t, d))
	if strings.Contains(text, "Bitte überweisen") || strings.Contains(text, "IBAN") {
		t.Error("PDF asks for a transfer without an account")
	}
}

// An empty buyer reference (BT-10, mandatory in XRechnung) falls back to
// the document number.
func TestBuyerReferenceDefault(t *testing.T) {
	d := germanInvoice()
	d.BuyerReference = ""
	b, err := XRechnung(d)
	if err != nil {
		t.Fatal(err)
	}
	if u := readUBL(t, b); u.BuyerRef != d.Number {
		t.Errorf("buyer reference %q", u.BuyerRef)
	}
}

// go test ./invoicedoc -run XXX -bench . -benchmem
func BenchmarkPDF(b *testing.B) {
	d := germanInvoice()
	for b.Loop() {
		if _, err := PDF(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXRechnung(b *testing.B) {
	d := germanInvoice()
	for b.Loop() {
		if _, err := XRechnung(d); err != nil {
			b.Fatal(err)
		}
	}
}
