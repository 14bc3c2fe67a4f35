package invoicedoc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// oddStrings are seeds a business can type into its legal profile or an
// administrator into the issuer settings.
var oddStrings = []string{
	`Müller & Söhne <GmbH> "Straße" 'ß' €`,
	"]]><!-- --><?xml x?>&amp;&#0;",
	"ctrl\x00\x01\x07\x1b[31m\x7f\u0085\u200b\u2028\u2029\ufeff\ufffe end",
	"bad utf8 \xff\xfe\xc3\x28 \xed\xa0\x80",
	"emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
	"עברית العربية 中文 日本語 한국어 ไทย",
	"#SKONTO#TAGE=7#PROZENT=2.00#\n# not a skonto",
	"tab\tand\r\nnewlines\n\n\nmany",
	strings.Repeat("Sehr lange Beschreibung ", 400),
	strings.Repeat("x", 5000),
	"",
	" ",
}

// FuzzDocuments puts odd text into every free-text field. Neither
// renderer may panic; a document that renders has well-formed XML that
// reads back the cleaned names, and a PDF.
func FuzzDocuments(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(s, oddStrings[(i+3)%len(oddStrings)], oddStrings[(i+5)%len(oddStrings)])
	}
	f.Fuzz(func(t *testing.T, name, desc, terms string) {
		for _, d := range []Document{germanInvoice(), usInvoice(), creditNote()} {
			d.Customer.Name = name
			d.Customer.Street = desc + "\n" + name
			d.Customer.City = terms
			d.Issuer.ContactName = name
			d.Lines[0].Description = desc
			d.PaymentTerms = terms
			d.BuyerReference = name
			d.Note = terms

			x, xerr := XRechnung(d)
			if xerr == nil {
				checkWellFormed(t, x)
				var u ublDoc
				if err := xml.Unmarshal(x, &u); err != nil {
					t.Fatalf("unmarshal: %v", err)
				}
				if u.Buyer.Name != clean(name, false) {
					t.Fatalf("buyer name %q, want %q", u.Buyer.Name, clean(name, false))
				}
			} else if !errors.Is(xerr, ErrInvalid) {
				t.Fatalf("XRechnung: %v", xerr)
			}
			p, perr := PDF(d)
			if perr != nil {
				if !errors.Is(perr, ErrInvalid) {
					t.Fatalf("PDF: %v", perr)
				}
				continue
			}
			if !bytes.HasPrefix(p, []byte("%PDF-")) || !bytes.Contains(p, []byte("%%EOF")) {
				t.Fatal("PDF is not a PDF file")
			}
			if clean(name, false) == "" {
				t.Fatal("PDF rendered without a customer name")
			}
		}
	})
}

// checkWellFormed reads the whole XML token by token.
func checkWellFormed(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("XML not well-formed: %v\n%s", err, b)
		}
	}
}

func TestCleanText(t *testing.T) {
	cases := map[string]string{
		"a\x00b\x1bc":              "abc",
		"  many   spaces\t\there ": "many spaces here",
		"line\nbreak":              "line break",
		"bad \xff byte":            "bad \ufffd byte",
		"😀":                        "\ufffd",
		"zero\u200bwidth\ufeff":    "zerowidth",
		"Straße & Söhne €":         "Straße & Söhne €",
	}
	for in, want := range cases {
		if got := clean(in, false); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := clean(" a \n\n b\r\n c \n", true); got != "a\nb\nc" {
		t.Errorf("multiline clean = %q", got)
	}
}
