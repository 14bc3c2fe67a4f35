package campaigns

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/messages"
)

// Cost is what a campaign's delivered messages cost so far.
type Cost struct {
	Amount   decimal.Decimal
	Currency string
	// Billed counts the messages charged; Free those the billable rule
	// let through free (a utility template inside an open window before
	// 1 October 2026, or the platform said so).
	Billed, Free int
	// Unpriced counts delivered messages no rate card priced (no card in
	// force at their delivery).
	Unpriced int
}

// Known reports whether anything was priced.
func (c Cost) Known() bool { return c.Currency != "" }

// CostSoFar is the one place a campaign's cost is computed: every
// delivered (or read) message priced by the rate card in force at its
// delivery, in its category and the recipient's country, after the dated
// billable rule (billing.Judge, with the webhook's pricing type). When
// billing records usage per message, this function reads those records
// instead; nothing else changes.
//
// The messages are counted per interval between rate-card dates (and the
// rule's change date), grouped by category, country, window and pricing
// type — a handful of groups, whatever the campaign's size.
func CostSoFar(ctx context.Context, tn models.Tenant, c *Campaign) (Cost, error) {
	cards, err := rateCards(ctx, tn)
	if err != nil {
		return Cost{}, err
	}
	return costWith(ctx, tn, c, cards)
}

// rateCards are every rate card with its prices, oldest first (a handful).
func rateCards(ctx context.Context, tn models.Tenant) ([]billing.Card, error) {
	var cards []billing.Card
	err := tn.DB().Gorm.WithContext(ctx).Preload("Prices").Order("effective_from, id").Find(&cards).Error
	return cards, models.Wrap("campaigns.rateCards", err)
}

func costWith(ctx context.Context, tn models.Tenant, c *Campaign, cards []billing.Card) (Cost, error) {
	// Boundaries: each card's date (a later card with the same date
	// wins, as billing.CardAt picks it) and the rule's change.
	type span struct {
		from, to time.Time
		card     *billing.Card
	}
	bounds := []time.Time{billing.PricingChange}
	for i := range cards {
		bounds = append(bounds, cards[i].EffectiveFrom)
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].Before(bounds[j]) })
	cardAt := func(t time.Time) *billing.Card {
		var in *billing.Card
		for i := range cards {
			if !cards[i].EffectiveFrom.After(t) {
				in = &cards[i]
			}
		}
		return in
	}
	var spans []span
	start := time.Time{}
	for _, b := range bounds {
		if b.After(start) {
			spans = append(spans, span{from: start, to: b, card: cardAt(start)})
			start = b
		}
	}
	spans = append(spans, span{from: start, card: cardAt(start)})

	fallback := strings.ToLower(c.Category)
	out := Cost{Amount: decimal.Zero}
	for _, sp := range spans {
		q := tn.Scoped(ctx).Table("messages").
			Select("category, country, window_open, pricing_type, COUNT(*) AS n").
			Where("campaign_id = ? AND state IN ?", c.ID, []string{messages.Delivered, messages.Read}).
			Where("COALESCE(delivered_at, read_at) >= ?", sp.from.UTC())
		if !sp.to.IsZero() {
			q = q.Where("COALESCE(delivered_at, read_at) < ?", sp.to.UTC())
		}
		var groups []struct {
			Category    string
			Country     string
			WindowOpen  *bool
			PricingType string
			N           int
		}
		if err := q.Group("category, country, window_open, pricing_type").Scan(&groups).Error; err != nil {
			return Cost{}, models.Wrap("campaigns.CostSoFar", err)
		}
		for _, g := range groups {
			cat := strings.ToLower(g.Category)
			if cat == "" {
				cat = fallback
			}
			d := billing.Judge(billing.Facts{Category: cat, DeliveredAt: sp.from, InWindow: g.WindowOpen != nil && *g.WindowOpen, PlatformType: g.PricingType})
			if !d.Billable {
				out.Free += g.N
				continue
			}
			if sp.card == nil {
				out.Unpriced += g.N
				continue
			}
			unit, ok := priceIn(sp.card, d.PriceCategory, g.Country)
			if !ok {
				out.Unpriced += g.N
				continue
			}
			if out.Currency == "" {
				out.Currency = sp.card.Currency
			}
			out.Billed += g.N
			out.Amount = out.Amount.Add(unit.Mul(decimal.NewFromInt(int64(g.N))))
		}
	}
	return out, nil
}

// priceIn is card's unit price for category in country, else the
// category's default (as billing.Card.PriceOf, by country code).
func priceIn(card *billing.Card, category, country string) (decimal.Decimal, bool) {
	var def *billing.CardPrice
	for i := range card.Prices {
		cp := &card.Prices[i]
		if cp.Category != category {
			continue
		}
		if country != "" && strings.EqualFold(cp.Country, country) {
			return cp.Price, true
		}
		if cp.Country == "" {
			def = cp
		}
	}
	if def == nil {
		return decimal.Decimal{}, false
	}
	return def.Price, true
}
