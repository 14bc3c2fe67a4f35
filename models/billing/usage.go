package billing

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// chargeLock is the advisory lock (PostgreSQL) that charging and building
// an invoice take, so a record never lands in a period while its invoice
// is being built: charge batches share it (several run at once), a batch
// with service replies (it counts the month's replies) and BuildMonth take
// it alone. On SQLite every write transaction is serialised anyway.
const chargeLock = 4242018

// SettleAfter is how long after it was created a message that never got a
// delivered or read status stops holding back Charge's cursor: the
// platform gives up delivering a message after 30 days, so no delivery
// can come later. (ChargeAll reads everything, for an administrator's
// repair.)
const SettleAfter = 35 * 24 * time.Hour

// pending is a message that became billable and has no usage record yet.
type pending struct {
	ID              int64
	BusinessID      int64
	Category        string
	PricingCategory string
	Country         string
	ToPhone         string
	PricingType     string
	WindowOpen      *bool
	DeliveredAt     *time.Time
	ReadAt          *time.Time
}

// Charge judges every message that became billable (delivered, or read
// without a delivered) and has no usage record: by the dated rule (Judge)
// and the price of the card in force at its delivery, one usage record
// each, inserted with ON CONFLICT (message_id) DO NOTHING so a repeated
// or out-of-order webhook, or two processes at once, never charge twice.
// It works in batches from a cursor (the oldest message that may still
// become billable), so the periodic run reads only recent messages. n is
// the number of records written.
//
// The late-webhook rule: a record belongs to the month it was delivered
// in (in the business's time zone) unless that month already has an
// invoice; then it goes to the first later month without one. An issued
// invoice never changes.
func Charge(ctx context.Context, db *models.DB, now time.Time) (n int, err error) {
	return charge(ctx, db, now, false)
}

// ChargeAll is Charge over every message, not only those after the
// cursor (a repair after restoring messages; tests).
func ChargeAll(ctx context.Context, db *models.DB, now time.Time) (n int, err error) {
	return charge(ctx, db, now, true)
}

func charge(ctx context.Context, db *models.DB, now time.Time, all bool) (int, error) {
	var low int64
	if !all {
		if err := db.WithContext(ctx).Raw(`SELECT low_id FROM billing_charge_state WHERE id = 1`).Scan(&low).Error; err != nil {
			return 0, models.Wrap("billing.Charge", err)
		}
	}
	c := &charger{db: db, now: now.UTC(), tz: map[int64]*time.Location{}}
	if err := c.loadCards(ctx); err != nil {
		return 0, models.Wrap("billing.Charge", err)
	}
	batch := 2000
	if db.Dialect == models.Postgres {
		batch = 20000
	}
	total, err := c.run(ctx, low, batch)
	if err != nil {
		return total, models.Wrap("billing.Charge", err)
	}
	if err := advanceCursor(ctx, db, low, now); err != nil {
		return total, models.Wrap("billing.Charge", err)
	}
	return total, nil
}

// advanceCursor moves the cursor to just before the oldest message that
// may still become billable: not failed or skipped, without a record,
// created within SettleAfter.
func advanceCursor(ctx context.Context, db *models.DB, low int64, now time.Time) error {
	var next *int64
	err := db.WithContext(ctx).Raw(`SELECT MIN(m.id) FROM messages m
		WHERE m.id > ? AND m.created_at >= ? AND m.state NOT IN ('failed', 'skipped')
			AND NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.message_id = m.id)`, low, now.Add(-SettleAfter).UTC()).Scan(&next).Error
	if err != nil {
		return err
	}
	var to int64
	if next != nil {
		to = *next - 1
	} else if err := db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&to).Error; err != nil {
		return err
	}
	if to <= low {
		return nil
	}
	return db.WithContext(ctx).Exec(`UPDATE billing_charge_state SET low_id = ? WHERE id = 1 AND low_id < ?`, to, to).Error
}

type charger struct {
	db    *models.DB
	now   time.Time
	cards []Card // oldest first
	mu    sync.Mutex
	tz    map[int64]*time.Location
}

const pendingSQL = `SELECT m.id, m.business_id, m.category, m.pricing_category, m.country, m.to_phone,
		m.pricing_type, m.window_open, m.delivered_at, m.read_at
	FROM messages m
	WHERE m.id > ? AND (m.delivered_at IS NOT NULL OR m.read_at IS NOT NULL)
		AND NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.message_id = m.id)
	ORDER BY m.id LIMIT ?`

// run reads pending messages in batches from the cursor and charges
// them: on PostgreSQL by several workers at once (each batch its own
// transaction; batches without service replies share the charge lock, a
// batch with them takes it alone, as it counts the month's replies), on
// SQLite one batch after the other (one writer).
func (c *charger) run(ctx context.Context, low int64, batch int) (int, error) {
	workers := 1
	if c.db.Dialect == models.Postgres {
		workers = max(2, min(runtime.GOMAXPROCS(0), 4))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	work := make(chan []pending, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rows := range work {
				k, err := c.batch(ctx, rows)
				mu.Lock()
				total += k
				mu.Unlock()
				if err != nil {
					fail(err)
				}
			}
		}()
	}
	for cursor := low; ctx.Err() == nil; {
		var rows []pending
		if err := c.db.WithContext(ctx).Raw(pendingSQL, cursor, batch).Scan(&rows).Error; err != nil {
			fail(err)
			break
		}
		if len(rows) == 0 {
			break
		}
		cursor = rows[len(rows)-1].ID
		work <- rows
		if len(rows) < batch {
			break
		}
	}
	close(work)
	wg.Wait()
	return total, firstErr
}

func (c *charger) loadCards(ctx context.Context) error {
	if err := c.db.WithContext(ctx).Preload("Prices").Order("effective_from, id").Find(&c.cards).Error; err != nil {
		return err
	}
	return nil
}

// cardAt is the card in force at t (CardAt on the cached cards).
func (c *charger) cardAt(t time.Time) *Card {
	var best *Card
	for i := range c.cards {
		if !c.cards[i].EffectiveFrom.After(t) {
			best = &c.cards[i]
		}
	}
	return best
}

// priceIn is the card's price of category for a recipient in country
// (PriceOf by a known country, without parsing the number again).
func (card *Card) priceIn(category, country string) (Price, bool) {
	var def *CardPrice
	for i := range card.Prices {
		cp := &card.Prices[i]
		if cp.Category != category {
			continue
		}
		if country != "" && cp.Country == country {
			return Price{Unit: cp.Price, Cost: cp.Cost, Currency: card.Currency, CardID: card.ID, Country: country, Category: category}, true
		}
		if cp.Country == "" {
			def = cp
		}
	}
	if def == nil {
		return Price{}, false
	}
	return Price{Unit: def.Price, Cost: def.Cost, Currency: card.Currency, CardID: card.ID, Category: category}, true
}

// zones loads the time zones of businesses not yet known.
func (c *charger) zones(ctx context.Context, tx *gorm.DB, ids []int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var need []int64
	for _, id := range ids {
		if _, ok := c.tz[id]; !ok {
			need = append(need, id)
			c.tz[id] = time.UTC
		}
	}
	if len(need) == 0 {
		return nil
	}
	zs, err := timeZones(ctx, tx, need)
	if err != nil {
		return err
	}
	for id, loc := range zs {
		c.tz[id] = loc
	}
	return nil
}

// timeZones reads businesses' time zones (profiles.time_zone; UTC when
// absent or unknown).
func timeZones(ctx context.Context, tx *gorm.DB, ids []int64) (map[int64]*time.Location, error) {
	out := map[int64]*time.Location{}
	type row struct {
		BusinessID int64
		TimeZone   string
	}
	for start := 0; start < len(ids); start += models.SQLiteParams {
		end := min(start+models.SQLiteParams, len(ids))
		var rows []row
		if err := tx.WithContext(ctx).Raw(`SELECT business_id, time_zone FROM business_profiles WHERE business_id IN ?`, ids[start:end]).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			if loc, err := time.LoadLocation(r.TimeZone); err == nil && r.TimeZone != "" {
				out[r.BusinessID] = loc
			}
		}
	}
	return out, nil
}

// NextPeriod is the month after period (YYYY-MM).
func NextPeriod(period string) string {
	t, err := time.Parse("2006-01", period)
	if err != nil {
		return period
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// PeriodBounds is the period's first instant and the next period's
// first instant in loc.
func PeriodBounds(period string, loc *time.Location) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", period, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return t, t.AddDate(0, 1, 0), nil
}

type svcKey struct {
	business int64
	month    string
}

type bizPeriod struct {
	business int64
	period   string
}

func (c *charger) batch(ctx context.Context, rows []pending) (int, error) {
	ids := make([]int64, 0, 16)
	seen := map[int64]bool{}
	for _, r := range rows {
		if !seen[r.BusinessID] {
			seen[r.BusinessID] = true
			ids = append(ids, r.BusinessID)
		}
	}
	if err := c.zones(ctx, c.db.WithContext(ctx), ids); err != nil {
		return 0, err
	}
	// Judge and price outside the transaction; periods and service counts
	// need the lock and are settled inside.
	recs := make([]UsageRecord, len(rows))
	months := make([]string, len(rows))
	c.mu.Lock()
	zones := make(map[int64]*time.Location, len(ids))
	for _, id := range ids {
		zones[id] = c.tz[id]
	}
	c.mu.Unlock()
	service := false
	for i, m := range rows {
		at := m.DeliveredAt
		if at == nil {
			at = m.ReadAt
		}
		loc := zones[m.BusinessID]
		day := at.In(loc).Format("2006-01-02")
		months[i] = day[:7]
		// Template categories are upper case on the platform (MARKETING).
		category := strings.ToLower(strings.TrimSpace(m.Category))
		if category == "" {
			category = strings.ToLower(m.PricingCategory)
		}
		country := m.Country
		if country == "" {
			country = CountryOf(m.ToPhone)
		}
		service = service || category == Service
		recs[i] = UsageRecord{BusinessID: m.BusinessID, MessageID: m.ID, Category: category, Country: country,
			PlatformType: m.PricingType, BilledAt: at.UTC(), Day: day, CreatedAt: c.now}
	}
	n := 0
	err := c.inTx(ctx, service, func(q txQueries) error {
		closed, err := q.closedPeriods(ctx, ids)
		if err != nil {
			return err
		}
		counts := map[svcKey]int{}
		for i := range recs {
			if recs[i].Category == Service {
				k := svcKey{recs[i].BusinessID, months[i]}
				if _, ok := counts[k]; !ok {
					from := months[i] + "-01"
					to := NextPeriod(months[i]) + "-01"
					cnt, err := q.serviceCount(ctx, k.business, from, to)
					if err != nil {
						return err
					}
					counts[k] = cnt
				}
			}
		}
		for i := range recs {
			r := &recs[i]
			m := rows[i]
			f := Facts{Category: r.Category, DeliveredAt: r.BilledAt, InWindow: m.WindowOpen != nil && *m.WindowOpen, PlatformType: m.PricingType}
			if r.Category == Service {
				k := svcKey{r.BusinessID, months[i]}
				f.ServiceBefore = counts[k]
				counts[k]++
			}
			d := Judge(f)
			r.Billable, r.Rule, r.Disagrees, r.PriceCategory = d.Billable, d.Rule, d.Disagrees, d.PriceCategory
			r.UnitPrice = decimal.Zero
			card := c.cardAt(r.BilledAt)
			switch {
			case card == nil:
				r.Currency = c.fallbackCurrency()
				if r.Billable {
					r.Rule += "; no rate card in force: priced at 0"
				}
			default:
				r.Currency = card.Currency
				id := card.ID
				r.CardID = &id
				if p, ok := card.priceIn(r.PriceCategory, r.Country); ok {
					r.PriceCountry = p.Country
					if r.Billable {
						r.UnitPrice, r.Cost = p.Unit, p.Cost
					}
				} else if r.Billable {
					r.Rule += "; the card has no price for this category: priced at 0"
				}
			}
			r.Period = months[i]
			for closed[bizPeriod{r.BusinessID, r.Period}] {
				r.Period = NextPeriod(r.Period)
			}
		}
		k, err := q.insert(ctx, recs)
		n = k
		if err != nil {
			return err
		}
		periods := map[bizPeriod]bool{}
		for _, r := range recs {
			if r.Billable {
				periods[bizPeriod{r.BusinessID, r.Period}] = true
			}
		}
		return q.notePeriods(ctx, periods)
	})
	return n, err
}

func (c *charger) fallbackCurrency() string {
	if len(c.cards) > 0 {
		return c.cards[len(c.cards)-1].Currency
	}
	return "EUR"
}

// txQueries are the statements a charge batch runs under the lock, per
// database (PostgreSQL inserts with unnest arrays in one statement).
type txQueries interface {
	closedPeriods(ctx context.Context, businesses []int64) (map[bizPeriod]bool, error)
	serviceCount(ctx context.Context, business int64, fromDay, toDay string) (int, error)
	insert(ctx context.Context, recs []UsageRecord) (int, error)
	notePeriods(ctx context.Context, periods map[bizPeriod]bool) error
}

const notePeriodSQL = `INSERT INTO usage_periods (business_id, period) VALUES (?, ?) ON CONFLICT (business_id, period) DO NOTHING`

func (c *charger) inTx(ctx context.Context, exclusive bool, fn func(q txQueries) error) error {
	if c.db.Dialect == models.Postgres {
		lock := `SELECT pg_advisory_xact_lock_shared($1)`
		if exclusive {
			lock = `SELECT pg_advisory_xact_lock($1)`
		}
		return pgx.BeginFunc(ctx, c.db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, lock, chargeLock); err != nil {
				return err
			}
			return fn(pgCharge{tx})
		})
	}
	return c.db.Tx(ctx, func(tx *gorm.DB) error { return fn(sqliteCharge{tx}) })
}

const closedSQL = `SELECT business_id, period FROM invoices WHERE kind = 'invoice' AND business_id `
const serviceSQL = `SELECT COUNT(*) FROM usage_records WHERE business_id = ? AND category = 'service' AND day >= ? AND day < ?`

type pgCharge struct{ tx pgx.Tx }

func (q pgCharge) closedPeriods(ctx context.Context, ids []int64) (map[bizPeriod]bool, error) {
	rows, err := q.tx.Query(ctx, closedSQL+`= ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[bizPeriod]bool{}
	for rows.Next() {
		var k bizPeriod
		if err := rows.Scan(&k.business, &k.period); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

func (q pgCharge) serviceCount(ctx context.Context, b int64, from, to string) (int, error) {
	var n int
	err := q.tx.QueryRow(ctx, `SELECT COUNT(*) FROM usage_records WHERE business_id = $1 AND category = 'service' AND day >= $2 AND day < $3`, b, from, to).Scan(&n)
	return n, err
}

// insert copies the records in (COPY, the fastest way into PostgreSQL);
// when another process charged one of them a moment ago the copy fails
// on the key and the batch goes again as INSERT … ON CONFLICT DO NOTHING.
func (q pgCharge) insert(ctx context.Context, recs []UsageRecord) (int, error) {
	sp, err := q.tx.Begin(ctx) // a savepoint: a failed COPY does not end the transaction
	if err != nil {
		return 0, err
	}
	n, err := sp.CopyFrom(ctx, pgx.Identifier{"usage_records"}, []string{"business_id", "message_id", "category", "price_category",
		"country", "price_country", "unit_price", "cost", "currency", "card_id", "rule", "platform_type", "disagrees", "billable",
		"billed_at", "day", "period", "created_at"}, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		r := &recs[i]
		var cost any
		if r.Cost.Valid {
			cost = r.Cost.Decimal
		}
		return []any{r.BusinessID, r.MessageID, r.Category, r.PriceCategory, r.Country, r.PriceCountry, r.UnitPrice, cost,
			r.Currency, r.CardID, r.Rule, r.PlatformType, r.Disagrees, r.Billable, r.BilledAt, r.Day, r.Period, r.CreatedAt}, nil
	}))
	if err == nil {
		return int(n), sp.Commit(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		_ = sp.Rollback(ctx)
		return 0, err
	}
	if err := sp.Rollback(ctx); err != nil {
		return 0, err
	}
	return q.insertOnConflict(ctx, recs)
}

func (q pgCharge) insertOnConflict(ctx context.Context, recs []UsageRecord) (int, error) {
	n := len(recs)
	var (
		business, message             = make([]int64, n), make([]int64, n)
		category, priceCat, country   = make([]string, n), make([]string, n), make([]string, n)
		priceCountry, unit, cost, cur = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		card                          = make([]*int64, n)
		rule, ptype, day, period      = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		disagrees, billable           = make([]bool, n), make([]bool, n)
		billedAt                      = make([]time.Time, n)
	)
	for i, r := range recs {
		business[i], message[i], category[i], priceCat[i], country[i] = r.BusinessID, r.MessageID, r.Category, r.PriceCategory, r.Country
		priceCountry[i], unit[i], cur[i], card[i] = r.PriceCountry, r.UnitPrice.String(), r.Currency, r.CardID
		if r.Cost.Valid {
			cost[i] = r.Cost.Decimal.String()
		}
		rule[i], ptype[i], day[i], period[i] = r.Rule, r.PlatformType, r.Day, r.Period
		disagrees[i], billable[i], billedAt[i] = r.Disagrees, r.Billable, r.BilledAt
	}
	tag, err := q.tx.Exec(ctx, `INSERT INTO usage_records (business_id, message_id, category, price_category, country, price_country,
			unit_price, cost, currency, card_id, rule, platform_type, disagrees, billable, billed_at, day, period, created_at)
		SELECT b, m, c, pc, co, pco, u::numeric, NULLIF(cs, '')::numeric, cu, ca, r, pt, d, bi, ba, dy, pe, $18
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
			$10::bigint[], $11::text[], $12::text[], $13::bool[], $14::bool[], $15::timestamptz[], $16::text[], $17::text[])
			AS t(b, m, c, pc, co, pco, u, cs, cu, ca, r, pt, d, bi, ba, dy, pe)
		ON CONFLICT (message_id) DO NOTHING`,
		business, message, category, priceCat, country, priceCountry, unit, cost, cur, card, rule, ptype, disagrees, billable, billedAt, day, period,
		recs[0].CreatedAt)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (q pgCharge) notePeriods(ctx context.Context, periods map[bizPeriod]bool) error {
	for k := range periods {
		if _, err := q.tx.Exec(ctx, `INSERT INTO usage_periods (business_id, period) VALUES ($1, $2) ON CONFLICT (business_id, period) DO NOTHING`, k.business, k.period); err != nil {
			return err
		}
	}
	return nil
}

type sqliteCharge struct{ tx *gorm.DB }

func (q sqliteCharge) notePeriods(ctx context.Context, periods map[bizPeriod]bool) error {
	for k := range periods {
		if err := q.tx.WithContext(ctx).Exec(notePeriodSQL, k.business, k.period).Error; err != nil {
			return err
		}
	}
	return nil
}

func (q sqliteCharge) closedPeriods(ctx context.Context, ids []int64) (map[bizPeriod]bool, error) {
	type row struct {
		BusinessID int64
		Period     string
	}
	out := map[bizPeriod]bool{}
	for start := 0; start < len(ids); start += models.SQLiteParams {
		end := min(start+models.SQLiteParams, len(ids))
		var rows []row
		if err := q.tx.WithContext(ctx).Raw(closedSQL+`IN ?`, ids[start:end]).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[bizPeriod{r.BusinessID, r.Period}] = true
		}
	}
	return out, nil
}

func (q sqliteCharge) serviceCount(ctx context.Context, b int64, from, to string) (int, error) {
	var n int
	err := q.tx.WithContext(ctx).Raw(serviceSQL, b, from, to).Scan(&n).Error
	return n, err
}

const usageCols = 18

func (q sqliteCharge) insert(ctx context.Context, recs []UsageRecord) (int, error) {
	per := models.SQLiteParams / usageCols
	total := 0
	for start := 0; start < len(recs); start += per {
		end := min(start+per, len(recs))
		args := make([]any, 0, (end-start)*usageCols)
		for _, r := range recs[start:end] {
			var cost any
			if r.Cost.Valid {
				cost = r.Cost.Decimal.String()
			}
			args = append(args, r.BusinessID, r.MessageID, r.Category, r.PriceCategory, r.Country, r.PriceCountry,
				r.UnitPrice.String(), cost, r.Currency, r.CardID, r.Rule, r.PlatformType, r.Disagrees, r.Billable,
				r.BilledAt, r.Day, r.Period, r.CreatedAt)
		}
		res := q.tx.WithContext(ctx).Exec(`INSERT INTO usage_records (business_id, message_id, category, price_category, country, price_country,
			unit_price, cost, currency, card_id, rule, platform_type, disagrees, billable, billed_at, day, period, created_at)
			VALUES `+models.Placeholders(end-start, usageCols)+` ON CONFLICT (message_id) DO NOTHING`, args...)
		if res.Error != nil {
			return total, res.Error
		}
		total += int(res.RowsAffected)
	}
	return total, nil
}

// Disagreements lists the newest messages where the platform's
// pricing.type contradicted our rule (its word was billed).
func Disagreements(ctx context.Context, db *models.DB, limit int) ([]Disagreement, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Disagreement
	err := db.WithContext(ctx).Raw(`SELECT u.message_id, u.business_id, b.name AS business_name, u.category, u.platform_type,
			u.rule, u.billable, u.billed_at
		FROM usage_records u JOIN businesses b ON b.id = u.business_id
		WHERE u.disagrees ORDER BY u.billed_at DESC, u.message_id DESC LIMIT ?`, limit).Scan(&out).Error
	return out, models.Wrap("billing.Disagreements", err)
}

// sortedKeys is the map's keys in order (stable output for lines).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
