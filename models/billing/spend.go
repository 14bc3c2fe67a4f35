package billing

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Spending answers campaigns' budget question: what a business has spent
// in a calendar month of its own time zone.
type Spending struct{ DB *models.DB }

// SpentInMonth is the sum of the unit prices of the business's billable
// messages delivered in the month (business time zone) containing at.
// It is before the per-line rounding of the invoice, which moves it by
// less than a cent per line.
func (s Spending) SpentInMonth(ctx context.Context, businessID int64, at time.Time) (decimal.Decimal, error) {
	tn, err := s.DB.Tenant(businessID)
	if err != nil {
		return decimal.Zero, models.Wrap("billing.SpentInMonth", err)
	}
	u, err := MonthToDate(ctx, tn, at)
	if err != nil {
		return decimal.Zero, models.Wrap("billing.SpentInMonth", err)
	}
	return u.Total, nil
}

// BusinessZone is the business's time zone (UTC when unset).
func BusinessZone(ctx context.Context, db *models.DB, businessID int64) *time.Location {
	zs, err := timeZones(ctx, db.WithContext(ctx), []int64{businessID})
	if err != nil || zs[businessID] == nil {
		return time.UTC
	}
	return zs[businessID]
}

type priceCount struct {
	Category  string
	Day       string
	Billable  bool
	UnitPrice decimal.Decimal
	Currency  string
	N         int64
}

// MonthToDate is the business's usage in the month containing at (its
// time zone), by category: billable messages, free ones, and amount.
func MonthToDate(ctx context.Context, tn models.Tenant, at time.Time) (MonthUsage, error) {
	loc := BusinessZone(ctx, tn.DB(), tn.BusinessID())
	local := at.In(loc)
	month := local.Format("2006-01")
	from, to, _ := PeriodBounds(month, loc)
	u := MonthUsage{Month: month, From: from, To: to, Total: decimal.Zero}
	var rows []priceCount
	err := tn.Scoped(ctx).Table("usage_records").
		Select("category, billable, unit_price, currency, COUNT(*) AS n").
		Where("day >= ? AND day < ?", month+"-01", NextPeriod(month)+"-01").
		Group("category, billable, unit_price, currency").Scan(&rows).Error
	if err != nil {
		return u, models.Wrap("billing.MonthToDate", err)
	}
	by := map[string]*CategoryUsage{}
	for _, c := range Categories {
		by[c] = &CategoryUsage{Category: c, Amount: decimal.Zero}
	}
	for _, r := range rows {
		cu := by[r.Category]
		if cu == nil {
			cu = &CategoryUsage{Category: r.Category, Amount: decimal.Zero}
			by[r.Category] = cu
		}
		if !r.Billable {
			cu.Free += r.N
			continue
		}
		cu.Messages += r.N
		amt := r.UnitPrice.Mul(decimal.NewFromInt(r.N))
		cu.Amount = cu.Amount.Add(amt)
		u.Total = u.Total.Add(amt)
		u.Messages += r.N
		if u.Currency == "" {
			u.Currency = r.Currency
		}
	}
	for _, c := range Categories {
		u.ByCategory = append(u.ByCategory, *by[c])
	}
	for _, k := range sortedKeys(by) {
		if !isCategory(k) {
			u.ByCategory = append(u.ByCategory, *by[k])
		}
	}
	if u.Currency == "" {
		u.Currency = currentCurrency(ctx, tn.DB(), at)
	}
	return u, nil
}

func isCategory(c string) bool {
	for _, x := range Categories {
		if x == c {
			return true
		}
	}
	return false
}

// currentCurrency is the currency of the card in force at t (EUR when none).
func currentCurrency(ctx context.Context, db *models.DB, t time.Time) string {
	if c, err := CardAt(ctx, db, t); err == nil {
		return c.Currency
	}
	return "EUR"
}

// Daily is the business's billable messages and amount per day (its time
// zone) and category, for days from..to inclusive (their dates in the
// business's zone). Days without usage are absent.
func Daily(ctx context.Context, tn models.Tenant, from, to time.Time) ([]DayUsage, error) {
	loc := BusinessZone(ctx, tn.DB(), tn.BusinessID())
	var rows []priceCount
	err := tn.Scoped(ctx).Table("usage_records").
		Select("day, category, unit_price, COUNT(*) AS n").
		Where("billable AND day >= ? AND day <= ?", from.In(loc).Format("2006-01-02"), to.In(loc).Format("2006-01-02")).
		Group("day, category, unit_price").Order("day, category").Scan(&rows).Error
	if err != nil {
		return nil, models.Wrap("billing.Daily", err)
	}
	var out []DayUsage
	for _, r := range rows {
		amt := r.UnitPrice.Mul(decimal.NewFromInt(r.N))
		if n := len(out); n > 0 && out[n-1].Day == r.Day && out[n-1].Category == r.Category {
			out[n-1].Messages += r.N
			out[n-1].Amount = out[n-1].Amount.Add(amt)
			continue
		}
		out = append(out, DayUsage{Day: r.Day, Category: r.Category, Messages: r.N, Amount: amt})
	}
	return out, nil
}

// UsageLines are the usage records of one invoice (its billable ones) or
// of one month (all judged messages, by delivery day), oldest first.
func UsageLines(ctx context.Context, tn models.Tenant, q UsageQuery) ([]UsageLine, error) {
	var out []UsageLine
	err := EachUsageLine(ctx, tn, q, func(l UsageLine) error { out = append(out, l); return nil })
	return out, err
}

// EachUsageLine streams UsageLines to fn in pages (for large exports).
func EachUsageLine(ctx context.Context, tn models.Tenant, q UsageQuery, fn func(UsageLine) error) error {
	if err := tn.Check(); err != nil {
		return err
	}
	base := tn.Gorm(ctx).Table("usage_records u").Where("u.business_id = ?", tn.BusinessID())
	switch {
	case q.InvoiceID > 0:
		inv, err := InvoiceByID(ctx, tn, q.InvoiceID)
		if err != nil {
			return models.Wrap("billing.UsageLines", err)
		}
		period := inv.Period
		if inv.Kind == KindCreditNote && inv.CorrectsID != nil {
			orig, err := InvoiceByID(ctx, tn, *inv.CorrectsID)
			if err != nil {
				return models.Wrap("billing.UsageLines", err)
			}
			period = orig.Period
		}
		base = base.Where("u.period = ? AND u.billable", period)
	case q.Month != "":
		if _, err := time.Parse("2006-01", q.Month); err != nil {
			return models.Invalid("month", "billing.month.invalid")
		}
		base = base.Where("u.day >= ? AND u.day < ?", q.Month+"-01", NextPeriod(q.Month)+"-01")
	default:
		return models.Invalid("month", "billing.month.invalid")
	}
	type row struct{ UsageLine }
	var after int64
	for {
		var rows []row
		err := base.Session(&gormSession).
			Select(`u.message_id, u.billed_at, u.day, u.category, u.country, u.unit_price, u.currency, u.billable,
				u.rule, u.platform_type, u.period, m.to_phone AS "to", m.template_name AS template`).
			Joins("LEFT JOIN messages m ON m.id = u.message_id AND m.business_id = u.business_id").
			Where("u.message_id > ?", after).Order("u.message_id").Limit(5000).Scan(&rows).Error
		if err != nil {
			return models.Wrap("billing.UsageLines", err)
		}
		for _, r := range rows {
			if err := fn(r.UsageLine); err != nil {
				return err
			}
		}
		if len(rows) < 5000 {
			return nil
		}
		after = rows[len(rows)-1].MessageID
	}
}

var gormSession = gorm.Session{}
