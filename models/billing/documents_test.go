package billing_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/optline/optline/models/billing"
)

// einvoiceDir is $EINVOICE_DIR, else ../shared/einvoice beside the
// repository.
func einvoiceDir(t *testing.T) string {
	if d := os.Getenv("EINVOICE_DIR"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "einvoice")
}

// The documents billing stores at issue — a German customer, an Austrian
// one with a VAT ID (reverse charge), one outside the EU, and a credit
// note — pass the official EN 16931 and XRechnung rules, and the PDF's
// text shows the number, the customer and the legal note.
func TestStoredDocumentsPassTheOfficialRules(t *testing.T) {
	if testing.Short() {
		t.Skip("the validator takes about a minute")
	}
	f := newFx(t)
	out := t.TempDir()
	var files []string
	store := func(name string, id, business int64) {
		tn, _ := f.db.Tenant(business)
		xml, err := billing.DocumentOf(ctxb, tn, id, billing.DocXML)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(out, name)
		if err := os.WriteFile(p, xml, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	var de int64
	for _, c := range []struct{ name, country, vat string }{{"de.xml", "DE", "DE123456789"}, {"at.xml", "AT", "ATU12345678"}, {"us.xml", "US", ""}} {
		tn := f.business(t, "Kunde "+c.country, c.country, c.vat, "Europe/Berlin")
		for i := 0; i < 7; i++ {
			f.message(t, tn, msgOpt{category: "marketing", delivered: at(oct)})
			f.message(t, tn, msgOpt{category: "utility", country: "IN", to: "+919876543210", delivered: at(oct)})
		}
		charge(t, f)
		inv, err := billing.Issue(ctxb, f.db, build(t, f, tn, "2026-10").ID, f.db.Now())
		if err != nil {
			t.Fatal(err)
		}
		store(c.name, inv.ID, tn.BusinessID())
		if c.country == "AT" {
			pdf, _ := billing.DocumentOf(ctxb, tn, inv.ID, billing.DocPDF)
			text := pdfText(t, pdf)
			for _, want := range []string{inv.NumberOr(), "Kunde AT Ltd", "ATU12345678", "Reverse Charge", "DE123456789"} {
				if !strings.Contains(text, want) {
					t.Errorf("the Austrian PDF lacks %q", want)
				}
			}
		}
		if c.country == "DE" {
			de = inv.ID
		}
	}
	var d billing.Invoice
	f.db.Gorm.Take(&d, de)
	cn, err := billing.CancelWithCreditNote(ctxb, f.db, f.admin, de, "Falsche Anschrift", "ip")
	if err != nil {
		t.Fatal(err)
	}
	store("credit-note.xml", cn.ID, d.BusinessID)
	validate := filepath.Join(einvoiceDir(t), "validate")
	if _, err := os.Stat(validate); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent", validate)
	}
	res, err := exec.Command(validate, files...).CombinedOutput()
	t.Logf("validator:\n%s", res)
	if err != nil {
		t.Fatalf("validator failed: %v", err)
	}
	for _, f := range files {
		if !regexp.MustCompile(regexp.QuoteMeta(f) + `: UBL, 0 fatal`).Match(res) {
			t.Errorf("%s: not reported with 0 fatal", filepath.Base(f))
		}
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	p := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
