package invoicing_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var ctxb = context.Background()

func setup(t *testing.T) (*models.DB, *dbtest.Clock, *models.User) {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	clock.Advance(time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC).Sub(clock.Now()))
	db.Now = clock.Now
	u, _, err := db.SignUp(ctxb, models.SignUpInput{BusinessName: "Platform", NewUserInput: models.NewUserInput{Name: "Admin", Email: "admin@platform.example", Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := billing.SaveSettings(ctxb, db, u, billing.SettingsInput{Name: "Optline Reseller GmbH", Street: "Friedrichstraße 10", Postcode: "10117", City: "Berlin",
		Country: "DE", VATID: "DE123456789", ContactName: "Petra Paul", ContactPhone: "+49 30 1234567", ContactEmail: "billing@optline.example",
		BankAccountName: "Optline Reseller GmbH", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX", PaymentTermsDays: "14"}, "ip"); err != nil {
		t.Fatal(err)
	}
	return db, clock, u
}

func business(t *testing.T, db *models.DB, i int, tz string, messages int, delivered time.Time) int64 {
	t.Helper()
	_, b, err := db.SignUp(ctxb, models.SignUpInput{BusinessName: fmt.Sprintf("Biz %d", i), NewUserInput: models.NewUserInput{Name: "Owner", Email: fmt.Sprintf("o%d@biz.example", i), Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	if err := db.Gorm.Exec(`INSERT INTO business_profiles (business_id, legal_name, registered_address, country, vat_id, billing_email, time_zone, currency, created_at, updated_at)
		VALUES (?, ?, 'Hauptstraße 1
10115 Berlin', 'DE', '', 'ap@biz.example', ?, 'EUR', ?, ?)`, b.ID, fmt.Sprintf("Biz %d GmbH", i), tz, now, now).Error; err != nil {
		t.Fatal(err)
	}
	for k := 0; k < messages; k++ {
		if err := db.Gorm.Exec(`INSERT INTO messages (business_id, to_phone, state, state_rank, category, country, delivered_at, created_at, updated_at)
			VALUES (?, '+4915123456789', 'delivered', 5, 'marketing', 'DE', ?, ?, ?)`, b.ID, delivered, delivered, delivered).Error; err != nil {
			t.Fatal(err)
		}
	}
	return b.ID
}

func invoicesOf(t *testing.T, db *models.DB) map[int64][]billing.Invoice {
	t.Helper()
	var all []billing.Invoice
	if err := db.Gorm.Where("kind = ?", billing.KindInvoice).Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64][]billing.Invoice{}
	for _, inv := range all {
		out[inv.BusinessID] = append(out[inv.BusinessID], inv)
	}
	return out
}

// The month-end waits for each business's month to end in its own zone,
// and two engines running it at once make one invoice per business.
func TestMonthEndIsIdempotentOnTwoEngines(t *testing.T) {
	t.Parallel()
	db, clock, _ := setup(t)
	oct := time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)
	berlin := business(t, db, 1, "Europe/Berlin", 3, oct)
	berlin2 := business(t, db, 2, "Europe/Berlin", 2, oct)
	la := business(t, db, 3, "America/Los_Angeles", 4, oct)
	idle := business(t, db, 4, "UTC", 0, oct)
	engines := []*invoicing.Engine{
		invoicing.New(invoicing.Deps{DB: db, Log: dbtest.Quiet, Now: clock.Now}),
		invoicing.New(invoicing.Deps{DB: db, Log: dbtest.Quiet, Now: clock.Now}),
	}
	run := func() {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.MonthEnd(ctxb); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	// 31 October 20:00 UTC: still October everywhere but in Berlin (21:00).
	run()
	if got := invoicesOf(t, db); len(got) != 0 {
		t.Fatalf("invoices before any month ended: %d", len(got))
	}
	clock.Advance(3 * time.Hour) // 1 November 00:00 in Berlin, 16:00 on 31 October in LA
	run()
	got := invoicesOf(t, db)
	if len(got) != 2 || len(got[berlin]) != 1 || len(got[berlin2]) != 1 || got[berlin][0].State != billing.Issued {
		t.Fatalf("after Berlin's month ended: %+v", got)
	}
	clock.Advance(10 * time.Hour)
	run()
	run()
	got = invoicesOf(t, db)
	if len(got) != 3 || len(got[la]) != 1 || len(got[idle]) != 0 {
		t.Fatalf("after LA's month ended: %d businesses invoiced", len(got))
	}
	var numbers []string
	for _, list := range got {
		numbers = append(numbers, list[0].NumberOr())
	}
	seen := map[string]bool{}
	for _, n := range numbers {
		if seen[n] || n == "" {
			t.Fatalf("numbers %v", numbers)
		}
		seen[n] = true
	}
	for _, n := range []string{"2026-000001", "2026-000002", "2026-000003"} {
		if !seen[n] {
			t.Errorf("number %s missing from %v", n, numbers)
		}
	}
	tn, _ := db.Tenant(berlin)
	pdf, err := billing.DocumentOf(ctxb, tn, got[berlin][0].ID, billing.DocPDF)
	if err != nil || string(pdf[:5]) != "%PDF-" {
		t.Fatalf("stored PDF: %v", err)
	}
	xml, err := billing.DocumentOf(ctxb, tn, got[berlin][0].ID, billing.DocXML)
	if err != nil || len(xml) < 100 {
		t.Fatalf("stored XML: %v", err)
	}
}

// An administrator's run of a month: only months that have ended; the
// issuer settings must be complete before anything is numbered.
func TestRunMonth(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	clock.Advance(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC).Sub(clock.Now()))
	db.Now = clock.Now
	b := business(t, db, 1, "UTC", 2, time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC))
	business(t, db, 2, "UTC", 1, time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	e := invoicing.New(invoicing.Deps{DB: db, Log: dbtest.Quiet, Now: clock.Now})
	built, err := e.RunMonth(ctxb, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if built != 1 || !errors.Is(err, billing.ErrIssuerIncomplete) {
		t.Fatalf("without issuer settings: built %d, %v", built, err)
	}
	var draft billing.Invoice
	if err := db.Gorm.Where("business_id = ?", b).Take(&draft).Error; err != nil || draft.State != billing.Draft || draft.Number != nil {
		t.Fatalf("the draft: %+v %v", draft, err)
	}
	if built, err := e.RunMonth(ctxb, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); built != 0 || !errors.Is(err, billing.ErrMonthOpen) {
		t.Fatalf("an open month built %d (%v)", built, err)
	}
	u, _, _ := db.SignUp(ctxb, models.SignUpInput{BusinessName: "Platform", NewUserInput: models.NewUserInput{Name: "Admin", Email: "admin@platform.example", Password: "correct horse battery"}})
	if _, err := billing.SaveSettings(ctxb, db, u, billing.SettingsInput{Name: "Optline Reseller GmbH", Street: "Friedrichstraße 10", Postcode: "10117", City: "Berlin",
		Country: "DE", TaxNumber: "30/123/45678", ContactName: "Petra Paul", ContactPhone: "+49 30 1234567", ContactEmail: "billing@optline.example",
		BankAccountName: "Optline Reseller GmbH", IBAN: "DE89370400440532013000", PaymentTermsDays: "30"}, "ip"); err != nil {
		t.Fatal(err)
	}
	inv, err := e.Issue(ctxb, draft.ID)
	if err != nil || inv.NumberOr() != "2026-000001" || inv.DueAt.Sub(*inv.IssuedAt) != 30*24*time.Hour {
		t.Fatalf("issued %+v %v", inv, err)
	}
	if _, err := e.Issue(ctxb, draft.ID); !errors.Is(err, billing.ErrWrongState) {
		t.Errorf("issued twice: %v", err)
	}
}
