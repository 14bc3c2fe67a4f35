package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/optline/optline/invoicedoc"
	"github.com/optline/optline/models"
)

// Errors of the invoice workflow (all match models.ErrConflict but
// ErrIssuerIncomplete and ErrNoRenderer).
var (
	ErrWrongState       = fmt.Errorf("%w: the invoice is not in a state that allows this", models.ErrConflict)
	ErrIssuerIncomplete = errors.New("billing: the issuer settings are incomplete (Admin → Billing → Settings)")
	ErrNoRenderer       = errors.New("billing: no document renderer configured")
	ErrMixedCurrency    = errors.New("billing: a month's usage is in more than one currency")
	ErrMonthOpen        = fmt.Errorf("%w: the month has not ended yet", models.ErrConflict)
)

// customer is what an invoice snapshots of the business's legal profile.
type customer struct {
	BusinessName      string
	LegalName         string
	RegisteredAddress string
	Country           string
	VATID             string `gorm:"column:vat_id"`
	BillingEmail      string
	TimeZone          string
}

func loadCustomer(ctx context.Context, tx *gorm.DB, businessID int64) (customer, error) {
	var c customer
	err := tx.WithContext(ctx).Raw(`SELECT b.name AS business_name, COALESCE(p.legal_name, '') AS legal_name,
			COALESCE(p.registered_address, '') AS registered_address, COALESCE(p.country, '') AS country,
			COALESCE(p.vat_id, '') AS vat_id, COALESCE(p.billing_email, '') AS billing_email,
			COALESCE(p.time_zone, 'UTC') AS time_zone
		FROM businesses b LEFT JOIN business_profiles p ON p.business_id = b.id WHERE b.id = ?`, businessID).Scan(&c).Error
	if err == nil && c.BusinessName == "" && c.LegalName == "" {
		err = models.ErrNotFound
	}
	return c, err
}

func lockCharges(tx *gorm.DB, d models.Dialect) error {
	if d == models.Postgres {
		return tx.Exec(`SELECT pg_advisory_xact_lock(?)`, chargeLock).Error
	}
	return nil
}

type lineAgg struct {
	Category     string
	PriceCountry string
	UnitPrice    decimal.Decimal
	Currency     string
	N            int64
}

// BuildMonth makes the draft invoice of a business for period (YYYY-MM)
// from its billable usage records of that period: one line per category,
// country (of the price) and unit price, each amount rounded once; VAT by
// the customer's country (VATFor). It returns nil, nil when the month
// already has an invoice (in any state: a late record goes to the next
// month) or has no billable usage, or its net is zero. It takes the same
// lock as Charge, so no record lands in the period while it is built.
func BuildMonth(ctx context.Context, db *models.DB, businessID int64, period string, now time.Time) (*Invoice, error) {
	if _, err := time.Parse("2006-01", period); err != nil {
		return nil, models.Invalid("month", "billing.month.invalid")
	}
	var built *Invoice
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		if err := lockCharges(tx, db.Dialect); err != nil {
			return err
		}
		var n int64
		if err := tx.Table("invoices").Where("business_id = ? AND period = ? AND kind = ?", businessID, period, KindInvoice).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		var aggs []lineAgg
		if err := tx.Raw(`SELECT category, price_country, unit_price, currency, COUNT(*) AS n FROM usage_records
			WHERE business_id = ? AND period = ? AND billable GROUP BY category, price_country, unit_price, currency`,
			businessID, period).Scan(&aggs).Error; err != nil {
			return err
		}
		if len(aggs) == 0 {
			return nil
		}
		cust, err := loadCustomer(ctx, tx, businessID)
		if err != nil {
			return err
		}
		inv, err := draftOf(businessID, period, cust, aggs, now)
		if err != nil || inv == nil {
			return err
		}
		if err := tx.Omit("Lines").Create(inv).Error; err != nil {
			return err
		}
		for i := range inv.Lines {
			inv.Lines[i].InvoiceID = inv.ID
		}
		if err := tx.CreateInBatches(&inv.Lines, 100).Error; err != nil {
			return err
		}
		built = inv
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, nil // another process built it a moment ago
	}
	if err != nil {
		return nil, models.Wrap("billing.BuildMonth", err)
	}
	return built, nil
}

// draftOf computes a draft from the grouped usage.
func draftOf(businessID int64, period string, c customer, aggs []lineAgg, now time.Time) (*Invoice, error) {
	currency := aggs[0].Currency
	for _, a := range aggs {
		if a.Currency != currency {
			return nil, ErrMixedCurrency
		}
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		loc, c.TimeZone = time.UTC, "UTC"
	}
	start, _ := time.Parse("2006-01", period)
	end := start.AddDate(0, 1, -1)
	_ = loc
	lang := LanguageFor(c.Country)
	treatment, rate := VATFor(c.Country, c.VATID)
	name := c.LegalName
	if name == "" {
		name = c.BusinessName
	}
	inv := &Invoice{BusinessID: businessID, Kind: KindInvoice, State: Draft, Period: period, PeriodStart: start, PeriodEnd: end,
		TimeZone: c.TimeZone, Currency: currency, CustomerName: name, CustomerAddress: c.RegisteredAddress,
		CustomerCountry: c.Country, CustomerVATID: c.VATID, CustomerEmail: c.BillingEmail, Language: lang,
		VATTreatment: treatment, VATRate: rate, Note: VATNote(treatment, lang), CreatedAt: now}
	sort.Slice(aggs, func(i, j int) bool {
		a, b := aggs[i], aggs[j]
		if ca, cb := categoryOrder(a.Category), categoryOrder(b.Category); ca != cb {
			return ca < cb
		}
		if (a.PriceCountry == "") != (b.PriceCountry == "") {
			return a.PriceCountry != ""
		}
		if a.PriceCountry != b.PriceCountry {
			return a.PriceCountry < b.PriceCountry
		}
		return a.UnitPrice.LessThan(b.UnitPrice)
	})
	net := decimal.Zero
	for i, a := range aggs {
		amt := LineAmount(a.N, a.UnitPrice, currency)
		net = net.Add(amt)
		inv.Lines = append(inv.Lines, InvoiceLine{Position: i + 1, Category: a.Category, Country: a.PriceCountry,
			Description: LineDescription(a.Category, a.PriceCountry, lang), Quantity: a.N, UnitPrice: a.UnitPrice, Amount: amt})
	}
	if !net.IsPositive() {
		return nil, nil
	}
	inv.Net = net
	inv.Tax = TaxOf(net, rate, currency)
	inv.Gross = net.Add(inv.Tax)
	return inv, nil
}

func categoryOrder(c string) int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories)
}

// PendingMonths are the business periods with billable usage and no
// invoice whose month has ended in the business's time zone at now.
func PendingMonths(ctx context.Context, db *models.DB, now time.Time) ([]BusinessMonth, error) {
	var rows []struct {
		BusinessID int64
		Period     string
	}
	err := db.WithContext(ctx).Raw(`SELECT p.business_id, p.period FROM usage_periods p
		WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.business_id = p.business_id AND i.period = p.period AND i.kind = 'invoice')
		ORDER BY p.business_id, p.period`).Scan(&rows).Error
	if err != nil {
		return nil, models.Wrap("billing.PendingMonths", err)
	}
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.BusinessID)
	}
	zones, err := timeZones(ctx, db.WithContext(ctx), ids)
	if err != nil {
		return nil, models.Wrap("billing.PendingMonths", err)
	}
	var out []BusinessMonth
	for _, r := range rows {
		loc := zones[r.BusinessID]
		if loc == nil {
			loc = time.UTC
		}
		if r.Period < now.In(loc).Format("2006-01") {
			out = append(out, BusinessMonth{BusinessID: r.BusinessID, Period: r.Period})
		}
	}
	return out, nil
}

// MonthEnded reports whether period has ended for the business at now.
func MonthEnded(ctx context.Context, db *models.DB, businessID int64, period string, now time.Time) bool {
	return period < now.In(BusinessZone(ctx, db, businessID)).Format("2006-01")
}

// Drafts are the ids of draft invoices, oldest first.
func Drafts(ctx context.Context, db *models.DB) ([]int64, error) {
	var ids []int64
	err := db.WithContext(ctx).Table("invoices").Where("state = ?", Draft).Order("id").Pluck("id", &ids).Error
	return ids, models.Wrap("billing.Drafts", err)
}

// issuerSnapshot is what an issued invoice keeps of the issuer.
type issuerSnapshot struct {
	Party          invoicedoc.Party
	Bank           invoicedoc.Bank
	TermsDays      int
	BuyerReference string
}

func snapshotOf(s IssuerSettings) issuerSnapshot {
	return issuerSnapshot{
		Party: invoicedoc.Party{Name: s.Name, Street: s.Street, Postcode: s.Postcode, City: s.City, Country: s.Country,
			VATID: s.VATID, TaxNumber: s.TaxNumber, Registration: s.Registration, ContactName: s.ContactName, ContactPhone: s.ContactPhone,
			ContactEmail: s.ContactEmail, Email: s.ContactEmail},
		Bank:           invoicedoc.Bank{AccountName: s.BankAccountName, IBAN: s.IBAN, BIC: s.BIC, BankName: s.BankName},
		TermsDays:      s.PaymentTermsDays,
		BuyerReference: s.BuyerReference,
	}
}

// Issue gives a draft the next number of its yearly series, snapshots the
// issuer, renders its PDF and XRechnung XML (Documents) and stores them,
// all in one transaction: a failure leaves the draft and consumes no
// number. Issuing an invoice that is no longer a draft is ErrWrongState.
func Issue(ctx context.Context, db *models.DB, id int64, now time.Time) (*Invoice, error) {
	s, err := Settings(ctx, db)
	if err != nil {
		return nil, models.Wrap("billing.Issue", err)
	}
	if !s.Complete() {
		return nil, ErrIssuerIncomplete
	}
	if Documents.PDF == nil || Documents.XML == nil {
		return nil, ErrNoRenderer
	}
	var out *Invoice
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := lockedInvoice(tx, db.Dialect, id)
		if err != nil {
			return err
		}
		if inv.State != Draft {
			return ErrWrongState
		}
		var corrected *Invoice
		if inv.CorrectsID != nil {
			if corrected, err = loadInvoice(tx, *inv.CorrectsID); err != nil {
				return err
			}
		}
		if err := issueLocked(tx, inv, corrected, s, now); err != nil {
			return err
		}
		out = inv
		return nil
	})
	if err != nil {
		return nil, models.Wrap("billing.Issue", err)
	}
	return out, nil
}

// issueLocked numbers, renders and stores inv inside tx.
func issueLocked(tx *gorm.DB, inv, corrected *Invoice, s IssuerSettings, now time.Time) error {
	now = now.UTC()
	year := now.In(IssuerZone).Year()
	seq, err := nextNumber(tx, inv.Kind, year)
	if err != nil {
		return err
	}
	number := FormatNumber(inv.Kind, year, seq)
	snap, _ := json.Marshal(snapshotOf(s))
	due := now.AddDate(0, 0, s.PaymentTermsDays)
	inv.State, inv.Number, inv.Series, inv.Year, inv.Seq = Issued, &number, seriesOf(inv.Kind), year, &seq
	inv.Issuer, inv.IssuedAt, inv.DueAt = string(snap), &now, &due
	doc, err := ToDocument(inv, corrected)
	if err != nil {
		return err
	}
	pdf, err := Documents.PDF(doc)
	if err != nil {
		return fmt.Errorf("render PDF of %s: %w", number, err)
	}
	xml, err := Documents.XML(doc)
	if err != nil {
		return fmt.Errorf("render XRechnung of %s: %w", number, err)
	}
	res := tx.Table("invoices").Where("id = ? AND state = ?", inv.ID, Draft).Updates(map[string]any{
		"state": Issued, "number": number, "series": inv.Series, "year": year, "seq": seq, "issuer": inv.Issuer,
		"issued_at": now, "due_at": due})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrWrongState
	}
	for _, d := range []struct {
		kind string
		body []byte
	}{{DocPDF, pdf}, {DocXML, xml}} {
		sum := sha256.Sum256(d.body)
		if err := tx.Table("invoice_documents").Create(map[string]any{"invoice_id": inv.ID, "kind": d.kind, "body": d.body,
			"sha256": hex.EncodeToString(sum[:]), "created_at": now}).Error; err != nil {
			return err
		}
	}
	return nil
}

func lockedInvoice(tx *gorm.DB, d models.Dialect, id int64) (*Invoice, error) {
	q := tx
	if d == models.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var inv Invoice
	if err := q.Omit("Lines").Take(&inv, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.ErrNotFound
		}
		return nil, err
	}
	if err := tx.Where("invoice_id = ?", id).Order("position").Find(&inv.Lines).Error; err != nil {
		return nil, err
	}
	return &inv, nil
}

func loadInvoice(tx *gorm.DB, id int64) (*Invoice, error) {
	var inv Invoice
	err := tx.Preload("Lines", func(q *gorm.DB) *gorm.DB { return q.Order("position") }).Take(&inv, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &inv, err
}

// DiscardDraft deletes a draft (it never had a number), audited. Its
// month may then be built again.
func DiscardDraft(ctx context.Context, db *models.DB, actor *models.User, id int64, ip string) error {
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := lockedInvoice(tx, db.Dialect, id)
		if err != nil {
			return err
		}
		if inv.State != Draft {
			return ErrWrongState
		}
		if err := tx.Exec(`DELETE FROM invoices WHERE id = ? AND state = 'draft'`, id).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, db.Now(), withBusiness(audit(actor, "billing.invoice.discard", "invoice", fmt.Sprint(id),
			"draft for "+inv.Period+", net "+inv.Net.StringFixed(2)+" "+inv.Currency, "", ip), inv.BusinessID))
	})
	return models.Wrap("billing.DiscardDraft", err)
}

func withBusiness(e models.AuditEntry, id int64) models.AuditEntry { e.BusinessID = id; return e }

// MarkPaid records that an issued invoice was paid (issued → paid),
// audited.
func MarkPaid(ctx context.Context, db *models.DB, actor *models.User, id int64, ip string) error {
	now := db.Now()
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := lockedInvoice(tx, db.Dialect, id)
		if err != nil {
			return err
		}
		if inv.Kind != KindInvoice || inv.State != Issued {
			return ErrWrongState
		}
		if err := tx.Table("invoices").Where("id = ? AND state = ?", id, Issued).
			Updates(map[string]any{"state": Paid, "paid_at": now}).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, withBusiness(audit(actor, "billing.invoice.paid", "invoice", fmt.Sprint(id),
			inv.NumberOr()+" paid, "+inv.Gross.StringFixed(2)+" "+inv.Currency, Issued, ip), inv.BusinessID))
	})
	return models.Wrap("billing.MarkPaid", err)
}

// CancelWithCreditNote cancels an issued invoice (issued → cancelled) and
// issues its credit note in the same transaction: its own series
// (CN-2026-000001), the same lines and amounts as positive numbers (UBL
// CreditNote, type 381, names the invoice it corrects), the reason as its
// note. Audited. The cancelled month's usage is not billed again.
func CancelWithCreditNote(ctx context.Context, db *models.DB, actor *models.User, id int64, reason, ip string) (*Invoice, error) {
	reason = cleanLine(reason, 500)
	if reason == "" {
		return nil, models.Invalid("reason", "billing.cancel.reason.required")
	}
	s, err := Settings(ctx, db)
	if err != nil {
		return nil, models.Wrap("billing.CancelWithCreditNote", err)
	}
	if !s.Complete() {
		return nil, ErrIssuerIncomplete
	}
	if Documents.PDF == nil || Documents.XML == nil {
		return nil, ErrNoRenderer
	}
	now := db.Now()
	var cn *Invoice
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := lockedInvoice(tx, db.Dialect, id)
		if err != nil {
			return err
		}
		if inv.Kind != KindInvoice || inv.State != Issued {
			return ErrWrongState
		}
		if err := tx.Table("invoices").Where("id = ? AND state = ?", id, Issued).
			Updates(map[string]any{"state": Cancelled, "cancelled_at": now}).Error; err != nil {
			return err
		}
		c := *inv
		c.ID, c.Kind, c.State, c.Number, c.Seq, c.Series, c.Year = 0, KindCreditNote, Draft, nil, nil, "", 0
		c.IssuedAt, c.DueAt, c.PaidAt, c.CancelledAt, c.Issuer = nil, nil, nil, nil, ""
		c.CorrectsID, c.Reason, c.CreatedAt = &inv.ID, reason, now
		c.Note = creditNote(inv, reason)
		c.Lines = nil
		if err := tx.Omit("Lines").Create(&c).Error; err != nil {
			return err
		}
		for _, l := range inv.Lines {
			l.ID, l.InvoiceID = 0, c.ID
			c.Lines = append(c.Lines, l)
		}
		if err := tx.CreateInBatches(&c.Lines, 100).Error; err != nil {
			return err
		}
		if err := issueLocked(tx, &c, inv, s, now); err != nil {
			return err
		}
		cn = &c
		return models.WriteAudit(tx, now, withBusiness(audit(actor, "billing.invoice.cancel", "invoice", fmt.Sprint(id),
			inv.NumberOr()+" cancelled by credit note "+c.NumberOr()+": "+reason, Issued, ip), inv.BusinessID))
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = ErrWrongState
	}
	if err != nil {
		return nil, models.Wrap("billing.CancelWithCreditNote", err)
	}
	return cn, nil
}

func creditNote(inv *Invoice, reason string) string {
	lead := "Credit note cancelling invoice " + inv.NumberOr() + ". Reason: " + reason
	if inv.Language == "de" {
		lead = "Gutschrift (Stornorechnung) zur Rechnung " + inv.NumberOr() + ". Grund: " + reason
	}
	if n := VATNote(inv.VATTreatment, inv.Language); n != "" {
		lead += " " + n
	}
	return lead
}

// Invoices lists the business's invoices and credit notes, newest first.
func Invoices(ctx context.Context, tn models.Tenant, f InvoiceFilter) ([]Invoice, error) {
	q := tn.Scoped(ctx).Omit("issuer")
	q = filtered(q, f.State, f.Kind, f.BeforeID, f.Limit)
	var out []Invoice
	err := q.Find(&out).Error
	return out, models.Wrap("billing.Invoices", err)
}

func filtered(q *gorm.DB, state, kind string, before int64, limit int) *gorm.DB {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if state != "" {
		q = q.Where("state = ?", state)
	}
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	return q.Order("id DESC").Limit(limit)
}

// InvoiceByID is one of the business's invoices with its lines
// (models.ErrNotFound for another business's).
func InvoiceByID(ctx context.Context, tn models.Tenant, id int64) (*Invoice, error) {
	var inv Invoice
	err := tn.Scoped(ctx).Preload("Lines", func(q *gorm.DB) *gorm.DB { return q.Order("position") }).Take(&inv, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Wrap("billing.InvoiceByID", models.ErrNotFound)
	}
	if err != nil {
		return nil, models.Wrap("billing.InvoiceByID", err)
	}
	return &inv, nil
}

// AllInvoices lists every business's invoices for administrators.
func AllInvoices(ctx context.Context, db *models.DB, f AdminFilter) ([]InvoiceRow, error) {
	q := db.WithContext(ctx).Model(&Invoice{})
	if f.BusinessID > 0 {
		q = q.Where("business_id = ?", f.BusinessID)
	}
	if f.Month != "" {
		q = q.Where("period = ?", f.Month)
	}
	var invs []Invoice
	if err := filtered(q, f.State, f.Kind, f.BeforeID, f.Limit).Omit("issuer").Find(&invs).Error; err != nil {
		return nil, models.Wrap("billing.AllInvoices", err)
	}
	names, err := businessNames(ctx, db, invs)
	if err != nil {
		return nil, models.Wrap("billing.AllInvoices", err)
	}
	out := make([]InvoiceRow, len(invs))
	for i, inv := range invs {
		out[i] = InvoiceRow{Invoice: inv, BusinessName: names[inv.BusinessID]}
	}
	return out, nil
}

func businessNames(ctx context.Context, db *models.DB, invs []Invoice) (map[int64]string, error) {
	ids := map[int64]bool{}
	var list []int64
	for _, inv := range invs {
		if !ids[inv.BusinessID] {
			ids[inv.BusinessID] = true
			list = append(list, inv.BusinessID)
		}
	}
	out := map[int64]string{}
	if len(list) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	if err := db.WithContext(ctx).Raw(`SELECT id, name FROM businesses WHERE id IN ?`, list).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// AdminInvoice is any invoice with its lines and business name.
func AdminInvoice(ctx context.Context, db *models.DB, id int64) (*InvoiceRow, error) {
	inv, err := loadInvoice(db.WithContext(ctx), id)
	if err != nil {
		return nil, models.Wrap("billing.AdminInvoice", err)
	}
	names, err := businessNames(ctx, db, []Invoice{*inv})
	if err != nil {
		return nil, models.Wrap("billing.AdminInvoice", err)
	}
	return &InvoiceRow{Invoice: *inv, BusinessName: names[inv.BusinessID]}, nil
}

// DocumentOf is the stored PDF or XML of one of the business's issued
// invoices (models.ErrNotFound for another business's, a draft, or an
// unknown kind).
func DocumentOf(ctx context.Context, tn models.Tenant, invoiceID int64, kind string) ([]byte, error) {
	if err := tn.Check(); err != nil {
		return nil, err
	}
	return documentOf(ctx, tn.Gorm(ctx), tn.BusinessID(), invoiceID, kind)
}

// AdminDocumentOf is DocumentOf for administrators.
func AdminDocumentOf(ctx context.Context, db *models.DB, invoiceID int64, kind string) ([]byte, error) {
	return documentOf(ctx, db.WithContext(ctx), 0, invoiceID, kind)
}

func documentOf(ctx context.Context, g *gorm.DB, businessID, invoiceID int64, kind string) ([]byte, error) {
	if kind != DocPDF && kind != DocXML {
		return nil, models.ErrNotFound
	}
	q := `SELECT d.body FROM invoice_documents d JOIN invoices i ON i.id = d.invoice_id WHERE d.invoice_id = ? AND d.kind = ?`
	args := []any{invoiceID, kind}
	if businessID > 0 {
		q += ` AND i.business_id = ?`
		args = append(args, businessID)
	}
	var rows []struct{ Body []byte }
	if err := g.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, models.Wrap("billing.DocumentOf", err)
	}
	if len(rows) == 0 {
		return nil, models.Wrap("billing.DocumentOf", models.ErrNotFound)
	}
	return rows[0].Body, nil
}

// RevenueByMonth is, per period of the year and currency, what was
// invoiced (issued, paid and cancelled invoices, minus credit notes),
// what was paid, and the platform's cost of those messages.
func RevenueByMonth(ctx context.Context, db *models.DB, year int) ([]MonthRevenue, error) {
	prefix := fmt.Sprintf("%04d-", year)
	var invs []Invoice
	if err := db.WithContext(ctx).Select("id, business_id, kind, state, period, currency, net, tax, gross").
		Where("state <> ? AND period LIKE ?", Draft, prefix+"%").Find(&invs).Error; err != nil {
		return nil, models.Wrap("billing.RevenueByMonth", err)
	}
	type key struct{ month, currency string }
	by := map[key]*MonthRevenue{}
	get := func(k key) *MonthRevenue {
		if by[k] == nil {
			by[k] = &MonthRevenue{Month: k.month, Currency: k.currency, Net: decimal.Zero, Tax: decimal.Zero, Gross: decimal.Zero, Paid: decimal.Zero, Cost: decimal.Zero}
		}
		return by[k]
	}
	for _, inv := range invs {
		r := get(key{inv.Period, inv.Currency})
		if inv.Kind == KindCreditNote {
			r.CreditNotes++
			r.Net, r.Tax, r.Gross = r.Net.Sub(inv.Net), r.Tax.Sub(inv.Tax), r.Gross.Sub(inv.Gross)
			continue
		}
		r.Invoices++
		r.Net, r.Tax, r.Gross = r.Net.Add(inv.Net), r.Tax.Add(inv.Tax), r.Gross.Add(inv.Gross)
		if inv.State == Paid {
			r.Paid = r.Paid.Add(inv.Gross)
		}
	}
	var costs []struct {
		Period   string
		Currency string
		Cost     decimal.Decimal
		N        int64
	}
	if err := db.WithContext(ctx).Raw(`SELECT u.period, u.currency, u.cost, COUNT(*) AS n FROM usage_records u
		WHERE u.billable AND u.cost IS NOT NULL AND u.period LIKE ?
			AND EXISTS (SELECT 1 FROM invoices i WHERE i.business_id = u.business_id AND i.period = u.period AND i.kind = 'invoice' AND i.state IN ('issued', 'paid'))
		GROUP BY u.period, u.currency, u.cost`, prefix+"%").Scan(&costs).Error; err != nil {
		return nil, models.Wrap("billing.RevenueByMonth", err)
	}
	for _, c := range costs {
		r := get(key{c.Period, c.Currency})
		r.Cost = r.Cost.Add(c.Cost.Mul(decimal.NewFromInt(c.N)))
	}
	out := make([]MonthRevenue, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Month != out[j].Month {
			return out[i].Month < out[j].Month
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}

// MarginByBusiness is each business's billable messages, price, cost and
// margin in period (unrounded sums of unit prices and costs).
func MarginByBusiness(ctx context.Context, db *models.DB, period string) ([]BusinessMargin, error) {
	var rows []struct {
		BusinessID int64
		Name       string
		Currency   string
		UnitPrice  decimal.Decimal
		Cost       decimal.NullDecimal
		N          int64
	}
	if err := db.WithContext(ctx).Raw(`SELECT u.business_id, b.name, u.currency, u.unit_price, u.cost, COUNT(*) AS n
		FROM usage_records u JOIN businesses b ON b.id = u.business_id
		WHERE u.period = ? AND u.billable GROUP BY u.business_id, b.name, u.currency, u.unit_price, u.cost`, period).Scan(&rows).Error; err != nil {
		return nil, models.Wrap("billing.MarginByBusiness", err)
	}
	type key struct {
		id  int64
		cur string
	}
	by := map[key]*BusinessMargin{}
	var order []key
	for _, r := range rows {
		k := key{r.BusinessID, r.Currency}
		m := by[k]
		if m == nil {
			m = &BusinessMargin{BusinessID: r.BusinessID, BusinessName: r.Name, Currency: r.Currency, Revenue: decimal.Zero, Cost: decimal.Zero}
			by[k] = m
			order = append(order, k)
		}
		n := decimal.NewFromInt(r.N)
		m.Messages += r.N
		m.Revenue = m.Revenue.Add(r.UnitPrice.Mul(n))
		if r.Cost.Valid {
			m.Cost = m.Cost.Add(r.Cost.Decimal.Mul(n))
		} else {
			m.CostUnknown += r.N
		}
	}
	out := make([]BusinessMargin, 0, len(order))
	for _, k := range order {
		m := by[k]
		m.Margin = m.Revenue.Sub(m.Cost)
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.ToLower(out[i].BusinessName) < strings.ToLower(out[j].BusinessName)
	})
	return out, nil
}
