package campaigns

import (
	"context"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/shopspring/decimal"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
)

// Estimate is what a campaign will cost by the card in force now:
// recipients per country × the unit price of the template's category
// there (the card's default where it has no price for the country).
type Estimate struct {
	Category string // billing category (lower case)
	Currency string
	CardID   int64
	Lines    []CostLine // by descending recipients, then country
	Total    decimal.Decimal
	// Recipients is the sum of the lines' recipients.
	Recipients int
	// MaxUnit is the highest unit price among the lines: a partial send
	// of n recipients never costs more than n × MaxUnit.
	MaxUnit decimal.Decimal
}

// CostLine is one country's recipients and price. Country "" is numbers
// whose country the number plan does not tell (priced at the default).
type CostLine struct {
	Country    string
	Recipients int
	Unit       decimal.Decimal
	Amount     decimal.Decimal
	Default    bool // the card's default price applied
}

// BillingCategory is the card's category of a template category
// (MARKETING → marketing).
func BillingCategory(templateCategory string) string {
	return strings.ToLower(strings.TrimSpace(templateCategory))
}

// unitFor is the card's price for category in country, as Card.PriceOf
// chooses it: the country's, else the category's default.
func unitFor(card *billing.Card, category, country string) (decimal.Decimal, bool, bool) {
	var def *billing.CardPrice
	for i := range card.Prices {
		cp := &card.Prices[i]
		if cp.Category != category {
			continue
		}
		if country != "" && cp.Country == country {
			return cp.Price, false, true
		}
		if cp.Country == "" {
			def = cp
		}
	}
	if def == nil {
		return decimal.Zero, false, false
	}
	return def.Price, true, true
}

// EstimateCost prices the campaign's recipients (CountAudience's
// Recipients) by the card in force at now. Recipients are grouped by
// country in SQL by the number's first digits; only calling codes that
// several countries share (+1, +7, +44, …) are told apart number by
// number (billing.CountryOf), in pages of 5,000.
func EstimateCost(ctx context.Context, tn models.Tenant, c *Campaign, now time.Time) (Estimate, error) {
	if err := tn.Check(); err != nil {
		return Estimate{}, err
	}
	card, err := billing.CardAt(ctx, tn.DB(), now)
	if err != nil {
		return Estimate{}, models.Wrap("campaigns.EstimateCost", err)
	}
	cond, args, err := c.RecipientWhere(ctx, tn)
	if err != nil {
		return Estimate{}, models.Wrap("campaigns.EstimateCost", err)
	}
	byCountry, err := recipientCountries(ctx, tn, cond, args)
	if err != nil {
		return Estimate{}, models.Wrap("campaigns.EstimateCost", err)
	}
	est := Estimate{Category: BillingCategory(c.Category), Currency: card.Currency, CardID: card.ID, Total: decimal.Zero, MaxUnit: decimal.Zero}
	for country, n := range byCountry {
		unit, def, ok := unitFor(card, est.Category, country)
		if !ok {
			return Estimate{}, models.Wrap("campaigns.EstimateCost", billing.ErrNoCard)
		}
		line := CostLine{Country: country, Recipients: n, Unit: unit, Default: def, Amount: unit.Mul(decimal.NewFromInt(int64(n)))}
		est.Lines = append(est.Lines, line)
		est.Total = est.Total.Add(line.Amount)
		est.Recipients += n
		if unit.GreaterThan(est.MaxUnit) {
			est.MaxUnit = unit
		}
	}
	sort.Slice(est.Lines, func(i, j int) bool {
		if est.Lines[i].Recipients != est.Lines[j].Recipients {
			return est.Lines[i].Recipients > est.Lines[j].Recipients
		}
		return est.Lines[i].Country < est.Lines[j].Country
	})
	return est, nil
}

// callingCode is the country calling code an E.164 prefix starts with
// (codes are prefix-free: the first of 1, 2 or 3 digits the plan knows).
func callingCode(prefix string) int {
	digits := strings.TrimPrefix(prefix, "+")
	for l := 1; l <= 3 && l <= len(digits); l++ {
		n, err := strconv.Atoi(digits[:l])
		if err != nil {
			return 0
		}
		if len(phonenumbers.GetRegionCodesForCountryCode(n)) > 0 {
			return n
		}
	}
	return 0
}

// recipientCountries counts the recipients matching cond per country.
func recipientCountries(ctx context.Context, tn models.Tenant, cond string, args []any) (map[string]int, error) {
	type group struct {
		P string
		N int
	}
	var groups []group
	q := "SELECT SUBSTR(c.phone, 1, 4) AS p, COUNT(*) AS n FROM contacts c WHERE c.business_id = ? AND " + cond + " GROUP BY SUBSTR(c.phone, 1, 4)"
	if err := tn.Gorm(ctx).Raw(q, append([]any{tn.BusinessID()}, args...)...).Scan(&groups).Error; err != nil {
		return nil, err
	}
	out := map[string]int{}
	var shared []string // prefixes of calling codes several countries share
	for _, g := range groups {
		regions := phonenumbers.GetRegionCodesForCountryCode(callingCode(g.P))
		switch {
		case len(regions) == 1:
			out[regions[0]] += g.N
		case len(regions) == 0:
			out[""] += g.N
		default:
			shared = append(shared, g.P)
		}
	}
	if len(shared) == 0 {
		return out, nil
	}
	// Number by number, in one streamed pass, the number plan's
	// validation spread over the processors.
	rows, err := tn.Gorm(ctx).Raw("SELECT c.phone FROM contacts c WHERE c.business_id = ? AND "+cond+" AND SUBSTR(c.phone, 1, 4) IN ?",
		append(append([]any{tn.BusinessID()}, args...), shared)...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	workers := max(1, runtime.GOMAXPROCS(0))
	batches := make(chan []string, workers)
	counts := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		counts[w] = map[string]int{}
		wg.Add(1)
		go func(m map[string]int) {
			defer wg.Done()
			for b := range batches {
				for _, ph := range b {
					m[billing.CountryOf(ph)]++
				}
			}
		}(counts[w])
	}
	batch := make([]string, 0, 1000)
	var scanErr error
	for rows.Next() {
		var phone string
		if scanErr = rows.Scan(&phone); scanErr != nil {
			break
		}
		if batch = append(batch, phone); len(batch) == cap(batch) {
			batches <- batch
			batch = make([]string, 0, 1000)
		}
	}
	batches <- batch
	close(batches)
	wg.Wait()
	if scanErr != nil {
		return nil, scanErr
	}
	for _, m := range counts {
		for k, n := range m {
			out[k] += n
		}
	}
	return out, rows.Err()
}
