package invoicedoc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pdfText extracts the text of a PDF with poppler's pdftotext, with
// no-break spaces and runs of white space turned into single spaces.
func pdfText(t *testing.T, pdf []byte) string { return pdfTextMode(t, pdf, true) }

// pdfTextMode with layout false gives the text in reading order (a
// wrapped table cell comes out whole).
func pdfTextMode(t *testing.T, pdf []byte, layout bool) string {
	t.Helper()
	tool := needTool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-enc", "UTF-8", f, "-"}
	if layout {
		args = append([]string{"-layout"}, args...)
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	s := strings.ReplaceAll(string(out), "\u00a0", " ")
	return strings.Join(strings.Fields(s), " ")
}

// needTool finds a poppler-utils program (Debian package poppler-utils).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install poppler-utils)", name)
	}
	return p
}

func pageCount(t *testing.T, pdf []byte) int {
	t.Helper()
	tool := needTool(t, "pdfinfo")
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, f).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pdfinfo: no page count in\n%s", out)
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	return n
}

func mustPDF(t *testing.T, d Document) []byte {
	t.Helper()
	b, err := PDF(d)
	if err != nil {
		t.Fatalf("PDF(%s): %v", d.Number, err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("PDF(%s) does not start with %%PDF-", d.Number)
	}
	return b
}

func wantAll(t *testing.T, name, text string, want []string) {
	t.Helper()
	for _, w := range want {
		w = strings.Join(strings.Fields(strings.ReplaceAll(w, "\u00a0", " ")), " ")
		if !strings.Contains(text, w) {
			t.Errorf("%s: extracted text lacks %q", name, w)
		}
	}
	if t.Failed() {
		t.Logf("%s text: %s", name, text)
	}
}

// Every mandatory field of a German invoice, with umlauts, ß and € as
// characters a reader (and pdftotext) gets back.
func TestPDFGermanInvoiceHoldsMandatoryFields(t *testing.T) {
	text := pdfText(t, mustPDF(t, germanInvoice()))
	wantAll(t, "de", text, []string{
		"Rechnung 2026-000123",
		"Rechnungsnummer 2026-000123",
		"Rechnungsdatum 01.12.2026",
		"Leistungszeitraum 01.11.2026 – 30.11.2026",
		"Fällig am 15.12.2026",
		"Käuferreferenz Kunde 42",
		// Issuer: name, address, VAT ID and tax number, contact.
		"Optline Platform GmbH", "Hauptstraße 1", "2. OG", "10115 Berlin",
		"Unsere USt-IdNr. DE123456789", "Steuernummer: 27/123/45678", "Jana Buchhaltung", "+49 30 1234567",
		// Customer: name, address, VAT ID.
		"Müller & Söhne GmbH", "Straße 5", "80331 München", "USt-IdNr.: DE987654321",
		// Lines: description, quantity, unit price with its decimals, amount.
		"Marketing-Nachrichten nach Deutschland (DE) 1.234 0,1131 € 139,57 €",
		"Utility-Nachrichten nach Deutschland (DE) 3 0,0333 € 0,10 €",
		"Authentifizierung nach Österreich (AT) 17 0,0526 € 0,89 €",
		// Net per rate, rate, tax, gross.
		"Nettobetrag (USt. 19 %) 140,56 €", "Umsatzsteuer 19 % 26,71 €", "Gesamtbetrag 167,27 €",
		// Payment.
		"Bitte überweisen Sie 167,27 € bis zum 15.12.2026", "Verwendungszweck: 2026-000123",
		"Zahlbar innerhalb von 14 Tagen ohne Abzug.",
		"IBAN: DE89 3704 0044 0532 0130 00", "BIC: COBADEFFXXX", "Commerzbank",
		"Seite 1 von 1",
	})
	if strings.Contains(text, "Reverse") || strings.Contains(text, "Steuerschuldnerschaft") {
		t.Error("a German 19 % invoice carries a reverse-charge note")
	}
}

func TestPDFReverseChargeInEnglish(t *testing.T) {
	text := pdfText(t, mustPDF(t, austrianInvoice()))
	wantAll(t, "at", text, []string{
		"Invoice 2026-000124", "Invoice no. 2026-000124", "Issue date 1 Dec 2026",
		"Period of supply 1 Nov 2026 – 30 Nov 2026", "Due date 15 Dec 2026", "Buyer reference Kunde 42",
		"Wiener Grüße KG", "Währinger Straße 12/3", "1090 Wien", "Austria", "VAT ID: ATU12345678",
		"Our VAT ID DE123456789",
		"Marketing messages to Austria (AT) 20,000 €0.0985 €1,970.00",
		"Service conversations beyond the free tier 1,500 €0.03 €45.00",
		"Net amount (VAT 0%) €2,015.00", "VAT 0% €0.00", "Total amount €2,015.00",
		"Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC).",
		"Please transfer €2,015.00 by 15 Dec 2026", "Page 1 of 1",
	})
}

func TestPDFOutsideEU(t *testing.T) {
	text := pdfText(t, mustPDF(t, usInvoice()))
	wantAll(t, "us", text, []string{
		"Acme Messaging Inc.", "350 Fifth Avenue", "Suite 4100", "New York, NY 10118", "United States",
		// 999 × 0.025 = 24.975, rounded once, half up.
		"Marketing messages to the United States (US) 999 €0.025 €24.98",
		"Net amount (VAT 0%) €24.98", "VAT 0% €0.00", "Total amount €24.98",
		"Not taxable in Germany (place of supply outside the EU, § 3a (2) UStG).",
		"Our VAT ID DE123456789",
	})
}

func TestPDFCreditNoteNamesTheInvoice(t *testing.T) {
	text := pdfText(t, mustPDF(t, creditNote()))
	wantAll(t, "cn", text, []string{
		"Stornorechnung CN-2026-000004", "Belegnummer CN-2026-000004",
		"Storno der Rechnung 2026-000123 vom 01.12.2026.",
		"Rechnungsdatum 03.12.2026", "Müller & Söhne GmbH",
		"Stornobetrag 167,27 €", "Der Betrag von 167,27 € wird Ihnen gutgeschrieben.",
	})
	if strings.Contains(text, "Bitte überweisen") {
		t.Error("a credit note asks the customer to pay")
	}
}

// A long invoice runs over pages: every line is there, the table header
// repeats, and every page says which of how many it is.
func TestPDFManyLinesPaginate(t *testing.T) {
	d := manyLines()
	b := mustPDF(t, d)
	n := pageCount(t, b)
	if n < 2 {
		t.Fatalf("%d lines fit on %d page(s); the test wants several pages", len(d.Lines), n)
	}
	text := pdfText(t, b)
	for i := 1; i <= n; i++ {
		wantAll(t, "many", text, []string{sprintf("Seite %d von %d", i, n)})
	}
	plain := pdfTextMode(t, b, false)
	for _, l := range d.Lines {
		wantAll(t, "many", text, []string{labelsDE.qty(l.Quantity) + " " + labelsDE.price(l.UnitPrice, "EUR") + " " + labelsDE.amt(l.Amount, "EUR")})
		wantAll(t, "many (reading order)", plain, []string{l.Description})
	}
	if c := strings.Count(text, "Beschreibung Menge Einzelpreis Betrag"); c != n {
		t.Errorf("table header printed %d times on %d pages", c, n)
	}
	wantAll(t, "many", text, []string{"Gesamtbetrag " + labelsDE.amt(d.Gross, "EUR")})
}

// A description longer than a page is printed in full across pages.
func TestPDFDescriptionLongerThanAPage(t *testing.T) {
	d := germanInvoice()
	words := make([]string, 1500)
	for i := range words {
		words[i] = sprintf("Wort%d", i)
	}
	d.Lines[0].Description = strings.Join(words, " ")
	b := mustPDF(t, d)
	if n := pageCount(t, b); n < 2 {
		t.Fatalf("a 1,500-word description fits on %d page", n)
	}
	text := pdfText(t, b)
	wantAll(t, "long", text, []string{"Wort0 Wort1", "Wort1499", "Gesamtbetrag 167,27 €"})
}

// The same document renders to the same bytes (stored documents can be
// compared with a fresh rendering).
func TestPDFIsDeterministic(t *testing.T) {
	a, b := mustPDF(t, germanInvoice()), mustPDF(t, germanInvoice())
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of one document differ")
	}
}

// The XRechnung XML travels inside the PDF as xrechnung.xml.
func TestPDFCarriesTheXRechnung(t *testing.T) {
	d := austrianInvoice()
	pdf := mustPDF(t, d)
	tool := needTool(t, "pdfdetach")
	dir := t.TempDir()
	f := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-saveall", "-o", dir, f).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfdetach: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "xrechnung.xml"))
	if err != nil {
		t.Fatalf("no xrechnung.xml in the PDF: %v", err)
	}
	want, err := XRechnung(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the attached XML is not the document's XRechnung")
	}
}

// TestPDFPageImages renders the first pages to PNG with pdftoppm (to
// look at); INVOICEDOC_PNG_DIR keeps them.
func TestPDFPageImages(t *testing.T) {
	tool := needTool(t, "pdftoppm")
	dir := os.Getenv("INVOICEDOC_PNG_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for name, d := range map[string]Document{"invoice-de": germanInvoice(), "invoice-at-en": austrianInvoice(),
		"invoice-us-en": usInvoice(), "credit-note-de": creditNote(), "invoice-many-de": manyLines()} {
		f := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(f, mustPDF(t, d), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "-png", "-r", "90", f, filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("pdftoppm %s: %v\n%s", name, err, out)
		}
		png, err := os.ReadFile(filepath.Join(dir, name+"-1.png"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 10000 {
			t.Errorf("%s: page 1 image is not a rendered page (%d bytes)", name, len(png))
		}
	}
}
