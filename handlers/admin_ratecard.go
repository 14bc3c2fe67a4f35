package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// A new card form shows the rows it was given plus blankCountryRows empty
// country rows; "More country rows" adds moreCountryRows (no script).
const (
	blankCountryRows = 3
	moreCountryRows  = 5
	maxCardRows      = 300
)

// cardRow is one row of the new card form: the default (country "") or a
// country, with a price and a cost per category as typed.
type cardRow struct {
	Country string
	Price   map[string]string
	Cost    map[string]string
}

func (r cardRow) blank() bool {
	if r.Country != "" {
		return false
	}
	for _, cat := range billing.Categories {
		if r.Price[cat] != "" || r.Cost[cat] != "" {
			return false
		}
	}
	return true
}

func rowField(i int, part string) string { return "r" + strconv.Itoa(i) + "_" + part }

// readCardForm reads the new card form: its fields into f and its rows
// (row 0 the default) as typed.
func readCardForm(c echo.Context) (*views.Form, []cardRow) {
	f := views.NewForm()
	for _, k := range []string{"name", "currency", "effective_from", "note"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	n, _ := strconv.Atoi(c.FormValue("rows"))
	n = min(max(n, 1), maxCardRows)
	rows := make([]cardRow, 0, n)
	for i := range n {
		r := cardRow{Price: map[string]string{}, Cost: map[string]string{}}
		if i > 0 {
			r.Country = strings.ToUpper(strings.TrimSpace(c.FormValue(rowField(i, "country"))))
		}
		for _, cat := range billing.Categories {
			r.Price[cat] = strings.TrimSpace(c.FormValue(rowField(i, cat+"_price")))
			r.Cost[cat] = strings.TrimSpace(c.FormValue(rowField(i, cat+"_cost")))
		}
		if i > 0 && r.blank() {
			continue // blank country rows are dropped (and shown again blank)
		}
		rows = append(rows, r)
	}
	return f, rows
}

// parseAmount reads a per-message amount: a decimal, not negative, at most
// six decimals (the model's rule).
func parseAmount(s string) (decimal.Decimal, string) {
	s = strings.ReplaceAll(s, ",", ".")
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil:
		return d, "billing_ui.card.error.amount"
	case d.IsNegative():
		return d, "billing_ui.card.error.negative"
	case d.Exponent() < -6 && !d.Equal(d.Round(6)):
		return d, "billing_ui.card.error.decimals"
	case d.GreaterThanOrEqual(decimal.NewFromInt(1000)):
		return d, "billing_ui.card.error.too_large"
	}
	return d, ""
}

// validateCard checks every field and row, setting a message on each bad
// field, and returns the card to save.
func validateCard(c echo.Context, f *views.Form, rows []cardRow, now time.Time, newest *billing.Card) (billing.CardInput, []priceFields) {
	var fields []priceFields
	in := billing.CardInput{Name: f.Value("name"), Currency: f.Value("currency"), Note: f.Value("note")}
	switch {
	case in.Name == "":
		f.SetError("name", t(c, "billing_ui.card.error.name"))
	case len([]rune(in.Name)) > 120:
		f.SetError("name", t(c, "billing_ui.card.error.name_long"))
	}
	if len([]rune(in.Note)) > 500 {
		f.SetError("note", t(c, "billing_ui.card.error.note_long"))
	}
	if !slices.Contains(profiles.Currencies, in.Currency) {
		f.SetError("currency", t(c, "billing_ui.card.error.currency"))
	}
	earliest := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	if newest != nil && !newest.EffectiveFrom.Before(earliest) {
		earliest = time.Date(newest.EffectiveFrom.Year(), newest.EffectiveFrom.Month(), newest.EffectiveFrom.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	}
	from, err := time.Parse("2006-01-02", f.Value("effective_from"))
	switch {
	case f.Value("effective_from") == "":
		f.SetError("effective_from", t(c, "billing_ui.card.error.from_missing"))
	case err != nil:
		f.SetError("effective_from", t(c, "billing_ui.card.error.from_bad"))
	case from.Before(earliest):
		f.SetError("effective_from", t(c, "billing_ui.card.error.backwards", earliest.Format("2006-01-02")))
	}
	in.EffectiveFrom = from
	seen := map[string]int{}
	for i, r := range rows {
		idx := i
		any := false
		if i > 0 {
			switch {
			case r.Country == "":
				f.SetError(rowField(idx, "country"), t(c, "billing_ui.card.error.country_missing"))
			case !validRegion(r.Country):
				f.SetError(rowField(idx, "country"), t(c, "billing_ui.card.error.country_bad"))
			case seen[r.Country] > 0:
				f.SetError(rowField(idx, "country"), t(c, "billing_ui.card.error.country_twice"))
			}
			seen[r.Country] = idx
		}
		for _, cat := range billing.Categories {
			pf, cf := rowField(idx, cat+"_price"), rowField(idx, cat+"_cost")
			ps, cs := r.Price[cat], r.Cost[cat]
			if ps == "" {
				if i == 0 {
					f.SetError(pf, t(c, "billing_ui.card.error.default_price", t(c, "billing_ui.category."+cat)))
				} else if cs != "" {
					f.SetError(pf, t(c, "billing_ui.card.error.cost_without_price"))
				}
				continue
			}
			any = true
			if _, key := parseAmount(ps); key != "" {
				f.SetError(pf, t(c, key))
			}
			if cs != "" {
				if _, key := parseAmount(cs); key != "" {
					f.SetError(cf, t(c, key))
				}
			}
			in.Prices = append(in.Prices, billing.PriceInput{Category: cat, Country: r.Country,
				Price: strings.ReplaceAll(ps, ",", "."), Cost: strings.ReplaceAll(cs, ",", ".")})
			fields = append(fields, priceFields{country: rowField(idx, "country"), price: pf, cost: cf})
		}
		if i > 0 && !any && f.Error(rowField(idx, "country")) == "" {
			f.SetError(rowField(idx, "country"), t(c, "billing_ui.card.error.country_no_price"))
		}
	}
	return in, fields
}

// priceFields are the form fields of in.Prices[i], so that a problem the
// model finds ("prices[3].cost") is shown at its input.
type priceFields struct{ country, price, cost string }

// cardProblems shows the model's problems at the form's fields.
func cardProblems(c echo.Context, f *views.Form, fields []priceFields, err error) error {
	v, ok := models.AsValidation(err)
	if !ok {
		return err
	}
	for _, pr := range v.Problems {
		field := pr.Field
		var i int
		var part string
		if n, _ := fmt.Sscanf(strings.Replace(field, "].", "] ", 1), "prices[%d] %s", &i, &part); n == 2 && i >= 0 && i < len(fields) {
			switch part {
			case "price":
				field = fields[i].price
			case "cost":
				field = fields[i].cost
			default:
				field = fields[i].country
			}
		} else if !slices.Contains([]string{"name", "currency", "effective_from", "note"}, field) {
			field = "prices" // shown above the price table
		}
		if f.Error(field) == "" {
			f.SetError(field, t(c, pr.Key, pr.Args...))
		}
	}
	if !f.HasErrors() {
		f.SetError("name", t(c, "error.internal.text"))
	}
	return nil
}

// validRegion reports whether code is an ISO 3166 country.
func validRegion(code string) bool { return slices.Contains(models.Countries(), code) }

// cardRowsOf are the rows of a saved card (the form starts from the card
// in force).
func cardRowsOf(card *billing.Card) []cardRow {
	rows := []cardRow{{Price: map[string]string{}, Cost: map[string]string{}}}
	if card == nil {
		return rows
	}
	byCountry := map[string]int{"": 0}
	for _, p := range card.Prices {
		i, ok := byCountry[p.Country]
		if !ok {
			i = len(rows)
			byCountry[p.Country] = i
			rows = append(rows, cardRow{Country: p.Country, Price: map[string]string{}, Cost: map[string]string{}})
		}
		rows[i].Price[p.Category] = p.Price.String()
		if p.Cost.Valid {
			rows[i].Cost[p.Category] = p.Cost.Decimal.String()
		}
	}
	slices.SortStableFunc(rows[1:], func(a, b cardRow) int { return strings.Compare(a.Country, b.Country) })
	return rows
}

// rateCardsPage shows the card history and the new card form.
func (h *Handler) rateCardsPage(c echo.Context, status int, f *views.Form, rows []cardRow, extra int) error {
	ctx := c.Request().Context()
	cards, err := billing.Cards(ctx, h.s.DB)
	if err != nil {
		return err
	}
	now := h.s.DB.Now()
	var current *billing.Card
	for i := range cards {
		if !cards[i].EffectiveFrom.After(now) {
			current = &cards[i]
			break
		}
	}
	if f == nil {
		f = views.NewForm()
		f.Values["effective_from"] = now.UTC().AddDate(0, 0, 1).Format("2006-01-02")
		f.Values["currency"] = "EUR"
		if current != nil {
			f.Values["currency"] = current.Currency
			f.Values["name"] = t(c, "billing_ui.card.name_default", f.Values["effective_from"])
		}
		rows = cardRowsOf(current)
	}
	vm := views.RateCardsVM{Form: f, Currencies: currencyOptions(c), Countries: countryOptions(c)}
	for _, cat := range billing.Categories {
		vm.Categories = append(vm.Categories, views.Option{Value: cat, Label: t(c, "billing_ui.category."+cat)})
	}
	n := len(rows) + blankCountryRows + extra
	for i := range n {
		r := cardRow{Price: map[string]string{}, Cost: map[string]string{}}
		if i < len(rows) {
			r = rows[i]
		}
		f.Values[rowField(i, "country")] = r.Country
		row := views.RateCardRowVM{Index: i, Default: i == 0, CountryField: rowField(i, "country"), CountryName: countryName(c, r.Country)}
		for _, cat := range billing.Categories {
			pf, cf := rowField(i, cat+"_price"), rowField(i, cat+"_cost")
			f.Values[pf], f.Values[cf] = r.Price[cat], r.Cost[cat]
			row.Cells = append(row.Cells, views.RateCardCellVM{PriceField: pf, CostField: cf, Category: cat,
				Margin: marginText(c, r.Price[cat], r.Cost[cat])})
		}
		vm.Rows = append(vm.Rows, row)
	}
	// Rows are numbered as readCardForm kept them, so each message stays
	// at its row when the form is shown again.
	vm.RowCount = n
	for i := range cards {
		vm.Cards = append(vm.Cards, cardVM(c, &cards[i], current, now))
	}
	return web.Render(c, status, views.RateCardsPage(web.NewPage(c, "billing_ui.cards.title", "admin-billing"), vm))
}

// marginText is price − cost with its share of the price, "" when either
// is missing or not a number.
func marginText(c echo.Context, price, cost string) string {
	p, e1 := decimal.NewFromString(strings.ReplaceAll(price, ",", "."))
	k, e2 := decimal.NewFromString(strings.ReplaceAll(cost, ",", "."))
	if price == "" || cost == "" || e1 != nil || e2 != nil {
		return ""
	}
	return marginOf(c, p, decimal.NullDecimal{Decimal: k, Valid: true})
}

func marginOf(c echo.Context, price decimal.Decimal, cost decimal.NullDecimal) string {
	if !cost.Valid {
		return ""
	}
	m := price.Sub(cost.Decimal)
	l := web.LocaleFrom(c.Request().Context())
	s := l.Decimal(m.Shift(4).Round(0).IntPart(), 4)
	if price.IsPositive() {
		s += " (" + l.Decimal(m.Div(price).Shift(3).Round(0).IntPart(), 1) + "\u00a0%)"
	}
	return s
}

func cardVM(c echo.Context, card, current *billing.Card, now time.Time) views.RateCardVM {
	l := web.LocaleFrom(c.Request().Context())
	vm := views.RateCardVM{ID: card.ID, Name: card.Name, Currency: card.Currency, From: l.Date(card.EffectiveFrom, nil),
		Example: card.Example, Note: card.Note, Current: current != nil && current.ID == card.ID, Scheduled: card.EffectiveFrom.After(now)}
	for _, r := range cardRowsOf(card) {
		row := views.RateCardPriceRowVM{Country: r.Country, CountryName: countryName(c, r.Country)}
		for _, cat := range billing.Categories {
			cell := views.RateCardPriceVM{Price: r.Price[cat], Cost: r.Cost[cat]}
			if cell.Price != "" {
				cell.Margin = marginText(c, r.Price[cat], r.Cost[cat])
			}
			row.Cells = append(row.Cells, cell)
		}
		vm.Rows = append(vm.Rows, row)
	}
	return vm
}

// showRateCards is the rate card admin page.
func (h *Handler) showRateCards(c echo.Context) error {
	return h.rateCardsPage(c, http.StatusOK, nil, nil, 0)
}

// createRateCard saves a new card from its date on, or shows the form again
// with a message at each bad field and everything typed kept. "More
// country rows" only shows the form again with more blank rows.
func (h *Handler) createRateCard(c echo.Context) error {
	f, rows := readCardForm(c)
	if c.FormValue("more") != "" {
		return h.rateCardsPage(c, http.StatusOK, f, rows, moreCountryRows)
	}
	ctx := c.Request().Context()
	cards, err := billing.Cards(ctx, h.s.DB)
	if err != nil {
		return err
	}
	var newest *billing.Card
	if len(cards) > 0 {
		newest = &cards[0]
	}
	in, fields := validateCard(c, f, rows, h.s.DB.Now(), newest)
	if !f.HasErrors() {
		_, err = billing.SaveCard(ctx, h.s.DB, actor(c).User, in, c.RealIP())
		if err == nil {
			web.Flash(c, "success", t(c, "billing_ui.card.saved", in.EffectiveFrom.Format("2006-01-02")))
			return redirect(c, "/admin/rate-cards")
		}
		if err := cardProblems(c, f, fields, err); err != nil {
			return err
		}
	}
	return h.rateCardsPage(c, http.StatusUnprocessableEntity, f, rows, 0)
}
