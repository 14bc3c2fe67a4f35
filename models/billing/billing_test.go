package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	before = time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC)
	after  = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
)

// The billable rule, case by case, on both sides of 1 October 2026.
func TestJudgeOnBothSidesOfTheChange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		f        billing.Facts
		billable bool
		disagree bool
	}{
		{"marketing before", billing.Facts{Category: billing.Marketing, DeliveredAt: before}, true, false},
		{"marketing in the window", billing.Facts{Category: billing.Marketing, DeliveredAt: after, InWindow: true}, true, false},
		{"authentication", billing.Facts{Category: billing.Authentication, DeliveredAt: before, InWindow: true}, true, false},
		{"utility outside the window, before", billing.Facts{Category: billing.Utility, DeliveredAt: before}, true, false},
		{"utility inside the window, before", billing.Facts{Category: billing.Utility, DeliveredAt: before, InWindow: true}, false, false},
		{"utility inside the window, after", billing.Facts{Category: billing.Utility, DeliveredAt: after, InWindow: true}, true, false},
		{"service before", billing.Facts{Category: billing.Service, DeliveredAt: before, ServiceBefore: 5000}, false, false},
		{"service after, the 1,000th", billing.Facts{Category: billing.Service, DeliveredAt: after, ServiceBefore: 999}, false, false},
		{"service after, the 1,001st", billing.Facts{Category: billing.Service, DeliveredAt: after, ServiceBefore: 1000}, true, false},
		{"platform says free entry point", billing.Facts{Category: billing.Marketing, DeliveredAt: after, PlatformType: billing.TypeFreeEntryPoint}, false, true},
		{"platform charges a free utility", billing.Facts{Category: billing.Utility, DeliveredAt: before, InWindow: true, PlatformType: billing.TypeRegular}, true, true},
		{"platform agrees", billing.Facts{Category: billing.Utility, DeliveredAt: after, InWindow: true, PlatformType: billing.TypeRegular}, true, false},
	} {
		d := billing.Judge(c.f)
		if d.Billable != c.billable || d.Disagrees != c.disagree || d.Rule == "" {
			t.Errorf("%s: billable %v (rule %q), disagrees %v; want %v, %v", c.name, d.Billable, d.Rule, d.Disagrees, c.billable, c.disagree)
		}
		if c.disagree && d.Ours == d.Billable {
			t.Errorf("%s: our own verdict is not kept beside the platform's", c.name)
		}
	}
}

// A new instance prices at once by the shipped example card: Germany's
// rates, and the default for other countries; a newer card applies from
// its date and never backwards.
func TestExampleCardAndEffectiveDates(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	p, err := billing.PriceAt(ctx, db, billing.Marketing, "+4915123456789", after)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Unit.Equal(decimal.RequireFromString("0.1131")) || p.Currency != "EUR" || p.Country != "DE" {
		t.Fatalf("German marketing message: %+v", p)
	}
	if p, err := billing.PriceAt(ctx, db, billing.Utility, "+919876543210", after); err != nil || !p.Unit.Equal(decimal.RequireFromString("0.0456")) || p.Country != "" {
		t.Fatalf("Indian utility message by the default: %+v %v", p, err)
	}
	if _, err := billing.PriceAt(ctx, db, billing.Marketing, "+4915123456789", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, billing.ErrNoCard) {
		t.Fatalf("before any card: %v", err)
	}
	// A card from November: October's messages keep the example's price.
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	card := &billing.Card{Name: "Ours", Currency: "EUR", EffectiveFrom: nov, CreatedAt: nov,
		Prices: []billing.CardPrice{{Category: billing.Marketing, Price: decimal.RequireFromString("0.15")}}}
	if err := db.Gorm.Create(card).Error; err != nil {
		t.Fatal(err)
	}
	if p, _ := billing.PriceAt(ctx, db, billing.Marketing, "+4915123456789", after); !p.Unit.Equal(decimal.RequireFromString("0.1131")) {
		t.Errorf("an October message priced by November's card: %v", p.Unit)
	}
	if p, _ := billing.PriceAt(ctx, db, billing.Marketing, "+4915123456789", nov); !p.Unit.Equal(decimal.RequireFromString("0.15")) || p.CardID != card.ID {
		t.Errorf("a November message: %+v", p)
	}
	if _, err := billing.PriceAt(ctx, db, billing.Utility, "+4915123456789", nov); !errors.Is(err, billing.ErrNoCard) {
		t.Errorf("a category the card lacks: %v", err)
	}
}

func TestCountryOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"+4915123456789": "DE", "+14165550123": "CA", "+12125550123": "US", "+919876543210": "IN", "nonsense": ""} {
		if got := billing.CountryOf(in); got != want {
			t.Errorf("CountryOf(%s) = %q, want %q", in, got, want)
		}
	}
}
