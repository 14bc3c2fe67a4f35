package campaigns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/messages"
)

// Spending is what a business has spent in the calendar month of at
// (billing implements it from its usage records).
type Spending interface {
	SpentInMonth(ctx context.Context, businessID int64, at time.Time) (decimal.Decimal, error)
}

// EstimatedSpending prices delivered messages directly, without waiting
// for billing's charge job (the portal uses billing.Spending, the usage
// records; this one is the cross-check of the composer's tests): the
// business's messages delivered
// in the calendar month of at in the business's time zone (as billing
// counts it), each judged by billing.Judge (the
// dated rule, the platform's pricing type winning) and priced by the card
// in force when it was delivered, for its category and recipient
// country. It is computed in a few grouped queries, one per stretch of
// the month with one card and one rule.
type EstimatedSpending struct{ DB *models.DB }

// SpentInMonth implements Spending.
func (s EstimatedSpending) SpentInMonth(ctx context.Context, businessID int64, at time.Time) (decimal.Decimal, error) {
	tn, err := s.DB.Tenant(businessID)
	if err != nil {
		return decimal.Zero, models.Wrap("campaigns.SpentInMonth", err)
	}
	_, loc, err := businessZone(ctx, tn)
	if err != nil {
		return decimal.Zero, models.Wrap("campaigns.SpentInMonth", err)
	}
	local := at.In(loc)
	start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc).UTC()
	end := time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, loc).UTC()
	// Stretches: split where a card comes into force or the rule changes.
	cuts := []time.Time{start}
	var changes []time.Time
	if err := s.DB.WithContext(ctx).Model(&billing.Card{}).Where("effective_from > ? AND effective_from < ?", start, end).
		Order("effective_from").Pluck("effective_from", &changes).Error; err != nil {
		return decimal.Zero, models.Wrap("campaigns.SpentInMonth", err)
	}
	if billing.PricingChange.After(start) && billing.PricingChange.Before(end) {
		changes = append(changes, billing.PricingChange)
	}
	for _, t := range changes {
		if t.After(cuts[len(cuts)-1]) {
			cuts = append(cuts, t.UTC())
		}
	}
	cuts = append(cuts, end)
	total := decimal.Zero
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		var groups []struct {
			Country  string
			Category string
			InWindow bool
			Type     string
			N        int64
		}
		err := s.DB.WithContext(ctx).Raw(`SELECT country, LOWER(category) AS category, COALESCE(window_open, FALSE) AS in_window,
			pricing_type AS type, COUNT(*) AS n FROM messages
			WHERE business_id = ? AND delivered_at >= ? AND delivered_at < ? AND category <> ''
			GROUP BY country, LOWER(category), COALESCE(window_open, FALSE), pricing_type`, businessID, from, to).Scan(&groups).Error
		if err != nil {
			return decimal.Zero, models.Wrap("campaigns.SpentInMonth", err)
		}
		if len(groups) == 0 {
			continue
		}
		card, err := billing.CardAt(ctx, s.DB, from)
		if errors.Is(err, billing.ErrNoCard) {
			continue // nothing was priced before the first card
		}
		if err != nil {
			return decimal.Zero, models.Wrap("campaigns.SpentInMonth", err)
		}
		for _, g := range groups {
			d := billing.Judge(billing.Facts{Category: g.Category, DeliveredAt: from, InWindow: g.InWindow, PlatformType: g.Type})
			if !d.Billable {
				continue
			}
			unit, _, ok := unitFor(card, d.PriceCategory, g.Country)
			if !ok {
				continue
			}
			total = total.Add(unit.Mul(decimal.NewFromInt(g.N)))
		}
	}
	return total, nil
}

// Headroom is how much of the campaign the business may send now.
type Headroom struct {
	// Tier is the messaging tier (unique recipients per moving 24 hours
	// outside a customer-service window; 0 unlimited).
	Tier int
	// Used is the unique numbers delivered to in the last 24 hours with
	// no open customer-service window.
	Used int
	// Committed is the unique numbers of other active campaigns' frozen
	// messages not sent yet.
	Committed int
	// TierLeft is Tier − Used − Committed (never below 0), -1 unlimited.
	TierLeft int
	// Limit is the owner's monthly spending limit (invalid: none).
	Limit decimal.NullDecimal
	// Spent is this month's spending so far (Spending).
	Spent decimal.Decimal
	// CommittedSpend is the estimate of other active campaigns' messages
	// not sent yet.
	CommittedSpend decimal.Decimal
	// BudgetLeft is Limit − Spent − CommittedSpend (never below 0; invalid
	// without a limit).
	BudgetLeft decimal.NullDecimal
	Currency   string
	// Recipients is the campaign's recipients (the estimate's).
	Recipients int
	// FitsTier and FitsBudget are how many of them each limit allows,
	// Fits the smaller: Recipients when everything fits.
	FitsTier, FitsBudget, Fits int
}

// AllFit reports whether every recipient fits.
func (h Headroom) AllFit() bool { return h.Fits >= h.Recipients }

// activeStates are the states of confirmed campaigns not over.
var activeStates = []string{Scheduled, Sending, Paused}

// HeadroomFor works out the campaign's headroom at now from its estimate
// (EstimateCost) and the month's spending. A partial send's budget share
// is counted at the estimate's highest unit price, so the recipients
// that fit never cost more than the budget left, whichever countries
// they are in.
func HeadroomFor(ctx context.Context, tn models.Tenant, c *Campaign, est Estimate, sp Spending, now time.Time) (Headroom, error) {
	if err := tn.Check(); err != nil {
		return Headroom{}, err
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return Headroom{}, models.Wrap("campaigns.HeadroomFor", err)
	}
	h := Headroom{Tier: b.MessagingTier, Limit: b.MonthlyLimit, Currency: est.Currency, Recipients: est.Recipients,
		Spent: decimal.Zero, CommittedSpend: decimal.Zero}
	g := tn.Gorm(ctx)
	var used, committed int64
	if err := g.Raw(`SELECT COUNT(DISTINCT to_phone) FROM messages WHERE business_id = ? AND delivered_at > ? AND delivered_at <= ?
		AND COALESCE(window_open, FALSE) = FALSE`, tn.BusinessID(), now.Add(-24*time.Hour), now).Scan(&used).Error; err != nil {
		return h, models.Wrap("campaigns.HeadroomFor", err)
	}
	if err := g.Raw(`SELECT COUNT(DISTINCT m.to_phone) FROM messages m JOIN campaigns k ON k.id = m.campaign_id AND k.business_id = m.business_id
		WHERE m.business_id = ? AND k.state IN ? AND k.id <> ? AND m.state IN ?`,
		tn.BusinessID(), activeStates, c.ID, []string{messages.Queued, messages.Sending}).Scan(&committed).Error; err != nil {
		return h, models.Wrap("campaigns.HeadroomFor", err)
	}
	h.Used, h.Committed = int(used), int(committed)
	h.TierLeft, h.FitsTier = -1, h.Recipients
	if h.Tier != models.TierUnlimited {
		h.TierLeft = max(0, h.Tier-h.Used-h.Committed)
		h.FitsTier = min(h.Recipients, h.TierLeft)
	}
	h.FitsBudget = h.Recipients
	if h.Limit.Valid {
		if h.Spent, err = sp.SpentInMonth(ctx, tn.BusinessID(), now); err != nil {
			return h, models.Wrap("campaigns.HeadroomFor", err)
		}
		if h.CommittedSpend, err = committedSpend(ctx, tn, c.ID, now); err != nil {
			return h, models.Wrap("campaigns.HeadroomFor", err)
		}
		left := h.Limit.Decimal.Sub(h.Spent).Sub(h.CommittedSpend)
		if left.IsNegative() {
			left = decimal.Zero
		}
		h.BudgetLeft = decimal.NullDecimal{Decimal: left, Valid: true}
		switch {
		case !est.Total.GreaterThan(left):
		case !est.MaxUnit.IsPositive():
		default:
			h.FitsBudget = min(h.Recipients, int(left.Div(est.MaxUnit).Floor().IntPart()))
		}
	}
	h.Fits = min(h.FitsTier, h.FitsBudget)
	return h, nil
}

// committedSpend is the estimate of other active campaigns' messages not
// sent yet: a confirmed campaign not frozen yet counts its stored
// estimate; a frozen one its queued and claimed messages, priced by the
// card in force now for their category and country.
func committedSpend(ctx context.Context, tn models.Tenant, exceptID int64, now time.Time) (decimal.Decimal, error) {
	g := tn.Gorm(ctx)
	total := decimal.Zero
	var unfrozen []decimal.NullDecimal
	if err := tn.Scoped(ctx).Model(&Campaign{}).Where("state IN ? AND id <> ? AND frozen_at IS NULL", activeStates, exceptID).
		Pluck("estimate", &unfrozen).Error; err != nil {
		return total, err
	}
	for _, e := range unfrozen {
		if e.Valid {
			total = total.Add(e.Decimal)
		}
	}
	var groups []struct {
		Country  string
		Category string
		N        int64
	}
	if err := g.Raw(`SELECT m.country, LOWER(m.category) AS category, COUNT(*) AS n FROM messages m
		JOIN campaigns k ON k.id = m.campaign_id AND k.business_id = m.business_id
		WHERE m.business_id = ? AND k.state IN ? AND k.id <> ? AND k.frozen_at IS NOT NULL AND m.state IN ?
		GROUP BY m.country, LOWER(m.category)`, tn.BusinessID(), activeStates, exceptID,
		[]string{messages.Queued, messages.Sending}).Scan(&groups).Error; err != nil {
		return total, err
	}
	if len(groups) == 0 {
		return total, nil
	}
	card, err := billing.CardAt(ctx, tn.DB(), now)
	if err != nil {
		return total, err
	}
	for _, gr := range groups {
		if unit, _, ok := unitFor(card, gr.Category, gr.Country); ok {
			total = total.Add(unit.Mul(decimal.NewFromInt(gr.N)))
		}
	}
	return total, nil
}

// FitError refuses a campaign that does not fit the messaging tier or
// the month's budget, with the figures.
type FitError struct {
	Headroom Headroom
	Estimate Estimate
	// Partial: the owner chose to send to as many as fit, but none fit.
	Partial bool
}

func (e *FitError) Error() string {
	var parts []string
	h := e.Headroom
	if h.FitsTier < h.Recipients {
		parts = append(parts, fmt.Sprintf("tier %d allows %d more recipients in 24 hours (used %d, committed %d)", h.Tier, h.TierLeft, h.Used, h.Committed))
	}
	if h.FitsBudget < h.Recipients && h.BudgetLeft.Valid {
		parts = append(parts, fmt.Sprintf("budget left %s %s of %s, estimate %s", h.BudgetLeft.Decimal.StringFixed(2), h.Currency,
			h.Limit.Decimal.StringFixed(2), e.Estimate.Total.StringFixed(2)))
	}
	return fmt.Sprintf("campaigns: %d of %d recipients fit: %s", h.Fits, h.Recipients, strings.Join(parts, "; "))
}

// SetTier sets a business's messaging tier (one of models.Tiers), as an
// administrator, audited with the previous tier.
func SetTier(ctx context.Context, db *models.DB, actor *models.User, businessID int64, tier int, ip string) error {
	if !slices.Contains(models.Tiers, tier) {
		return models.Invalid("tier", "campaign.tier.invalid")
	}
	now := db.Now().UTC()
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var b models.Business
		if err := tx.First(&b, "id = ?", businessID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		} else if err != nil {
			return err
		}
		if err := tx.Model(&models.Business{}).Where("id = ?", businessID).Updates(map[string]any{"messaging_tier": tier, "updated_at": now}).Error; err != nil {
			return err
		}
		e := models.AuditEntry{BusinessID: businessID, Action: "business.tier_set", TargetType: "business", TargetID: strconv.FormatInt(businessID, 10),
			Detail: TierText(tier), Previous: TierText(b.MessagingTier), IP: ip}
		if actor != nil {
			e.ActorID, e.ActorEmail = actor.ID, actor.Email
		}
		return models.WriteAudit(tx, now, e)
	})
	return models.Wrap("campaigns.SetTier", err)
}

// TierText is a tier for the audit log ("250", "unlimited").
func TierText(tier int) string {
	if tier == models.TierUnlimited {
		return "unlimited"
	}
	return strconv.Itoa(tier)
}

// maxMonthlyLimit bounds the limit to what the column holds.
var maxMonthlyLimit = decimal.New(1, 12)

// ParseLimit reads a monthly limit as typed ("250", "1250.50"; "" none):
// positive, at most two decimals.
func ParseLimit(s string) (decimal.NullDecimal, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return decimal.NullDecimal{}, nil
	}
	s = strings.ReplaceAll(s, ",", ".")
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil || strings.ContainsAny(s, "eE"):
		return decimal.NullDecimal{}, models.Invalid("monthly_limit", "campaign.limit.invalid")
	case !d.IsPositive():
		return decimal.NullDecimal{}, models.Invalid("monthly_limit", "campaign.limit.positive")
	case d.Exponent() < -2 && !d.Equal(d.Round(2)):
		return decimal.NullDecimal{}, models.Invalid("monthly_limit", "campaign.limit.cents")
	case d.GreaterThanOrEqual(maxMonthlyLimit):
		return decimal.NullDecimal{}, models.Invalid("monthly_limit", "campaign.limit.too_large")
	}
	return decimal.NullDecimal{Decimal: d.Round(2), Valid: true}, nil
}

// SetMonthlyLimit sets (or, invalid, removes) the business's monthly
// spending limit, as its owner, audited with the previous limit.
func SetMonthlyLimit(ctx context.Context, tn models.Tenant, actor *models.User, limit decimal.NullDecimal, ip string) error {
	if err := tn.Check(); err != nil {
		return err
	}
	now := tn.DB().Now().UTC()
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		g := tx.Gorm(ctx)
		var b models.Business
		if err := g.First(&b, "id = ?", tn.BusinessID()).Error; err != nil {
			return err
		}
		var val any
		if limit.Valid {
			val = limit.Decimal
		}
		if err := g.Model(&models.Business{}).Where("id = ?", tn.BusinessID()).Updates(map[string]any{"monthly_limit": val, "updated_at": now}).Error; err != nil {
			return err
		}
		e := models.AuditEntry{BusinessID: tn.BusinessID(), Action: "business.monthly_limit_set", TargetType: "business",
			TargetID: strconv.FormatInt(tn.BusinessID(), 10), Detail: limitText(limit), Previous: limitText(b.MonthlyLimit), IP: ip}
		if actor != nil {
			e.ActorID, e.ActorEmail = actor.ID, actor.Email
		}
		return models.WriteAudit(g, now, e)
	})
	return models.Wrap("campaigns.SetMonthlyLimit", err)
}

func limitText(l decimal.NullDecimal) string {
	if !l.Valid {
		return "none"
	}
	return l.Decimal.StringFixed(2)
}
