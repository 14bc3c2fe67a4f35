package invoicedoc

import (
	"bytes"
	"encoding/xml"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Identifiers of the XRechnung 3.0 UBL document.
const (
	CustomizationID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
	ProfileID       = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

	nsInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
	nsCAC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
	nsCBC        = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

	// unitCode of a line's quantity: UN/ECE Rec. 20 "one" (a message).
	unitOne = "C62"
)

// XRechnung renders d as an XRechnung 3.0 UBL 2.1 document: an Invoice
// (type code 380) or a CreditNote (381) naming the invoice it corrects
// (BT-25/BT-26). It passes CEN's EN 16931 and KoSIT's XRechnung rules
// for the three VAT treatments (S 19 %, AE reverse charge, O not subject
// to VAT); the elements come in the order of the UBL 2.1 schemas.
//
// Amounts carry the currency's two decimals; a unit price (BT-146) keeps
// the decimals of the rate card (EN 16931 limits the decimals of amounts,
// BR-DEC-*, not of prices) with no base quantity (BT-149), so each line
// net amount (BT-131) is quantity × price rounded once, half up, to the
// cent: the calculation EN 16931 describes for BT-131, to within its
// rounding. The CEN and KoSIT rules check the sums above the lines
// (BR-CO-10 … BR-CO-17), which hold exactly.
func XRechnung(d Document) ([]byte, error) {
	d, err := prepare(d)
	if err != nil {
		return nil, err
	}
	if minorDigits(d.Currency) > 2 {
		return nil, invalid("XRechnung amounts have at most 2 decimals; %s has more", d.Currency)
	}
	// What XRechnung requires beyond what both documents need (BR-DE-*).
	is, cu := d.Issuer, d.Customer
	switch {
	case is.City == "" || is.Postcode == "":
		return nil, invalid("the issuer's address needs a city and a postcode (BR-DE-3/4)")
	case cu.City == "" || cu.Postcode == "":
		return nil, invalid("the customer's address needs a city and a postcode (BR-DE-8/9)")
	case is.ContactName == "" || is.ContactPhone == "" || is.ContactEmail == "":
		return nil, invalid("the issuer's contact needs a name, a phone number and an e-mail address (BR-DE-5/6/7)")
	}
	if d.Kind == KindInvoice && d.DueAt.IsZero() && d.PaymentTerms == "" && d.Gross.IsPositive() {
		return nil, invalid("an invoice needs a due date or payment terms (BR-CO-25)")
	}

	u := ublDocument{
		XMLNS:            nsInvoice,
		CAC:              nsCAC,
		CBC:              nsCBC,
		CustomizationID:  CustomizationID,
		ProfileID:        ProfileID,
		ID:               d.Number,
		IssueDate:        xmlDate(d.IssuedAt),
		DocumentCurrency: d.Currency,
		BuyerReference:   d.BuyerReference,
	}
	if u.BuyerReference == "" {
		// BT-10 is mandatory in XRechnung; without the customer's own
		// reference the document number is the stated default.
		u.BuyerReference = d.Number
	}
	tl := labelsFor(d.Language)
	if n := tl.legalNote(d); n != "" {
		u.Notes = append(u.Notes, n)
	}
	if d.Kind == KindCreditNote {
		u.XMLName = xml.Name{Local: "CreditNote"}
		u.XMLNS = nsCreditNote
		u.CreditNoteTypeCode = "381"
		if d.Corrects != "" {
			u.Notes = append(u.Notes, tl.corrected(d))
		}
	} else {
		u.XMLName = xml.Name{Local: "Invoice"}
		u.InvoiceTypeCode = "380"
		u.DueDate = xmlDate(d.DueAt)
	}
	if !d.PeriodStart.IsZero() || !d.PeriodEnd.IsZero() {
		u.InvoicePeriod = &ublPeriod{StartDate: xmlDate(d.PeriodStart), EndDate: xmlDate(d.PeriodEnd)}
	}
	if d.Corrects != "" {
		u.BillingReference = &ublBillingReference{InvoiceDocumentReference: ublDocRef{ID: d.Corrects, IssueDate: xmlDate(d.CorrectsDate)}}
	}

	cat := taxCategory(d)
	u.Supplier.Party = ublParty(is, d.VAT != VATOutsideEU)
	if d.VAT == VATOutsideEU && is.Registration == "" {
		// BR-CO-26 wants the seller identified; BR-O-02 forbids its VAT
		// ID on this invoice, so the ID (or the tax number) is given as
		// the seller identifier (BT-29).
		id := is.TaxNumber
		if id == "" {
			id = is.VATID
		}
		if id != "" {
			u.Supplier.Party.Identification = &ublPartyID{ID: id}
		}
	}
	u.Supplier.Party.Contact = &ublContact{Name: is.ContactName, Telephone: is.ContactPhone, ElectronicMail: is.ContactEmail}
	u.Customer.Party = ublParty(cu, d.VAT != VATOutsideEU)
	// The customer's tax number means nothing in a German invoice.
	u.Customer.Party.TaxSchemes = dropNonVAT(u.Customer.Party.TaxSchemes)

	pm := ublPaymentMeans{PaymentID: d.Number}
	switch {
	case d.Kind == KindCreditNote:
		// The credit is settled by refund or set-off, to no account of
		// the issuer's: "instrument not defined".
		pm.Code = ublCode{Value: "1"}
		pm.PaymentDueDate = xmlDate(d.DueAt)
	case d.Bank.IBAN != "":
		pm.Code = ublCode{Name: "SEPA credit transfer", Value: "58"}
		acct := &ublFinancialAccount{ID: d.Bank.IBAN, Name: d.Bank.AccountName}
		if d.Bank.BIC != "" {
			acct.Branch = &ublBranch{ID: d.Bank.BIC}
		}
		pm.PayeeAccount = acct
	default:
		pm.Code = ublCode{Value: "1"}
	}
	u.PaymentMeans = &pm
	if t := xmlPaymentTerms(d.PaymentTerms); t != "" {
		u.PaymentTerms = &ublNote{Note: t}
	}

	cur := d.Currency
	sub := ublTaxSubtotal{
		TaxableAmount: amount(d.Net, cur),
		TaxAmount:     amount(d.Tax, cur),
		Category:      cat,
	}
	u.TaxTotal = ublTaxTotal{TaxAmount: amount(d.Tax, cur), Subtotals: []ublTaxSubtotal{sub}}
	u.Totals = ublTotals{
		LineExtension: amount(d.Net, cur),
		TaxExclusive:  amount(d.Net, cur),
		TaxInclusive:  amount(d.Gross, cur),
		Payable:       amount(d.Gross, cur),
	}
	lineCat := ublTaxCategory{ID: cat.ID, Percent: cat.Percent, Scheme: cat.Scheme}
	if cat.ID == "O" {
		lineCat.Percent = "" // BR-O-05: no rate on a line not subject to VAT
	}
	for i, l := range d.Lines {
		q := &ublQuantity{Unit: unitOne, Value: decimal.NewFromInt(l.Quantity).String()}
		name := strings.ReplaceAll(l.Description, "\n", " ")
		ln := ublLine{
			ID:            itoa(i + 1),
			LineExtension: amount(l.Amount, cur),
			Item:          ublItem{Name: name, TaxCategory: lineCat},
			Price:         ublPrice{Amount: ublAmount{Currency: cur, Value: l.UnitPrice.StringFixed(int32(priceScale(l.UnitPrice, cur)))}},
		}
		if name != l.Description {
			ln.Item.Description = l.Description
		}
		if l.Category != "" {
			ln.Item.SellersID = &ublIDOnly{ID: clean(strings.TrimSuffix(l.Category+"-"+l.Country, "-"), false)}
		}
		if d.Kind == KindCreditNote {
			ln.CreditedQuantity = q
			u.CreditNoteLines = append(u.CreditNoteLines, ln)
		} else {
			ln.InvoicedQuantity = q
			u.InvoiceLines = append(u.InvoiceLines, ln)
		}
	}

	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(u); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// taxCategory is the VAT breakdown's category: S with the rate, AE with
// rate 0 and the reverse-charge exemption, O with rate 0 (XRechnung's
// BR-DE-14 wants a rate on every breakdown) and the not-subject reason.
func taxCategory(d Document) ublTaxCategory {
	c := ublTaxCategory{Percent: d.VATRate.String(), Scheme: ublIDOnly{ID: "VAT"}}
	switch d.VAT {
	case VATReverseCharge:
		c.ID, c.Percent = "AE", "0"
		c.ExemptionCode, c.ExemptionReason = "VATEX-EU-AE", "Reverse charge"
	case VATOutsideEU:
		c.ID, c.Percent = "O", "0"
		c.ExemptionCode, c.ExemptionReason = "VATEX-EU-O", "Not subject to VAT"
	default:
		c.ID = "S"
	}
	return c
}

// ublParty maps a party; withVAT false leaves out its VAT ID (BR-O-02:
// an invoice not subject to VAT names neither party's VAT ID).
func ublParty(p Party, withVAT bool) ublPartyT {
	out := ublPartyT{LegalEntity: ublLegalEntity{RegistrationName: p.Name, CompanyID: p.Registration}}
	email := p.Email
	if email == "" {
		email = p.ContactEmail
	}
	if email != "" {
		out.Endpoint = &ublEndpoint{Scheme: "EM", Value: email}
	}
	lines := splitLines(p.Street)
	addr := ublAddress{City: p.City, PostalZone: p.Postcode, Country: ublCountry{Code: p.Country}}
	if len(lines) > 0 {
		addr.Street = lines[0]
	}
	if len(lines) > 1 {
		addr.AdditionalStreet = lines[1]
	}
	if len(lines) > 2 {
		addr.Line = &ublAddressLine{Line: strings.Join(lines[2:], ", ")}
	}
	out.Address = addr
	if withVAT && p.VATID != "" {
		out.TaxSchemes = append(out.TaxSchemes, ublPartyTaxScheme{CompanyID: p.VATID, Scheme: ublIDOnly{ID: "VAT"}})
	}
	if p.TaxNumber != "" {
		// BT-32, the seller's tax registration (Steuernummer).
		out.TaxSchemes = append(out.TaxSchemes, ublPartyTaxScheme{CompanyID: p.TaxNumber, Scheme: ublIDOnly{ID: "FC"}})
	}
	return out
}

func dropNonVAT(in []ublPartyTaxScheme) []ublPartyTaxScheme {
	var out []ublPartyTaxScheme
	for _, s := range in {
		if s.Scheme.ID == "VAT" {
			out = append(out, s)
		}
	}
	return out
}

// xmlPaymentTerms keeps the terms but takes the "#" off lines starting
// with it: XRechnung reads such lines as Skonto instructions (BR-DE-18)
// and rejects any that are not.
func xmlPaymentTerms(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(strings.TrimLeft(l, "# "))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func (l *labels) corrected(d Document) string {
	return sprintf(l.corrects, d.Corrects, l.date(d.CorrectsDate))
}

func xmlDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

func amount(v decimal.Decimal, currency string) ublAmount {
	return ublAmount{Currency: currency, Value: v.StringFixed(2)}
}

// UBL 2.1 elements, in schema order. Prefixed names are written as they
// are; the root declares the prefixes.
type ublDocument struct {
	XMLName            xml.Name
	XMLNS              string               `xml:"xmlns,attr"`
	CAC                string               `xml:"xmlns:cac,attr"`
	CBC                string               `xml:"xmlns:cbc,attr"`
	CustomizationID    string               `xml:"cbc:CustomizationID"`
	ProfileID          string               `xml:"cbc:ProfileID"`
	ID                 string               `xml:"cbc:ID"`
	IssueDate          string               `xml:"cbc:IssueDate"`
	DueDate            string               `xml:"cbc:DueDate,omitempty"`
	InvoiceTypeCode    string               `xml:"cbc:InvoiceTypeCode,omitempty"`
	CreditNoteTypeCode string               `xml:"cbc:CreditNoteTypeCode,omitempty"`
	Notes              []string             `xml:"cbc:Note"`
	DocumentCurrency   string               `xml:"cbc:DocumentCurrencyCode"`
	BuyerReference     string               `xml:"cbc:BuyerReference"`
	InvoicePeriod      *ublPeriod           `xml:"cac:InvoicePeriod"`
	BillingReference   *ublBillingReference `xml:"cac:BillingReference"`
	Supplier           ublPartyWrap         `xml:"cac:AccountingSupplierParty"`
	Customer           ublPartyWrap         `xml:"cac:AccountingCustomerParty"`
	PaymentMeans       *ublPaymentMeans     `xml:"cac:PaymentMeans"`
	PaymentTerms       *ublNote             `xml:"cac:PaymentTerms"`
	TaxTotal           ublTaxTotal          `xml:"cac:TaxTotal"`
	Totals             ublTotals            `xml:"cac:LegalMonetaryTotal"`
	InvoiceLines       []ublLine            `xml:"cac:InvoiceLine"`
	CreditNoteLines    []ublLine            `xml:"cac:CreditNoteLine"`
}

type ublPeriod struct {
	StartDate string `xml:"cbc:StartDate,omitempty"`
	EndDate   string `xml:"cbc:EndDate,omitempty"`
}

type ublBillingReference struct {
	InvoiceDocumentReference ublDocRef `xml:"cac:InvoiceDocumentReference"`
}

type ublDocRef struct {
	ID        string `xml:"cbc:ID"`
	IssueDate string `xml:"cbc:IssueDate,omitempty"`
}

type ublPartyWrap struct {
	Party ublPartyT `xml:"cac:Party"`
}

type ublPartyT struct {
	Endpoint       *ublEndpoint        `xml:"cbc:EndpointID"`
	Identification *ublPartyID         `xml:"cac:PartyIdentification"`
	Address        ublAddress          `xml:"cac:PostalAddress"`
	TaxSchemes     []ublPartyTaxScheme `xml:"cac:PartyTaxScheme"`
	LegalEntity    ublLegalEntity      `xml:"cac:PartyLegalEntity"`
	Contact        *ublContact         `xml:"cac:Contact"`
}

type ublEndpoint struct {
	Scheme string `xml:"schemeID,attr"`
	Value  string `xml:",chardata"`
}

type ublAddress struct {
	Street           string          `xml:"cbc:StreetName,omitempty"`
	AdditionalStreet string          `xml:"cbc:AdditionalStreetName,omitempty"`
	City             string          `xml:"cbc:CityName,omitempty"`
	PostalZone       string          `xml:"cbc:PostalZone,omitempty"`
	Line             *ublAddressLine `xml:"cac:AddressLine"`
	Country          ublCountry      `xml:"cac:Country"`
}

type ublAddressLine struct {
	Line string `xml:"cbc:Line"`
}

type ublCountry struct {
	Code string `xml:"cbc:IdentificationCode"`
}

type ublPartyTaxScheme struct {
	CompanyID string    `xml:"cbc:CompanyID"`
	Scheme    ublIDOnly `xml:"cac:TaxScheme"`
}

type ublIDOnly struct {
	ID string `xml:"cbc:ID"`
}

type ublLegalEntity struct {
	RegistrationName string `xml:"cbc:RegistrationName"`
	CompanyID        string `xml:"cbc:CompanyID,omitempty"`
}

type ublPartyID struct {
	ID string `xml:"cbc:ID"`
}

type ublContact struct {
	Name           string `xml:"cbc:Name,omitempty"`
	Telephone      string `xml:"cbc:Telephone,omitempty"`
	ElectronicMail string `xml:"cbc:ElectronicMail,omitempty"`
}

type ublPaymentMeans struct {
	Code           ublCode              `xml:"cbc:PaymentMeansCode"`
	PaymentDueDate string               `xml:"cbc:PaymentDueDate,omitempty"`
	PaymentID      string               `xml:"cbc:PaymentID,omitempty"`
	PayeeAccount   *ublFinancialAccount `xml:"cac:PayeeFinancialAccount"`
}

type ublCode struct {
	Name  string `xml:"name,attr,omitempty"`
	Value string `xml:",chardata"`
}

type ublFinancialAccount struct {
	ID     string     `xml:"cbc:ID"`
	Name   string     `xml:"cbc:Name,omitempty"`
	Branch *ublBranch `xml:"cac:FinancialInstitutionBranch"`
}

type ublBranch struct {
	ID string `xml:"cbc:ID"`
}

type ublNote struct {
	Note string `xml:"cbc:Note"`
}

type ublAmount struct {
	Currency string `xml:"currencyID,attr"`
	Value    string `xml:",chardata"`
}

type ublTaxTotal struct {
	TaxAmount ublAmount        `xml:"cbc:TaxAmount"`
	Subtotals []ublTaxSubtotal `xml:"cac:TaxSubtotal"`
}

type ublTaxSubtotal struct {
	TaxableAmount ublAmount      `xml:"cbc:TaxableAmount"`
	TaxAmount     ublAmount      `xml:"cbc:TaxAmount"`
	Category      ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublTaxCategory struct {
	ID              string    `xml:"cbc:ID"`
	Percent         string    `xml:"cbc:Percent,omitempty"`
	ExemptionCode   string    `xml:"cbc:TaxExemptionReasonCode,omitempty"`
	ExemptionReason string    `xml:"cbc:TaxExemptionReason,omitempty"`
	Scheme          ublIDOnly `xml:"cac:TaxScheme"`
}

type ublTotals struct {
	LineExtension ublAmount `xml:"cbc:LineExtensionAmount"`
	TaxExclusive  ublAmount `xml:"cbc:TaxExclusiveAmount"`
	TaxInclusive  ublAmount `xml:"cbc:TaxInclusiveAmount"`
	Payable       ublAmount `xml:"cbc:PayableAmount"`
}

type ublLine struct {
	ID               string       `xml:"cbc:ID"`
	InvoicedQuantity *ublQuantity `xml:"cbc:InvoicedQuantity"`
	CreditedQuantity *ublQuantity `xml:"cbc:CreditedQuantity"`
	LineExtension    ublAmount    `xml:"cbc:LineExtensionAmount"`
	Item             ublItem      `xml:"cac:Item"`
	Price            ublPrice     `xml:"cac:Price"`
}

type ublQuantity struct {
	Unit  string `xml:"unitCode,attr"`
	Value string `xml:",chardata"`
}

type ublItem struct {
	Description string         `xml:"cbc:Description,omitempty"`
	Name        string         `xml:"cbc:Name"`
	SellersID   *ublIDOnly     `xml:"cac:SellersItemIdentification"`
	TaxCategory ublTaxCategory `xml:"cac:ClassifiedTaxCategory"`
}

type ublPrice struct {
	Amount ublAmount `xml:"cbc:PriceAmount"`
}
