package handlers_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/invoicedoc"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/profiles"
)

// billingBiz is a business with its owner's client and scope.
type billingBiz struct {
	id    int64
	tn    models.Tenant
	owner *client
	user  *models.User
}

// billingBusiness signs a business up and gives it a legal profile (the
// invoice's customer) in country with vatID.
func billingBusiness(t *testing.T, a *app, name, email, country, vatID string) billingBiz {
	t.Helper()
	ctx := context.Background()
	owner := a.signup(name, email)
	u, err := a.db.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.db.MembershipOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := a.db.Tenant(m.BusinessID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.SaveLegal(ctx, tn, u, profiles.LegalInput{LegalName: name, RegisteredAddress: "Hauptstraße 5\n10115 Berlin",
		Country: country, VATID: vatID, BillingEmail: "billing@" + email[len("owner@"):], TimeZone: "Europe/Berlin", Currency: "EUR"}, "127.0.0.1"); err != nil {
		t.Fatalf("legal profile: %v", err)
	}
	return billingBiz{id: m.BusinessID, tn: tn, owner: owner, user: u}
}

// issuerReady saves complete issuer settings (an invoice cannot be issued
// without them).
func issuerReady(t *testing.T, a *app) {
	t.Helper()
	if _, err := billing.SaveSettings(context.Background(), a.db, nil, billing.SettingsInput{Name: "Optline Platform GmbH",
		Street: "Chausseestraße 1", Postcode: "10115", City: "Berlin", Country: "DE", VATID: "DE123456789",
		ContactName: "Ines Issuer", ContactPhone: "+49 30 1234567", ContactEmail: "billing@optline.example",
		BankAccountName: "Optline Platform GmbH", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX", BankName: "Commerzbank",
		PaymentTermsDays: "14"}, "127.0.0.1"); err != nil {
		t.Fatalf("issuer settings: %v", err)
	}
}

var testRenderer sync.Once

// documentsReady makes sure invoices can be issued: the real renderer
// (invoicedoc) when billing has it wired, else a deterministic stand-in
// whose bytes name the invoice (the download tests compare the stored
// bytes either way).
func documentsReady() {
	testRenderer.Do(func() {
		if billing.Documents.PDF != nil && billing.Documents.XML != nil {
			return
		}
		billing.Documents = billing.Renderer{
			PDF: func(d invoicedoc.Document) ([]byte, error) {
				return []byte(fmt.Sprintf("%%PDF-1.4\n%% test document %s\n%%%%EOF\n", d.Number)), nil
			},
			XML: func(d invoicedoc.Document) ([]byte, error) {
				return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Invoice><ID>%s</ID></Invoice>`, d.Number)), nil
			},
		}
	})
}

// delivered seeds n delivered template messages of category to the number
// to, delivered at at (as the sending engine and the webhooks leave them).
func delivered(t *testing.T, a *app, biz int64, n int, category, to, template string, at time.Time) {
	t.Helper()
	for i := 0; i < n; i++ {
		row := map[string]any{"business_id": biz, "template_name": template, "template_language": "en", "to_phone": to,
			"state": "delivered", "state_rank": 3, "category": category, "country": billing.CountryOf(to),
			"created_at": at.Add(-time.Minute), "sent_at": at.Add(-time.Minute), "delivered_at": at, "updated_at": at}
		if err := a.db.Gorm.Table("messages").Create(row).Error; err != nil {
			t.Fatalf("seed message: %v", err)
		}
	}
}

// charge runs the charging step (usage records) now.
func charge(t *testing.T, a *app) {
	t.Helper()
	if _, err := billing.Charge(context.Background(), a.db, a.clock.Now()); err != nil {
		t.Fatalf("charge: %v", err)
	}
}

// issueMonth builds and issues a business's invoice of period.
func issueMonth(t *testing.T, a *app, biz int64, period string) *billing.Invoice {
	t.Helper()
	documentsReady()
	ctx := context.Background()
	charge(t, a)
	inv, err := billing.BuildMonth(ctx, a.db, biz, period, a.clock.Now())
	if err != nil || inv == nil {
		t.Fatalf("build %s: %v (%v)", period, inv, err)
	}
	out, err := billing.Issue(ctx, a.db, inv.ID, a.clock.Now())
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return out
}

// storedDocument is the document as stored at issue.
func storedDocument(t *testing.T, a *app, invoiceID int64, kind string) []byte {
	t.Helper()
	var body []byte
	if err := a.db.Gorm.Table("invoice_documents").Where("invoice_id = ? AND kind = ?", invoiceID, kind).
		Select("body").Row().Scan(&body); err != nil {
		t.Fatalf("stored %s: %v", kind, err)
	}
	if len(body) == 0 {
		t.Fatalf("stored %s is empty", kind)
	}
	return body
}

func sum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
