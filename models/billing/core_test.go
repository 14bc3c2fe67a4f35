package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/invoicedoc"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/dbtest"
)

// Until invoicedoc renders, the tests store the document as JSON in both
// places, so what reached the renderer can be checked. (render.go's init
// replaces this with the real renderer once it exists.)
var _ = func() bool {
	if billing.Documents.PDF == nil {
		js := func(d invoicedoc.Document) ([]byte, error) { return json.Marshal(d) }
		billing.Documents = billing.Renderer{PDF: js, XML: js}
	}
	return true
}()

var (
	oct     = time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)
	sep     = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)
	nov2    = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ctxb    = context.Background()
	counter int64
	mu      sync.Mutex
)

type fx struct {
	db    *models.DB
	clock *dbtest.Clock
	admin *models.User
}

func newFx(t *testing.T) *fx {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	clock.Advance(nov2.Sub(clock.Now()))
	db.Now = clock.Now
	f := &fx{db: db, clock: clock}
	u, _, err := db.SignUp(ctxb, models.SignUpInput{BusinessName: "Platform", NewUserInput: models.NewUserInput{Name: "Admin", Email: uniq("admin") + "@example.com", Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	f.admin = u
	if _, err := billing.SaveSettings(ctxb, db, u, goodSettings(), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	return f
}

func uniq(p string) string {
	mu.Lock()
	defer mu.Unlock()
	counter++
	return fmt.Sprintf("%s%d-%d", p, time.Now().UnixNano(), counter)
}

func goodSettings() billing.SettingsInput {
	return billing.SettingsInput{Name: "Optline Reseller GmbH", Street: "Friedrichstraße 10", Postcode: "10117", City: "Berlin",
		Country: "DE", VATID: "DE123456789", ContactName: "Petra Paul", ContactPhone: "+49 30 1234567", ContactEmail: "billing@optline.example",
		BankAccountName: "Optline Reseller GmbH", IBAN: "DE89 3704 0044 0532 0130 00", BIC: "COBADEFFXXX", BankName: "Commerzbank",
		PaymentTermsDays: "14", Registration: "HRB 123456 B, Amtsgericht Charlottenburg"}
}

// business signs up a business with a legal profile.
func (f *fx) business(t *testing.T, name, country, vat, tz string) models.Tenant {
	t.Helper()
	_, b, err := f.db.SignUp(ctxb, models.SignUpInput{BusinessName: name, NewUserInput: models.NewUserInput{Name: "Owner", Email: uniq("o") + "@example.com", Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	now := f.db.Now()
	f.db.Gorm.Exec(`DELETE FROM business_profiles WHERE business_id = ?`, b.ID)
	if err := f.db.Gorm.Exec(`INSERT INTO business_profiles (business_id, legal_name, registered_address, country, vat_id, billing_email, time_zone, currency, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'EUR', ?, ?)`, b.ID, name+" Ltd", "Hauptstraße 1\n10115 Berlin", country, vat, "ap@"+strings.ToLower(strings.ReplaceAll(name, " ", ""))+".example", tz, now, now).Error; err != nil {
		t.Fatal(err)
	}
	tn, _ := f.db.Tenant(b.ID)
	return tn
}

type msgOpt struct {
	category, country, to, ptype string
	window                       *bool
	delivered, read              *time.Time
}

// message stores a sent message as the webhook would leave it.
func (f *fx) message(t *testing.T, tn models.Tenant, o msgOpt) int64 {
	t.Helper()
	if o.country == "" && o.to == "" {
		o.country, o.to = "DE", "+4915123456789"
	}
	if o.to == "" {
		o.to = "+4915123456789"
	}
	state := "sent"
	if o.delivered != nil {
		state = "delivered"
	}
	if o.read != nil {
		state = "read"
	}
	var id int64
	created := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	err := f.db.Gorm.Raw(`INSERT INTO messages (business_id, to_phone, state, state_rank, category, country, window_open, pricing_type,
			delivered_at, read_at, created_at, updated_at, wamid)
		VALUES (?, ?, ?, 5, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, tn.BusinessID(), o.to, state, o.category, o.country, o.window, o.ptype,
		o.delivered, o.read, created, created, uniq("wamid.")).Scan(&id).Error
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func at(t time.Time) *time.Time { return &t }
func yes() *bool                { b := true; return &b }

func usage(t *testing.T, db *models.DB, msgID int64) billing.UsageRecord {
	t.Helper()
	var r billing.UsageRecord
	if err := db.Gorm.Where("message_id = ?", msgID).Take(&r).Error; err != nil {
		t.Fatalf("usage of message %d: %v", msgID, err)
	}
	return r
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func charge(t *testing.T, f *fx) int {
	t.Helper()
	n, err := billing.Charge(ctxb, f.db, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The whole charge path, category by category, on both sides of the
// 1 October 2026 change.
func TestChargeRulesOnBothSidesOfTheChange(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	tn := f.business(t, "Kraus", "DE", "", "UTC")
	cases := []struct {
		name     string
		o        msgOpt
		billable bool
		price    string
	}{
		{"marketing before (upper case, as templates)", msgOpt{category: "MARKETING", delivered: at(sep)}, true, "0.1131"},
		{"marketing after", msgOpt{category: "marketing", delivered: at(oct)}, true, "0.1131"},
		{"authentication in the window", msgOpt{category: "authentication", window: yes(), delivered: at(sep)}, true, "0.0456"},
		{"utility outside, before", msgOpt{category: "utility", delivered: at(sep)}, true, "0.0456"},
		{"utility inside, before", msgOpt{category: "utility", window: yes(), delivered: at(sep)}, false, "0"},
		{"utility inside, after", msgOpt{category: "utility", window: yes(), delivered: at(oct)}, true, "0.0456"},
		{"service before", msgOpt{category: "service", delivered: at(sep)}, false, "0"},
		{"read without delivered", msgOpt{category: "marketing", read: at(oct)}, true, "0.1131"},
		{"platform: free entry point", msgOpt{category: "marketing", ptype: "free_entry_point", delivered: at(oct)}, false, "0"},
		{"platform charged a free utility", msgOpt{category: "utility", window: yes(), ptype: "regular", delivered: at(sep)}, true, "0.0456"},
		{"India by the default", msgOpt{category: "marketing", country: "IN", to: "+919876543210", delivered: at(oct)}, true, "0.1131"},
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		ids[i] = f.message(t, tn, c.o)
	}
	undelivered := f.message(t, tn, msgOpt{category: "marketing"})
	if n := charge(t, f); n != len(cases) {
		t.Fatalf("charged %d records, want %d", n, len(cases))
	}
	for i, c := range cases {
		r := usage(t, f.db, ids[i])
		if r.Billable != c.billable || !r.UnitPrice.Equal(dec(c.price)) || r.Rule == "" {
			t.Errorf("%s: billable %v at %s (%s)", c.name, r.Billable, r.UnitPrice, r.Rule)
		}
	}
	if r := usage(t, f.db, ids[8]); !r.Disagrees || r.PlatformType != "free_entry_point" {
		t.Errorf("disagreement not recorded: %+v", r)
	}
	var n int64
	f.db.Gorm.Table("usage_records").Where("message_id = ?", undelivered).Count(&n)
	if n != 0 {
		t.Error("a message never delivered was charged")
	}
	d, err := billing.Disagreements(ctxb, f.db, 10)
	if err != nil || len(d) != 2 || d[0].BusinessName != "Kraus" {
		t.Fatalf("disagreements: %+v %v", d, err)
	}
	// Service replies after the change: the first 1,000 of the month free.
	var svc []int64
	for i := 0; i < billing.FreeServicePerMonth+2; i++ {
		svc = append(svc, f.message(t, tn, msgOpt{category: "service", delivered: at(oct.Add(time.Duration(i) * time.Second))}))
	}
	charge(t, f)
	free := 0
	for _, id := range svc {
		if !usage(t, f.db, id).Billable {
			free++
		}
	}
	if free != billing.FreeServicePerMonth {
		t.Errorf("%d service replies free, want %d", free, billing.FreeServicePerMonth)
	}
}

// A message is priced by the card in force at its delivery, and keeps
// that price; a card from a later date never reaches back.
func TestPriceSnapshotAtTheEffectiveDate(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	tn := f.business(t, "Kraus", "DE", "", "UTC")
	f.clock.Advance(-nov2.Sub(oct.Add(-48 * time.Hour))) // 13 October
	early := f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct.Add(-72 * time.Hour))})
	charge(t, f)
	from := oct.Add(-24 * time.Hour)
	in := billing.CardInput{Name: "Ours", Currency: "EUR", EffectiveFrom: from, Prices: defaults("0.2000")}
	if _, err := billing.SaveCard(ctxb, f.db, f.admin, billing.CardInput{Name: "Back", Currency: "EUR", EffectiveFrom: from.Add(-72 * time.Hour), Prices: defaults("0.1")}, "ip"); !isProblem(err, "effective_from", "billing.card.effective_from.past") {
		t.Fatalf("a card dated in the past: %v", err)
	}
	card, err := billing.SaveCard(ctxb, f.db, f.admin, in, "ip")
	if err != nil {
		t.Fatal(err)
	}
	before := f.message(t, tn, msgOpt{category: "marketing", delivered: at(from.Add(-time.Minute))})
	after := f.message(t, tn, msgOpt{category: "marketing", delivered: at(from.Add(time.Minute))})
	charge(t, f)
	if r := usage(t, f.db, early); !r.UnitPrice.Equal(dec("0.1131")) {
		t.Errorf("charged before the card: %s", r.UnitPrice)
	}
	if r := usage(t, f.db, before); !r.UnitPrice.Equal(dec("0.1131")) {
		t.Errorf("delivered before the card's date: %s", r.UnitPrice)
	}
	if r := usage(t, f.db, after); !r.UnitPrice.Equal(dec("0.2")) || r.CardID == nil || *r.CardID != card.ID {
		t.Errorf("delivered after the card's date: %s", r.UnitPrice)
	}
	cards, err := billing.Cards(ctxb, f.db)
	if err != nil || len(cards) != 2 || cards[0].ID != card.ID || len(cards[0].Prices) != 4 {
		t.Fatalf("history: %d cards %v", len(cards), err)
	}
	var audits int64
	f.db.Gorm.Table("audit_events").Where("action = ?", "billing.card.create").Count(&audits)
	if audits != 1 {
		t.Errorf("%d audit events for the card", audits)
	}
}

func defaults(price string) []billing.PriceInput {
	var out []billing.PriceInput
	for _, c := range billing.Categories {
		out = append(out, billing.PriceInput{Category: c, Price: price, Cost: "0.01"})
	}
	return out
}

func isProblem(err error, field, key string) bool {
	v, ok := models.AsValidation(err)
	if !ok {
		return false
	}
	for _, p := range v.Problems {
		if p.Field == field && p.Key == key {
			return true
		}
	}
	return false
}

func TestCardInputIsChecked(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	in := billing.CardInput{Name: "", Currency: "XXX", EffectiveFrom: nov2.Add(time.Hour), Prices: []billing.PriceInput{
		{Category: "marketing", Price: "abc"}, {Category: "marketing", Country: "ZZ", Price: "-1"}, {Category: "utility", Price: "0.1", Cost: "0.1234567"}}}
	_, err := billing.SaveCard(ctxb, f.db, f.admin, in, "ip")
	for _, want := range [][2]string{{"name", "billing.card.name.required"}, {"currency", "billing.card.currency.invalid"},
		{"prices[0].price", "billing.card.price.invalid"}, {"prices[1].country", "billing.card.country.invalid"},
		{"prices[1].price", "billing.card.price.negative"}, {"prices[2].cost", "billing.card.price.decimals"},
		{"prices", "billing.card.default.required"}} {
		if !isProblem(err, want[0], want[1]) {
			t.Errorf("no %s problem %s in %v", want[0], want[1], err)
		}
	}
	if _, err := billing.SaveCard(ctxb, f.db, f.admin, billing.CardInput{Name: "USD", Currency: "USD", EffectiveFrom: nov2.Add(time.Hour), Prices: defaults("1")}, "ip"); !isProblem(err, "currency", "billing.card.currency.changed") {
		t.Errorf("a second currency: %v", err)
	}
	cards, _ := billing.Cards(ctxb, f.db)
	if len(cards) != 1 {
		t.Errorf("a refused card was stored: %d cards", len(cards))
	}
}

// Repeated and out-of-order webhooks, and two charging passes at once,
// bill a message once; a read without delivered bills at the read.
func TestRepeatedAndOutOfOrderWebhooksBillOnce(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	tn := f.business(t, "Kraus", "DE", "", "UTC")
	id := f.message(t, tn, msgOpt{category: "marketing", read: at(oct)})
	charge(t, f)
	// The delivered status arrives after the read.
	if err := f.db.Gorm.Exec(`UPDATE messages SET delivered_at = ? WHERE id = ?`, oct.Add(-time.Minute), id).Error; err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < 300; i++ {
		ids = append(ids, f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct)}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := billing.ChargeAll(ctxb, f.db, f.db.Now())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	f.db.Gorm.Table("usage_records").Count(&n)
	if n != 301 {
		t.Fatalf("%d usage records for 301 messages", n)
	}
	if r := usage(t, f.db, id); !r.BilledAt.Equal(oct) {
		t.Errorf("billed at %v, want the read time", r.BilledAt)
	}
	if n := charge(t, f); n != 0 {
		t.Errorf("a further pass charged %d", n)
	}
}

// Spend is the month of the business's own time zone.
func TestSpentInMonthInTheBusinessZone(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	tn := f.business(t, "Kiwi", "NZ", "", "Pacific/Auckland")
	// 31 October 12:00 UTC is 1 November 01:00 in Auckland.
	f.message(t, tn, msgOpt{category: "marketing", delivered: at(time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC))})
	f.message(t, tn, msgOpt{category: "utility", delivered: at(time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC))})
	charge(t, f)
	s := billing.Spending{DB: f.db}
	got, err := s.SpentInMonth(ctxb, tn.BusinessID(), time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	if err != nil || !got.Equal(dec("0.1131")) {
		t.Fatalf("November: %s %v", got, err)
	}
	if got, _ := s.SpentInMonth(ctxb, tn.BusinessID(), time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)); !got.Equal(dec("0.0456")) {
		t.Errorf("October: %s", got)
	}
	mtd, err := billing.MonthToDate(ctxb, tn, time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC))
	if err != nil || mtd.Month != "2026-10" || mtd.Messages != 1 || mtd.ByCategory[1].Category != "utility" || mtd.ByCategory[1].Messages != 1 || mtd.Currency != "EUR" {
		t.Fatalf("month to date: %+v %v", mtd, err)
	}
	days, err := billing.Daily(ctxb, tn, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if err != nil || len(days) != 2 || days[1].Day != "2026-11-01" || days[1].Category != "marketing" {
		t.Fatalf("daily: %+v %v", days, err)
	}
}

func build(t *testing.T, f *fx, tn models.Tenant, period string) *billing.Invoice {
	t.Helper()
	inv, err := billing.BuildMonth(ctxb, f.db, tn.BusinessID(), period, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// Rounding happens once per line: 3 × 0.0333 = 0.0999 → 0.10.
func TestRoundingOncePerLine(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	f.clock.Advance(-nov2.Sub(time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)))
	prices := defaults("0.0333")
	prices = append(prices, billing.PriceInput{Category: "marketing", Country: "FR", Price: "0.0335"})
	if _, err := billing.SaveCard(ctxb, f.db, f.admin, billing.CardInput{Name: "Thirds", Currency: "EUR", EffectiveFrom: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Prices: prices}, "ip"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(nov2.Sub(f.clock.Now()))
	tn := f.business(t, "Kraus", "DE", "", "UTC")
	for i := 0; i < 3; i++ {
		f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct)})
	}
	f.message(t, tn, msgOpt{category: "marketing", country: "FR", to: "+33612345678", delivered: at(oct)})
	charge(t, f)
	inv := build(t, f, tn, "2026-10")
	if inv == nil || len(inv.Lines) != 2 {
		t.Fatalf("invoice %+v", inv)
	}
	l := inv.Lines[0]
	if l.Country != "FR" || l.Quantity != 1 || !l.Amount.Equal(dec("0.03")) || l.Description != "Marketing-Nachrichten nach Frankreich (FR)" {
		t.Errorf("first line %+v", l)
	}
	l = inv.Lines[1]
	if l.Quantity != 3 || !l.UnitPrice.Equal(dec("0.0333")) || !l.Amount.Equal(dec("0.10")) || l.Country != "" {
		t.Errorf("3 × 0.0333: %+v", l)
	}
	if !inv.Net.Equal(dec("0.13")) || !inv.Tax.Equal(dec("0.02")) || !inv.Gross.Equal(dec("0.15")) || !inv.VATRate.Equal(dec("19")) {
		t.Errorf("totals net %s tax %s gross %s", inv.Net, inv.Tax, inv.Gross)
	}
	if again := build(t, f, tn, "2026-10"); again != nil {
		t.Error("a second build of the month")
	}
	if none := build(t, f, tn, "2026-09"); none != nil {
		t.Error("a month without usage got an invoice")
	}
}

// VAT by the customer's country, with the legal notes and language.
func TestVATTreatments(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	for _, c := range []struct {
		country, vat, treatment, rate, lang, note string
	}{
		{"DE", "DE123456789", invoicedoc.VATStandard, "19", "de", ""},
		{"AT", "ATU12345678", invoicedoc.VATReverseCharge, "0", "de", "Reverse Charge"},
		{"FR", "", invoicedoc.VATStandard, "19", "en", ""},
		{"NL", "NL123456789B01", invoicedoc.VATReverseCharge, "0", "en", "Reverse charge"},
		{"US", "", invoicedoc.VATOutsideEU, "0", "en", "Not taxable in Germany"},
		{"CH", "CHE123456789", invoicedoc.VATOutsideEU, "0", "de", "Nicht im Inland steuerbar"},
	} {
		tn := f.business(t, "Biz "+c.country+c.vat, c.country, c.vat, "UTC")
		for i := 0; i < 10; i++ {
			f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct)})
		}
		charge(t, f)
		inv := build(t, f, tn, "2026-10")
		if inv == nil || inv.VATTreatment != c.treatment || !inv.VATRate.Equal(dec(c.rate)) || inv.Language != c.lang || !strings.Contains(inv.Note, c.note) {
			t.Errorf("%s %s: %+v", c.country, c.vat, inv)
			continue
		}
		want := dec("1.13").Mul(dec(c.rate)).Div(dec("100")).Round(2)
		if !inv.Net.Equal(dec("1.13")) || !inv.Tax.Equal(want) || !inv.Gross.Equal(inv.Net.Add(want)) {
			t.Errorf("%s: net %s tax %s gross %s", c.country, inv.Net, inv.Tax, inv.Gross)
		}
		issued, err := billing.Issue(ctxb, f.db, inv.ID, f.db.Now())
		if err != nil {
			t.Fatal(err)
		}
		doc, err := billing.ToDocument(issued, nil)
		if err != nil || doc.Customer.VATID != c.vat || doc.VAT != c.treatment || doc.Issuer.VATID != "DE123456789" ||
			doc.Customer.Postcode != "10115" || doc.Customer.City != "Berlin" || doc.Customer.Street != "Hauptstraße 1" ||
			doc.PeriodStart.Format("2006-01-02") != "2026-10-01" || doc.PeriodEnd.Format("2006-01-02") != "2026-10-31" ||
			doc.Bank.IBAN != "DE89370400440532013000" || doc.Issuer.ContactPhone == "" || doc.BuyerReference == "" ||
			doc.Issuer.Registration != "HRB 123456 B, Amtsgericht Charlottenburg" {
			t.Errorf("%s document: %+v %v", c.country, doc, err)
		}
	}
}

func draftFor(t *testing.T, f *fx, name string) *billing.Invoice {
	t.Helper()
	tn := f.business(t, name, "DE", "", "UTC")
	f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct)})
	charge(t, f)
	inv := build(t, f, tn, "2026-10")
	if inv == nil {
		t.Fatal("no draft")
	}
	return inv
}

// Fifty invoices issued at once take fifty consecutive numbers; a
// discarded draft takes none.
func TestConcurrentIssuesLeaveNoGaps(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	discard := draftFor(t, f, "Discarded")
	if err := billing.DiscardDraft(ctxb, f.db, f.admin, discard.ID, "ip"); err != nil {
		t.Fatal(err)
	}
	var drafts []*billing.Invoice
	for i := 0; i < 50; i++ {
		drafts = append(drafts, draftFor(t, f, fmt.Sprintf("Biz %02d", i)))
	}
	var wg sync.WaitGroup
	numbers := make(chan string, 100)
	errs := make(chan error, 100)
	for _, d := range drafts {
		for k := 0; k < 2; k++ { // each twice: the second must not take a number
			wg.Add(1)
			go func(id int64) {
				defer wg.Done()
				inv, err := billing.Issue(ctxb, f.db, id, f.db.Now())
				if errors.Is(err, billing.ErrWrongState) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				numbers <- inv.NumberOr()
			}(d.ID)
		}
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	if len(got) != 50 {
		t.Fatalf("%d issued", len(got))
	}
	for i, n := range got {
		if want := fmt.Sprintf("2026-%06d", i+1); n != want {
			t.Fatalf("number %d is %s, want %s (all: %v)", i, n, want, got)
		}
	}
}

// The database refuses to change or delete an issued invoice, its lines
// and its documents; only issued → paid or cancelled pass.
func TestIssuedInvoicesAreImmutableInTheDatabase(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	d := draftFor(t, f, "Kraus")
	// A draft may still change.
	if err := f.db.Gorm.Exec(`UPDATE invoices SET note = 'draft note' WHERE id = ?`, d.ID).Error; err != nil {
		t.Fatalf("a draft: %v", err)
	}
	inv, err := billing.Issue(ctxb, f.db, d.ID, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE invoices SET net = 0 WHERE id = ?`,
		`UPDATE invoices SET number = 'X' WHERE id = ?`,
		`UPDATE invoices SET state = 'draft' WHERE id = ?`,
		`UPDATE invoices SET customer_name = 'Someone else' WHERE id = ?`,
		`UPDATE invoices SET state = 'paid' WHERE id = ?`, // without paid_at
		`DELETE FROM invoices WHERE id = ?`,
		`UPDATE invoice_lines SET amount = 0 WHERE invoice_id = ?`,
		`DELETE FROM invoice_lines WHERE invoice_id = ?`,
		`INSERT INTO invoice_lines (invoice_id, position, category, country, description, quantity, unit_price, amount) VALUES (?, 9, 'marketing', '', 'x', 1, 1, 1)`,
		`UPDATE invoice_documents SET sha256 = 'x' WHERE invoice_id = ?`,
		`DELETE FROM invoice_documents WHERE invoice_id = ?`,
	} {
		if err := f.db.Gorm.Exec(stmt, inv.ID).Error; err == nil {
			t.Errorf("the database accepted: %s", stmt)
		}
	}
	if err := f.db.Gorm.Exec(`UPDATE invoices SET state = 'paid', paid_at = ?, net = 1 WHERE id = ?`, f.db.Now(), inv.ID).Error; err == nil {
		t.Error("paid with a changed net")
	}
	if err := billing.MarkPaid(ctxb, f.db, f.admin, inv.ID, "ip"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Gorm.Exec(`UPDATE invoices SET state = 'issued', paid_at = NULL WHERE id = ?`, inv.ID).Error; err == nil {
		t.Error("a paid invoice went back to issued")
	}
	if err := billing.MarkPaid(ctxb, f.db, f.admin, inv.ID, "ip"); !errors.Is(err, billing.ErrWrongState) {
		t.Errorf("paid twice: %v", err)
	}
	if _, err := billing.CancelWithCreditNote(ctxb, f.db, f.admin, inv.ID, "wrong", "ip"); !errors.Is(err, billing.ErrWrongState) {
		t.Errorf("a paid invoice cancelled: %v", err)
	}
	var got billing.Invoice
	f.db.Gorm.Preload("Lines").Take(&got, inv.ID)
	if !got.Net.Equal(inv.Net) || len(got.Lines) != 1 || got.State != billing.Paid {
		t.Errorf("stored invoice changed: %+v", got)
	}
}

// Cancelling issues a credit note of its own series naming the invoice,
// with positive amounts, its documents stored.
func TestCreditNote(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	d := draftFor(t, f, "Kraus")
	inv, err := billing.Issue(ctxb, f.db, d.ID, f.db.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := billing.CancelWithCreditNote(ctxb, f.db, f.admin, inv.ID, " ", "ip"); !isProblem(err, "reason", "billing.cancel.reason.required") {
		t.Errorf("no reason: %v", err)
	}
	cn, err := billing.CancelWithCreditNote(ctxb, f.db, f.admin, inv.ID, "Customer details were wrong", "ip")
	if err != nil {
		t.Fatal(err)
	}
	if cn.NumberOr() != "CN-2026-000001" || cn.Kind != billing.KindCreditNote || cn.State != billing.Issued || *cn.CorrectsID != inv.ID ||
		!cn.Gross.Equal(inv.Gross) || !cn.Gross.IsPositive() || len(cn.Lines) != 1 || !cn.Lines[0].Amount.IsPositive() {
		t.Fatalf("credit note %+v", cn)
	}
	tn, _ := f.db.Tenant(inv.BusinessID)
	body, err := billing.DocumentOf(ctxb, tn, cn.ID, billing.DocXML)
	if err != nil || len(body) == 0 {
		t.Fatalf("credit note document: %v", err)
	}
	if billing.Documents.XML != nil && strings.HasPrefix(string(body), "{") {
		var doc invoicedoc.Document
		_ = json.Unmarshal(body, &doc)
		if doc.Kind != invoicedoc.KindCreditNote || doc.Corrects != inv.NumberOr() || doc.CorrectsDate.IsZero() {
			t.Errorf("rendered credit note %+v", doc)
		}
	}
	old, _ := billing.InvoiceByID(ctxb, tn, inv.ID)
	if old.State != billing.Cancelled || old.CancelledAt == nil {
		t.Errorf("invoice after cancel: %s", old.State)
	}
	if _, err := billing.CancelWithCreditNote(ctxb, f.db, f.admin, inv.ID, "again", "ip"); !errors.Is(err, billing.ErrWrongState) {
		t.Errorf("cancelled twice: %v", err)
	}
	rev, err := billing.RevenueByMonth(ctxb, f.db, 2026)
	if err != nil || len(rev) != 1 || rev[0].Invoices != 1 || rev[0].CreditNotes != 1 || !rev[0].Net.IsZero() {
		t.Fatalf("revenue: %+v %v", rev, err)
	}
}

// A webhook that arrives after the month was invoiced lands in the next
// month and never changes the issued invoice.
func TestLateWebhookGoesToTheNextMonth(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	d := draftFor(t, f, "Kraus")
	if _, err := billing.Issue(ctxb, f.db, d.ID, f.db.Now()); err != nil {
		t.Fatal(err)
	}
	tn, _ := f.db.Tenant(d.BusinessID)
	late := f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct.Add(time.Hour))})
	charge(t, f)
	if r := usage(t, f.db, late); r.Period != "2026-11" || r.Day != "2026-10-15" {
		t.Errorf("late record in %s (day %s)", r.Period, r.Day)
	}
	lines, err := billing.UsageLines(ctxb, tn, billing.UsageQuery{InvoiceID: d.ID})
	if err != nil || len(lines) != 1 {
		t.Fatalf("the invoice's usage lines: %d %v", len(lines), err)
	}
	if months, _ := billing.PendingMonths(ctxb, f.db, f.db.Now()); len(months) != 0 {
		t.Errorf("November pending before it ended: %+v", months)
	}
	if months, _ := billing.PendingMonths(ctxb, f.db, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)); len(months) != 1 || months[0].Period != "2026-11" {
		t.Errorf("pending in December: %+v", months)
	}
}

// No invoice, document or usage line of B is reachable as A.
func TestIsolation(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	d := draftFor(t, f, "Bravo")
	if _, err := billing.Issue(ctxb, f.db, d.ID, f.db.Now()); err != nil {
		t.Fatal(err)
	}
	a := f.business(t, "Alpha", "DE", "", "UTC")
	if _, err := billing.InvoiceByID(ctxb, a, d.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B's invoice as A: %v", err)
	}
	for _, k := range []string{billing.DocPDF, billing.DocXML} {
		if _, err := billing.DocumentOf(ctxb, a, d.ID, k); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("B's %s as A: %v", k, err)
		}
	}
	if _, err := billing.UsageLines(ctxb, a, billing.UsageQuery{InvoiceID: d.ID}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("B's usage lines as A: %v", err)
	}
	if l, err := billing.UsageLines(ctxb, a, billing.UsageQuery{Month: "2026-10"}); err != nil || len(l) != 0 {
		t.Errorf("A's October shows %d lines %v", len(l), err)
	}
	if list, _ := billing.Invoices(ctxb, a, billing.InvoiceFilter{}); len(list) != 0 {
		t.Errorf("A lists %d invoices", len(list))
	}
	b, _ := f.db.Tenant(d.BusinessID)
	if list, _ := billing.Invoices(ctxb, b, billing.InvoiceFilter{}); len(list) != 1 {
		t.Errorf("B lists %d invoices", len(list))
	}
	if pdf, err := billing.DocumentOf(ctxb, b, d.ID, billing.DocPDF); err != nil || len(pdf) == 0 {
		t.Errorf("B's own PDF: %v", err)
	}
	all, err := billing.AllInvoices(ctxb, f.db, billing.AdminFilter{Month: "2026-10"})
	if err != nil || len(all) != 1 || all[0].BusinessName != "Bravo" {
		t.Errorf("admin list: %+v %v", all, err)
	}
}

func TestSettingsAreChecked(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	in := goodSettings()
	in.IBAN = "DE89 3704 0044 0532 0130 01"
	in.VATID = "DE12345"
	in.ContactEmail = "nope"
	in.PaymentTermsDays = "x"
	_, err := billing.SaveSettings(ctxb, f.db, f.admin, in, "ip")
	for _, want := range [][2]string{{"iban", "billing.settings.iban.invalid"}, {"vat_id", "vat.invalid.DE"},
		{"contact_email", "billing.settings.contact_email.invalid"}, {"payment_terms_days", "billing.settings.payment_terms_days.invalid"}} {
		if !isProblem(err, want[0], want[1]) {
			t.Errorf("no %s problem %s: %v", want[0], want[1], err)
		}
	}
	s, _ := billing.Settings(ctxb, f.db)
	if s.IBAN != "DE89370400440532013000" || !s.Complete() {
		t.Errorf("refused input changed the settings: %+v", s)
	}
	for iban, ok := range map[string]bool{"GB82WEST12345698765432": true, "AT611904300234573201": true, "GB82WEST12345698765433": false, "DE8937040044": false} {
		if billing.ValidIBAN(iban) != ok {
			t.Errorf("ValidIBAN(%s) != %v", iban, ok)
		}
	}
}

// An invoice issued at 00:30 on 1 January in Berlin (23:30 UTC on 31
// December) is dated 1 January and takes the first number of the new
// year's series: its date and its number agree, in the issuer's zone.
func TestIssueDateAndNumberYearInTheIssuerZone(t *testing.T) {
	t.Parallel()
	f := newFx(t)
	d := draftFor(t, f, "Neujahr")
	at := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	inv, err := billing.Issue(ctxb, f.db, d.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	if inv.NumberOr() != "2027-000001" {
		t.Errorf("number %q, want 2027-000001", inv.NumberOr())
	}
	doc, err := billing.ToDocument(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.IssuedAt.Format("2006-01-02"); got != "2027-01-01" {
		t.Errorf("issue date on the document %s, want 2027-01-01", got)
	}
}
