package billing

import (
	"time"

	"github.com/shopspring/decimal"
)

// Invoice kinds, and states: draft → issued → paid | cancelled. A credit
// note is issued at once and stays issued.
const (
	KindInvoice    = "invoice"
	KindCreditNote = "credit_note"

	Draft     = "draft"
	Issued    = "issued"
	Paid      = "paid"
	Cancelled = "cancelled"
)

// Document kinds stored beside an issued invoice.
const (
	DocPDF = "pdf"
	DocXML = "xml"
)

// UsageRecord is one judged message: billable or not, with the price of
// the card in force when it was delivered. One per message, ever.
type UsageRecord struct {
	MessageID  int64 `gorm:"primaryKey"`
	BusinessID int64
	// Category is the message's category; PriceCategory the card
	// category it was priced by (service beyond the free ones: utility).
	Category      string
	PriceCategory string
	Country       string // the recipient's country ("" unknown)
	PriceCountry  string // the card row that applied ("" the default)
	UnitPrice     decimal.Decimal
	Cost          decimal.NullDecimal
	Currency      string
	CardID        *int64
	Rule          string
	PlatformType  string
	Disagrees     bool
	Billable      bool
	BilledAt      time.Time // delivered (or read without delivered)
	Day           string    // YYYY-MM-DD of BilledAt in the business's time zone
	Period        string    // YYYY-MM: the invoice period it belongs to
	CreatedAt     time.Time
}

// TableName is the usage table.
func (UsageRecord) TableName() string { return "usage_records" }

// Disagreement is a message whose platform pricing.type contradicted our
// dated rule (the platform's word was used).
type Disagreement struct {
	MessageID    int64
	BusinessID   int64
	BusinessName string
	Category     string
	PlatformType string
	Rule         string
	Billable     bool // as billed (the platform's word)
	BilledAt     time.Time
}

// CategoryUsage is one category's messages and amount in a span.
type CategoryUsage struct {
	Category string
	Messages int64 // billable messages
	Free     int64 // judged free
	Amount   decimal.Decimal
}

// MonthUsage is the month to date of one business.
type MonthUsage struct {
	Month      string // YYYY-MM in the business's time zone
	From, To   time.Time
	Currency   string
	Total      decimal.Decimal
	Messages   int64
	ByCategory []CategoryUsage // in Categories order, every category present
}

// DayUsage is one day × category (days in the business's time zone).
type DayUsage struct {
	Day      string // YYYY-MM-DD
	Category string
	Messages int64
	Amount   decimal.Decimal
}

// UsageQuery selects usage lines: those of one invoice (InvoiceID), or
// of one month (Month, YYYY-MM, by delivery day).
type UsageQuery struct {
	InvoiceID int64
	Month     string
}

// UsageLine is one usage record for a CSV/XLSX export.
type UsageLine struct {
	MessageID    int64
	BilledAt     time.Time
	Day          string
	Category     string
	Country      string
	To           string
	Template     string
	UnitPrice    decimal.Decimal
	Currency     string
	Billable     bool
	Rule         string
	PlatformType string
	Period       string
}

// Invoice is an invoice or a credit note with its snapshot of customer
// and issuer, its VAT treatment and totals.
type Invoice struct {
	ID          int64
	BusinessID  int64
	Kind        string
	State       string
	Number      *string
	Series      string
	Year        int
	Seq         *int64
	Period      string    // YYYY-MM
	PeriodStart time.Time // first day of supply (a date, UTC midnight)
	PeriodEnd   time.Time // last day of supply (inclusive, UTC midnight)
	TimeZone    string
	Currency    string
	// The customer as at build (from the legal profile).
	CustomerName    string
	CustomerAddress string
	CustomerCountry string
	CustomerVATID   string `gorm:"column:customer_vat_id"`
	CustomerEmail   string
	Language        string // "en" or "de"
	// Issuer is the platform's issuer settings as at issue (JSON).
	Issuer       string
	VATTreatment string          `gorm:"column:vat_treatment"`
	VATRate      decimal.Decimal `gorm:"column:vat_rate"`
	Net          decimal.Decimal
	Tax          decimal.Decimal
	Gross        decimal.Decimal
	Note         string
	Reason       string // a credit note's reason
	CorrectsID   *int64
	IssuedAt     *time.Time
	DueAt        *time.Time
	PaidAt       *time.Time
	CancelledAt  *time.Time
	CreatedAt    time.Time
	Lines        []InvoiceLine `gorm:"foreignKey:InvoiceID"`
}

// TableName is the invoices' table.
func (Invoice) TableName() string { return "invoices" }

// NumberOr is the number, or "" for a draft.
func (i *Invoice) NumberOr() string {
	if i.Number == nil {
		return ""
	}
	return *i.Number
}

// InvoiceLine is messages of one category to one country at one price.
type InvoiceLine struct {
	ID          int64
	InvoiceID   int64
	Position    int
	Category    string
	Country     string
	Description string
	Quantity    int64
	UnitPrice   decimal.Decimal
	Amount      decimal.Decimal
}

// TableName is the lines' table.
func (InvoiceLine) TableName() string { return "invoice_lines" }

// InvoiceFilter narrows a business's invoices.
type InvoiceFilter struct {
	State    string // "" any
	Kind     string // "" any
	BeforeID int64  // keyset: older than this id
	Limit    int    // default 50, at most 200
}

// AdminFilter narrows all invoices.
type AdminFilter struct {
	State      string
	Kind       string
	BusinessID int64
	Month      string // YYYY-MM: the period
	BeforeID   int64
	Limit      int
}

// InvoiceRow is an invoice with its business's name (administrators).
type InvoiceRow struct {
	Invoice
	BusinessName string
}

// BusinessMonth is a business's period waiting for its invoice.
type BusinessMonth struct {
	BusinessID int64
	Period     string
}

// MonthRevenue is one period's invoiced amounts in one currency: issued
// (and paid) invoices, minus credit notes.
type MonthRevenue struct {
	Month       string
	Currency    string
	Invoices    int
	CreditNotes int
	Net         decimal.Decimal // invoices' net minus credit notes' net
	Tax         decimal.Decimal
	Gross       decimal.Decimal
	Paid        decimal.Decimal // gross of paid invoices
	Cost        decimal.Decimal // the platform's cost of the invoiced messages, where cards had it
}

// BusinessMargin is one business's price, cost and margin in a period.
type BusinessMargin struct {
	BusinessID   int64
	BusinessName string
	Currency     string
	Messages     int64
	Revenue      decimal.Decimal // unrounded sum of unit prices
	Cost         decimal.Decimal
	Margin       decimal.Decimal
	// CostUnknown counts billable messages whose card had no cost.
	CostUnknown int64
}

// CardInput is a new rate card as an administrator enters it.
type CardInput struct {
	Name          string
	Currency      string
	EffectiveFrom time.Time
	Note          string
	Prices        []PriceInput
}

// PriceInput is one price row: category, country ("" the default),
// price and optional cost as typed. Problems name the field
// "prices[i].price", "prices[i].cost" or "prices[i].country".
type PriceInput struct {
	Category string
	Country  string
	Price    string
	Cost     string
}

// IssuerSettings is the platform as invoice issuer (one row).
type IssuerSettings struct {
	Name             string
	Street           string // address lines, "\n"-separated
	Postcode         string
	City             string
	Country          string
	VATID            string `gorm:"column:vat_id"`
	TaxNumber        string
	Registration     string // commercial register entry (optional), e.g. "HRB 123456 B, Amtsgericht Charlottenburg"
	ContactName      string
	ContactPhone     string
	ContactEmail     string
	BankAccountName  string
	IBAN             string `gorm:"column:iban"`
	BIC              string `gorm:"column:bic"`
	BankName         string
	PaymentTermsDays int
	BuyerReference   string // default BT-10 when the customer gave none
	UpdatedAt        *time.Time
}

// SettingsInput is the issuer form as typed. Fields as in
// IssuerSettings; problems name the snake_case field (vat_id, iban, …).
type SettingsInput struct {
	Name             string
	Street           string
	Postcode         string
	City             string
	Country          string
	VATID            string
	TaxNumber        string
	Registration     string
	ContactName      string
	ContactPhone     string
	ContactEmail     string
	BankAccountName  string
	IBAN             string
	BIC              string
	BankName         string
	PaymentTermsDays string
	BuyerReference   string
}
