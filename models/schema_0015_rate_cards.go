package models

import (
	"time"

	"gorm.io/gorm"
)

// Schema 15: the rate card: the price per message by category and
// recipient country (an empty country is the category's default), one
// currency per card, in force from its date; the platform's own cost may
// stand beside each price. A new card replaces the one before it from
// its date on and never backwards; old cards stay (history). A labelled
// example card is shipped so that a new instance can estimate at once.
const schema0015 = `
CREATE TABLE rate_cards (
	id {{id}},
	name TEXT NOT NULL,
	currency VARCHAR(3) NOT NULL,
	effective_from {{ts}} NOT NULL,
	example {{bool}} NOT NULL DEFAULT FALSE,
	note TEXT NOT NULL DEFAULT '',
	created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX rate_cards_effective_idx ON rate_cards (effective_from);
CREATE TABLE rate_card_prices (
	id {{id}},
	card_id {{bigint}} NOT NULL REFERENCES rate_cards(id) ON DELETE CASCADE,
	category VARCHAR(20) NOT NULL,
	country VARCHAR(2) NOT NULL DEFAULT '',
	price {{decimal}} NOT NULL,
	cost {{decimal}}
);
CREATE UNIQUE INDEX rate_card_prices_key ON rate_card_prices (card_id, category, country);
`

// seedExampleRateCard adds the example card: the platform's published
// 2025 rates for Germany, used as the default for every country until
// administrators enter their own card.
func seedExampleRateCard(tx *gorm.DB, _ Dialect) error {
	from := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	card := map[string]any{"name": "Example card (platform rates for Germany, 2025)", "currency": "EUR",
		"effective_from": from, "example": true, "created_at": from,
		"note": "An example to start with: replace it with your own prices (Admin → Rate card)."}
	if err := tx.Table("rate_cards").Create(card).Error; err != nil {
		return err
	}
	var id int64
	if err := tx.Table("rate_cards").Select("MAX(id)").Scan(&id).Error; err != nil {
		return err
	}
	for _, p := range []struct{ category, country, price string }{
		{"marketing", "", "0.1131"}, {"utility", "", "0.0456"}, {"authentication", "", "0.0456"}, {"service", "", "0.0456"},
		{"marketing", "DE", "0.1131"}, {"utility", "DE", "0.0456"}, {"authentication", "DE", "0.0456"}, {"service", "DE", "0.0456"},
	} {
		if err := tx.Table("rate_card_prices").Create(map[string]any{"card_id": id, "category": p.category, "country": p.country,
			"price": p.price, "cost": p.price}).Error; err != nil {
			return err
		}
	}
	return nil
}
