package invoicedoc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// einvoiceDir finds the official e-invoice rules: $EINVOICE_DIR, else
// ../shared/einvoice beside the repository (the module root is found by
// walking up to go.mod, so it works wherever the repository is cloned).
func einvoiceDir(t *testing.T) string {
	if d := os.Getenv("EINVOICE_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
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

// TestXRechnungPassesOfficialRules runs CEN's EN 16931 and KoSIT's
// XRechnung schematron on the four kinds of document billing issues: a
// German customer (19 %), an Austrian customer with a VAT ID (reverse
// charge), a customer outside the EU, and a credit note; and one with odd
// text (markup characters, control characters, a "#" line in the payment
// terms that XRechnung would read as Skonto, a very long description). No fatal
// failure is allowed. Java starts once per file (~10–15 s each), so all
// files go to one validator call. Skipped only where the rules are absent
// ($EINVOICE_DIR, default ../shared/einvoice beside the repository).
func TestXRechnungPassesOfficialRules(t *testing.T) {
	t.Parallel() // a minute of Java: let the other tests run beside it
	dir := einvoiceDir(t)
	validate := filepath.Join(dir, "validate")
	if _, err := os.Stat(validate); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent (set EINVOICE_DIR to the official rules)", validate)
	}
	out := t.TempDir()
	if keep := os.Getenv("INVOICEDOC_KEEP"); keep != "" {
		out = keep
	}
	docs := map[string]Document{
		"de-standard.xml":       germanInvoice(),
		"at-reverse-charge.xml": austrianInvoice(),
		"us-outside-eu.xml":     usInvoice(),
		"credit-note.xml":       creditNote(),
		"odd-strings.xml":       oddInvoice(),
	}
	var files []string
	for name, d := range docs {
		b, err := XRechnung(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := filepath.Join(out, name)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cmd := exec.Command(validate, files...)
	res, err := cmd.CombinedOutput()
	t.Logf("validator:\n%s", res)
	if err != nil {
		t.Fatalf("validator failed: %v", err)
	}
	text := string(res)
	for _, f := range files {
		if !regexp.MustCompile(regexp.QuoteMeta(f) + `: UBL, 0 fatal`).MatchString(text) {
			t.Errorf("%s: not reported with 0 fatal", filepath.Base(f))
		}
	}
	if !strings.Contains(text, "5 passed, 0 failed") {
		t.Errorf("validator summary is not 5 passed, 0 failed")
	}
}

func oddInvoice() Document {
	d := germanInvoice()
	d.Number = "2026-000127"
	d.Customer.Name = `Müller & Söhne <GmbH> "Straße" ]]> ` + "\x00\x1b"
	d.Customer.Street = "Straße 5\nHinterhaus\nc/o <Empfang> & Co.\n4. OG"
	d.Lines[0].Description = strings.Repeat("Sehr lange Beschreibung mit Ümläuten & <Zeichen> ", 60)
	d.PaymentTerms = "#SKONTO# bitte nicht\nZahlbar sofort.\n# Kommentar"
	d.BuyerReference = "04011000-12345-67 & <x>"
	return d
}
