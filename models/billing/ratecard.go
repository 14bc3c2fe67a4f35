// Package billing is what businesses pay for their messages: the rate
// card (a price per message by category and recipient country, in force
// from a date), the dated rule of which messages are billable, and — with
// the billing issue — usage records and invoices.
//
// Money is shopspring/decimal, never float; a unit price keeps its
// decimals (0.0456) and amounts are rounded once, per invoice line.
package billing

import (
	"context"
	"errors"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Categories of charged messages: the template categories, and service
// (free-form replies inside the customer-service window).
const (
	Marketing      = "marketing"
	Utility        = "utility"
	Authentication = "authentication"
	Service        = "service"
)

// Categories lists them in the order cards show them.
var Categories = []string{Marketing, Utility, Authentication, Service}

// Card is one rate card.
type Card struct {
	ID            int64
	Name          string
	Currency      string
	EffectiveFrom time.Time
	Example       bool
	Note          string
	CreatedByID   *int64
	CreatedAt     time.Time
	Prices        []CardPrice `gorm:"foreignKey:CardID"`
}

// TableName is the cards' table.
func (Card) TableName() string { return "rate_cards" }

// CardPrice is a card's price for a category in a country ("" is the
// category's default), with the platform's cost beside it when known.
type CardPrice struct {
	ID       int64
	CardID   int64
	Category string
	Country  string
	Price    decimal.Decimal
	Cost     decimal.NullDecimal
}

// TableName is the prices' table.
func (CardPrice) TableName() string { return "rate_card_prices" }

// ErrNoCard is returned when no card is in force at the time asked.
var ErrNoCard = errors.New("billing: no rate card in force")

// Price is what one message costs the business: the unit price from the
// card in force, with where it came from.
type Price struct {
	Unit     decimal.Decimal
	Cost     decimal.NullDecimal // the platform's cost, when the card has it
	Currency string
	CardID   int64
	Country  string // the country whose price applied ("" the default)
	Category string
}

// CardAt is the card in force at t: the newest whose date is not after t.
func CardAt(ctx context.Context, db *models.DB, t time.Time) (*Card, error) {
	var c Card
	err := db.WithContext(ctx).Preload("Prices").Where("effective_from <= ?", t).
		Order("effective_from DESC, id DESC").First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoCard
	}
	if err != nil {
		return nil, models.Wrap("billing.CardAt", err)
	}
	return &c, nil
}

// PriceOf is the card's price of one message of category to the number
// to (E.164): the price for the recipient's country, else the category's
// default. ok is false when the card has neither.
func (c *Card) PriceOf(category, to string) (p Price, ok bool) {
	country := CountryOf(to)
	var def *CardPrice
	for i := range c.Prices {
		cp := &c.Prices[i]
		if cp.Category != category {
			continue
		}
		if country != "" && cp.Country == country {
			return Price{Unit: cp.Price, Cost: cp.Cost, Currency: c.Currency, CardID: c.ID, Country: country, Category: category}, true
		}
		if cp.Country == "" {
			def = cp
		}
	}
	if def == nil {
		return Price{}, false
	}
	return Price{Unit: def.Price, Cost: def.Cost, Currency: c.Currency, CardID: c.ID, Category: category}, true
}

// PriceAt is the price of one message of category to to, by the card in
// force at t (the delivery time for a charge, now for an estimate).
func PriceAt(ctx context.Context, db *models.DB, category, to string, t time.Time) (Price, error) {
	c, err := CardAt(ctx, db, t)
	if err != nil {
		return Price{}, err
	}
	p, ok := c.PriceOf(category, to)
	if !ok {
		return Price{}, models.Wrap("billing.PriceAt", ErrNoCard)
	}
	return p, nil
}

// CountryOf is the ISO country of an E.164 number by its number plan
// (+1 416… is CA, +1 212… US), "" when it cannot tell.
func CountryOf(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(n)
	if r == "ZZ" {
		return ""
	}
	return r
}
