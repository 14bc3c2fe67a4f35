package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

// PriceMax bounds a price or cost per message.
var PriceMax = decimal.NewFromInt(1000)

// Cards is the rate-card history, newest effective date first, with
// their prices (by category, then country, the default first).
func Cards(ctx context.Context, db *models.DB) ([]Card, error) {
	var out []Card
	err := db.WithContext(ctx).Preload("Prices", func(q *gorm.DB) *gorm.DB { return q.Order("category, country") }).
		Order("effective_from DESC, id DESC").Find(&out).Error
	return out, models.Wrap("billing.Cards", err)
}

// SaveCard adds a new rate card, audited. It applies to messages
// delivered from its date on and never backwards: the date may not lie
// in the past (messages already delivered keep the price they were
// charged at). Every category needs a default price (country empty), so
// every message can be priced; countries are ISO codes, each category ×
// country once; prices and costs are decimals ≥ 0 with at most 6
// decimals. The currency is that of the card in force (invoices are in
// one currency per month) unless no card is in force.
func SaveCard(ctx context.Context, db *models.DB, actor *models.User, in CardInput, ip string) (*Card, error) {
	now := db.Now()
	v := &models.ValidationError{}
	card := &Card{Name: cleanLine(in.Name, 200), Currency: strings.ToUpper(strings.TrimSpace(in.Currency)),
		EffectiveFrom: in.EffectiveFrom.UTC(), Note: cleanLine(in.Note, 1000), CreatedAt: now}
	if actor != nil {
		id := actor.ID
		card.CreatedByID = &id
	}
	if card.Name == "" {
		v.Add("name", "billing.card.name.required")
	}
	known := false
	for _, c := range profiles.Currencies {
		known = known || c == card.Currency
	}
	if !known {
		v.Add("currency", "billing.card.currency.invalid")
	} else if cur, err := CardAt(ctx, db, now); err == nil && cur.Currency != card.Currency {
		v.Add("currency", "billing.card.currency.changed", cur.Currency)
	}
	if in.EffectiveFrom.IsZero() {
		v.Add("effective_from", "billing.card.effective_from.required")
	} else if card.EffectiveFrom.Before(now.Truncate(time.Minute)) {
		v.Add("effective_from", "billing.card.effective_from.past")
	}
	seen := map[string]bool{}
	defaults := map[string]bool{}
	for i, p := range in.Prices {
		field := fmt.Sprintf("prices[%d]", i)
		cat := strings.TrimSpace(p.Category)
		country := strings.ToUpper(strings.TrimSpace(p.Country))
		if strings.TrimSpace(p.Price) == "" && strings.TrimSpace(p.Cost) == "" && country != "" {
			continue // an empty row of the form
		}
		if !isCategory(cat) {
			v.Add(field+".category", "billing.card.category.invalid")
			continue
		}
		if country != "" && !models.ValidCountry(country) {
			v.Add(field+".country", "billing.card.country.invalid")
		}
		key := cat + "/" + country
		if seen[key] {
			v.Add(field+".country", "billing.card.country.duplicate")
		}
		seen[key] = true
		price, ok := parseMoney(v, field+".price", p.Price, true)
		cost, costOK := parseMoney(v, field+".cost", p.Cost, false)
		if !ok {
			continue
		}
		cp := CardPrice{Category: cat, Country: country, Price: price}
		if costOK {
			cp.Cost = decimal.NullDecimal{Decimal: cost, Valid: true}
		}
		if country == "" {
			defaults[cat] = true
		}
		card.Prices = append(card.Prices, cp)
	}
	for _, c := range Categories {
		if !defaults[c] && !v.Has("prices") {
			v.Add("prices", "billing.card.default.required", c)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(card).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, audit(actor, "billing.card.create", "rate_card", fmt.Sprint(card.ID),
			fmt.Sprintf("%s (%s) from %s, %d prices", card.Name, card.Currency, card.EffectiveFrom.Format(time.RFC3339), len(card.Prices)), "", ip))
	})
	if err != nil {
		return nil, models.Wrap("billing.SaveCard", err)
	}
	return card, nil
}

// parseMoney reads a price as typed (a comma decimal point accepted).
// ok is false when it is empty or wrong (a problem is added when it is
// required or wrong).
func parseMoney(v *models.ValidationError, field, s string, required bool) (decimal.Decimal, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	if s == "" {
		if required {
			v.Add(field, "billing.card.price.required")
		}
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil:
		v.Add(field, "billing.card.price.invalid")
	case d.IsNegative():
		v.Add(field, "billing.card.price.negative")
	case d.GreaterThan(PriceMax):
		v.Add(field, "billing.card.price.too_high", PriceMax.String())
	case d.Exponent() < -6 && !d.Equal(d.Round(6)):
		v.Add(field, "billing.card.price.decimals")
	default:
		return d, true
	}
	return decimal.Zero, false
}
