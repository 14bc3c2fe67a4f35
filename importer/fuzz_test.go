package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// FuzzReader: the reader never panics, never returns more columns than the
// limit, and reports only valid UTF-8.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"phone,name\n+49 151 1,Anna\n",
		"\xef\xbb\xbfTelefon;Name\n0151;M\xfcller\n",
		"a\tb\n\"x\ny\"\t2\n",
		"phone,name\n1,\"unclosed\n",
		"phone,name\n1,5\" screen\n",
		"sep=;\nTelefon;Name\n1;2\n",
		"\xff\xfeT\x00e\x00l\x00\n\x001\x00\n\x00",
		"h\n" + strings.Repeat("x,", 40) + "\n",
		"\x89PNG\r\n\x1a\n",
		"a,b\n\n\n1,2\r\n3,4",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := Limits{MaxColumns: 16, MaxFieldBytes: 64, MaxRowBytes: 4096}
		rd, err := NewReader(bytes.NewReader(data), Format{}, limits)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !e.Fatal || e.Message == "" {
				t.Fatalf("NewReader error %#v", err)
			}
			return
		}
		if len(rd.Header()) > limits.MaxColumns {
			t.Fatalf("header has %d columns", len(rd.Header()))
		}
		lastRow := 1
		for range 10000 {
			row, rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
			if e != nil && e.Fatal {
				return
			}
			if len(rec) > limits.MaxColumns {
				t.Fatalf("row %d has %d columns", row, len(rec))
			}
			if row <= lastRow {
				t.Fatalf("row %d after %d", row, lastRow)
			}
			lastRow = row
			for _, v := range rec {
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 %q", v)
				}
				if e == nil && len(v) > limits.MaxFieldBytes {
					t.Fatalf("field of %d bytes", len(v))
				}
			}
		}
	})
}

// FuzzMapRow: MapRow never panics, and a Contact it returns has an E.164
// phone number.
func FuzzMapRow(f *testing.F) {
	for _, s := range []struct{ phone, name, email, tags, date, src, lang, attr, region string }{
		{"+49 151 23456789", "Anna", "a@b.de", "vip, x", "2024-03-05", "Webformular", "de", "1", "DE"},
		{"0151/23456789", "Jürgen\x00\u202e", "x", "", "05.03.2024 14:30", "Kasse", "Deutsch", "", "DE"},
		{"(030) 1234567", "", "", "a|b|c", "3/5/2024", "", "", "=1+1", "DE"},
		{"+1 (415) 555-2671", "O'Brien", "", "", "2024-03-05T14:30:00Z", "phone", "en_US", "", "US"},
		{"00 44 20 7946 0958", "", "", "", "", "", "", "", "GB"},
		{"49151 23456789", "", "", "", "", "", "", "", "DE"},
		{"０１５１ ２３４５６７８９", "", "", "", "", "", "", "", "DE"},
		{"+1 415 555 2671 ext. 12", "", "", "", "", "", "", "", "US"},
		{"'+49 151 23456789", "", "", "", "", "", "", "", "de"},
		{"tel:+49-151-23456789", "", "", "", "", "", "", "", ""},
		{"0151 23456789", "", "", "", "", "", "", "", "XX"},
		{"+800 1234 5678", "", "", "", "", "", "", "", "DE"},
	} {
		f.Add(s.phone, s.name, s.email, s.tags, s.date, s.src, s.lang, s.attr, s.region)
	}
	m := DetectMapping([]string{"phone", "name", "email", "tags", "opt-in date", "opt-in source", "language", "custom"})
	f.Fuzz(func(t *testing.T, phone, name, email, tags, date, src, lang, attr, region string) {
		c, rerr := MapRow(2, []string{phone, name, email, tags, date, src, lang, attr}, m, Defaults{Region: region, Now: testNow})
		if rerr != nil {
			if rerr.Message == "" || rerr.Code == "" || rerr.Row != 2 {
				t.Fatalf("bad RowError %+v", rerr)
			}
			return
		}
		p := c.Phone
		if len(p) < 3 || len(p) > 21 || p[0] != '+' || p[1] == '0' {
			t.Fatalf("phone %q from %q", p, phone)
		}
		for i := 1; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				t.Fatalf("phone %q from %q", p, phone)
			}
		}
		for _, v := range []string{c.Name, c.Email, c.Language, c.OptInSourceText, c.Attrs["custom"]} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
				t.Fatalf("unclean value %q", v)
			}
		}
		if c.OptInAt != nil && c.OptInAt.After(testNow.Add(24*time.Hour)) {
			t.Fatalf("future opt-in %v", c.OptInAt)
		}
	})
}

// FuzzNormalizePhone: NormalizePhone agrees with phonenumbers (Parse,
// IsValidNumber, Format E164) on everything but its two documented
// refusals, letters and extensions.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range benchPhones {
		f.Add(s, "DE")
	}
	f.Add("4915123456789", "DE")
	f.Add("+0049 151 23456789", "DE")
	f.Add("011 44 20 7946 0958", "US")
	f.Add("(11) 9 8765-4321", "BR")
	f.Add("15 1234-5678", "AR")
	f.Add("0 800 123 4567", "GB")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		if _, ext := phonenumbers.MaybeSeparateExtensionFromPhone(raw); ext != "" || hasASCIILetter(raw) {
			if err == nil {
				t.Fatalf("NormalizePhone(%q) = %q, want refusal", raw, got)
			}
			return
		}
		want, ok := libE164(strings.TrimSpace(raw), upperASCII(region))
		if ok != (err == nil) || got != want {
			t.Fatalf("NormalizePhone(%q, %q) = %q, %v; library %q, %v", raw, region, got, err, want, ok)
		}
		if err != nil {
			return
		}
		// The type that came with the number is the library's.
		_, typ, _ := normalizePhoneType(raw, region, nil)
		if num, perr := phonenumbers.Parse(got, ""); perr == nil {
			if lib := phonenumbers.GetNumberType(num); typ != lib || NumberType(got) != lib {
				t.Fatalf("type of %s: %v (NumberType %v); library %v", got, typ, NumberType(got), lib)
			}
		}
	})
}
