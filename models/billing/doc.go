package billing

// The billing API (schema 18), as the web layer and the month-end use it.
// Every function wraps its errors with models.Wrap; tenant-scoped ones
// return models.ErrNotFound for another business's rows; input problems
// are *models.ValidationError with keys in i18n/locales/en/billing.json.
//
// Charging (usage.go)
//
//	func Charge(ctx context.Context, db *models.DB, now time.Time) (n int, err error)
//	func ChargeAll(ctx context.Context, db *models.DB, now time.Time) (n int, err error)
//	func Disagreements(ctx context.Context, db *models.DB, limit int) ([]Disagreement, error)
//
// Spend and usage for staff (spend.go)
//
//	type Spending struct{ DB *models.DB }
//	func (s Spending) SpentInMonth(ctx context.Context, businessID int64, at time.Time) (decimal.Decimal, error)
//	func MonthToDate(ctx context.Context, tn models.Tenant, at time.Time) (MonthUsage, error)
//	func Daily(ctx context.Context, tn models.Tenant, from, to time.Time) ([]DayUsage, error)
//	func UsageLines(ctx context.Context, tn models.Tenant, q UsageQuery) ([]UsageLine, error)
//	func EachUsageLine(ctx context.Context, tn models.Tenant, q UsageQuery, fn func(UsageLine) error) error
//	func BusinessZone(ctx context.Context, db *models.DB, businessID int64) *time.Location
//
// Invoices (invoice.go, numbering.go, vat.go, document.go)
//
//	func BuildMonth(ctx context.Context, db *models.DB, businessID int64, period string, now time.Time) (*Invoice, error)
//	func PendingMonths(ctx context.Context, db *models.DB, now time.Time) ([]BusinessMonth, error)
//	func Drafts(ctx context.Context, db *models.DB) ([]int64, error)
//	func MonthEnded(ctx context.Context, db *models.DB, businessID int64, period string, now time.Time) bool
//	func Issue(ctx context.Context, db *models.DB, id int64, now time.Time) (*Invoice, error)
//	func IssueMany(ctx context.Context, db *models.DB, ids []int64, now time.Time) (issued int, err error)
//	func DiscardDraft(ctx context.Context, db *models.DB, actor *models.User, id int64, ip string) error
//	func MarkPaid(ctx context.Context, db *models.DB, actor *models.User, id int64, ip string) error
//	func CancelWithCreditNote(ctx context.Context, db *models.DB, actor *models.User, id int64, reason, ip string) (*Invoice, error)
//	func Invoices(ctx context.Context, tn models.Tenant, f InvoiceFilter) ([]Invoice, error)
//	func InvoiceByID(ctx context.Context, tn models.Tenant, id int64) (*Invoice, error)
//	func AllInvoices(ctx context.Context, db *models.DB, f AdminFilter) ([]InvoiceRow, error)
//	func AdminInvoice(ctx context.Context, db *models.DB, id int64) (*InvoiceRow, error)
//	func DocumentOf(ctx context.Context, tn models.Tenant, invoiceID int64, kind string) ([]byte, error)
//	func AdminDocumentOf(ctx context.Context, db *models.DB, invoiceID int64, kind string) ([]byte, error)
//	func RevenueByMonth(ctx context.Context, db *models.DB, year int) ([]MonthRevenue, error)
//	func MarginByBusiness(ctx context.Context, db *models.DB, period string) ([]BusinessMargin, error)
//	func ToDocument(inv *Invoice, corrected *Invoice) (invoicedoc.Document, error)
//	var Documents Renderer // invoicedoc.PDF and invoicedoc.XRechnung (render.go)
//	func VATFor(country, vatID string) (treatment string, rate decimal.Decimal)
//	func VATNote(treatment, lang string) string
//	func LanguageFor(country string) string
//	func LineAmount(quantity int64, unit decimal.Decimal, currency string) decimal.Decimal
//	func LineDescription(category, country, lang string) string
//	func FormatNumber(kind string, year int, seq int64) string
//	func NextPeriod(period string) string
//	func PeriodBounds(period string, loc *time.Location) (from, to time.Time, err error)
//
// Errors: ErrWrongState (matches models.ErrConflict), ErrIssuerIncomplete,
// ErrNoRenderer, ErrMixedCurrency, ErrMonthOpen; i18n keys billing.error.*.
//
// Rate cards and issuer settings (cards.go, settings.go)
//
//	func Cards(ctx context.Context, db *models.DB) ([]Card, error)
//	func SaveCard(ctx context.Context, db *models.DB, actor *models.User, in CardInput, ip string) (*Card, error)
//	func Settings(ctx context.Context, db *models.DB) (IssuerSettings, error)
//	func SaveSettings(ctx context.Context, db *models.DB, actor *models.User, in SettingsInput, ip string) (IssuerSettings, error)
//	func (s IssuerSettings) Complete() bool
//	func ValidIBAN(iban string) bool
//
// The month-end engine (package invoicing) calls Charge, PendingMonths,
// BuildMonth and Issue; administrators reach it through
// invoicing.Engine.RunMonth(ctx, month) and Engine.Issue(ctx, id).
