package invoicedoc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// ErrInvalid wraps every reason a Document cannot be rendered: the
// renderers refuse an inconsistent document instead of printing one an
// accountant or the e-invoice rules would reject.
var ErrInvalid = errors.New("invoicedoc: invalid document")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

var hundred = decimal.NewFromInt(100)

// prepare returns a cleaned copy of d (text made safe, codes upper-cased,
// a credit note given with negative amounts turned positive) and checks
// what both documents need: the kind, the number, the parties, the lines,
// and that the sums agree (line amount = quantity × unit price rounded
// once, half up, to the minor unit, net = Σ lines, tax = net × rate rounded, gross
// = net + tax).
func prepare(d Document) (Document, error) {
	d.Kind = strings.TrimSpace(d.Kind)
	if d.Kind == "" {
		d.Kind = KindInvoice
	}
	if d.Kind != KindInvoice && d.Kind != KindCreditNote {
		return d, invalid("kind %q is neither %q nor %q", d.Kind, KindInvoice, KindCreditNote)
	}
	d.Number = clean(d.Number, false)
	if d.Number == "" {
		return d, invalid("no document number")
	}
	if d.IssuedAt.IsZero() {
		return d, invalid("no issue date")
	}
	d.Currency = strings.ToUpper(strings.TrimSpace(d.Currency))
	if len(d.Currency) != 3 || strings.Trim(d.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return d, invalid("currency %q is not an ISO 4217 code", d.Currency)
	}
	d.Issuer = cleanParty(d.Issuer)
	d.Customer = cleanParty(d.Customer)
	if d.Issuer.Name == "" {
		return d, invalid("the issuer has no name")
	}
	if d.Customer.Name == "" {
		return d, invalid("the customer has no name")
	}
	if len(d.Issuer.Country) != 2 || len(d.Customer.Country) != 2 {
		return d, invalid("issuer and customer need an ISO 3166 country code")
	}
	d.Bank.AccountName = clean(d.Bank.AccountName, false)
	d.Bank.BankName = clean(d.Bank.BankName, false)
	d.Bank.IBAN = compact(d.Bank.IBAN)
	d.Bank.BIC = compact(d.Bank.BIC)
	d.PaymentTerms = clean(d.PaymentTerms, true)
	d.BuyerReference = clean(d.BuyerReference, false)
	d.Note = clean(d.Note, true)
	d.Corrects = clean(d.Corrects, false)
	if len(d.Lines) == 0 {
		return d, invalid("no lines")
	}
	if d.Kind == KindCreditNote {
		if d.Corrects == "" {
			return d, invalid("a credit note names the invoice it corrects")
		}
		if d.Gross.IsNegative() || d.Net.IsNegative() {
			d = negate(d)
		}
	}
	switch d.VAT {
	case VATStandard:
		if !d.VATRate.IsPositive() {
			return d, invalid("standard VAT needs a positive rate")
		}
		if d.Issuer.VATID == "" && d.Issuer.TaxNumber == "" {
			return d, invalid("the issuer needs a VAT ID or a tax number")
		}
	case VATReverseCharge:
		if !d.VATRate.IsZero() || !d.Tax.IsZero() {
			return d, invalid("reverse charge has rate and tax 0")
		}
		if d.Customer.VATID == "" {
			return d, invalid("reverse charge needs the customer's VAT ID")
		}
		if d.Issuer.VATID == "" {
			return d, invalid("reverse charge needs the issuer's VAT ID")
		}
	case VATOutsideEU:
		if !d.VATRate.IsZero() || !d.Tax.IsZero() {
			return d, invalid("a supply outside the EU has rate and tax 0")
		}
		if d.Issuer.VATID == "" && d.Issuer.TaxNumber == "" {
			return d, invalid("the issuer needs a VAT ID or a tax number")
		}
	default:
		return d, invalid("unknown VAT treatment %q", d.VAT)
	}
	digits := minorDigits(d.Currency)
	lines := make([]Line, len(d.Lines))
	sum := decimal.Zero
	for i, l := range d.Lines {
		l.Description = clean(l.Description, true)
		if l.Description == "" {
			l.Description = strings.TrimSpace(l.Category + " " + l.Country)
		}
		if l.Description == "" {
			return d, invalid("line %d has no description", i+1)
		}
		if l.Quantity < 0 || l.UnitPrice.IsNegative() || l.Amount.IsNegative() {
			return d, invalid("line %d: quantity, unit price and amount are not negative", i+1)
		}
		if scaleOf(l.Amount) > digits {
			return d, invalid("line %d: amount %s has more decimals than %s has", i+1, l.Amount, d.Currency)
		}
		exact := l.UnitPrice.Mul(decimal.NewFromInt(l.Quantity))
		if want := exact.Round(int32(digits)); !want.Equal(l.Amount) {
			return d, invalid("line %d: amount %s is not %d × %s rounded half up (%s)", i+1, l.Amount, l.Quantity, l.UnitPrice, want)
		}
		sum = sum.Add(l.Amount)
		lines[i] = l
	}
	d.Lines = lines
	for name, v := range map[string]decimal.Decimal{"net": d.Net, "tax": d.Tax, "gross": d.Gross} {
		if scaleOf(v) > digits {
			return d, invalid("%s %s has more decimals than %s has", name, v, d.Currency)
		}
	}
	if !sum.Equal(d.Net) {
		return d, invalid("net %s is not the sum of the lines %s", d.Net, sum)
	}
	if want := d.Net.Mul(d.VATRate).Div(hundred).Round(int32(digits)); !want.Equal(d.Tax) {
		return d, invalid("tax %s is not %s %% of %s (%s)", d.Tax, d.VATRate, d.Net, want)
	}
	if !d.Net.Add(d.Tax).Equal(d.Gross) {
		return d, invalid("gross %s is not net %s + tax %s", d.Gross, d.Net, d.Tax)
	}
	return d, nil
}

func cleanParty(p Party) Party {
	p.Name = clean(p.Name, false)
	p.Street = clean(p.Street, true)
	p.City = clean(p.City, false)
	p.Postcode = clean(p.Postcode, false)
	p.Country = strings.ToUpper(clean(p.Country, false))
	p.VATID = compact(p.VATID)
	p.TaxNumber = clean(p.TaxNumber, false)
	p.Registration = clean(p.Registration, false)
	p.ContactName = clean(p.ContactName, false)
	p.ContactPhone = clean(p.ContactPhone, false)
	p.ContactEmail = clean(p.ContactEmail, false)
	p.Email = clean(p.Email, false)
	return p
}

// negate turns a credit note given with negative amounts into the
// positive amounts a UBL CreditNote and the printed credit carry.
func negate(d Document) Document {
	lines := make([]Line, len(d.Lines))
	for i, l := range d.Lines {
		if l.Quantity < 0 {
			l.Quantity = -l.Quantity
		}
		l.UnitPrice = l.UnitPrice.Abs()
		l.Amount = l.Amount.Abs()
		lines[i] = l
	}
	d.Lines = lines
	d.Net, d.Tax, d.Gross = d.Net.Neg(), d.Tax.Neg(), d.Gross.Neg()
	return d
}
