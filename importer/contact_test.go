package importer

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

var fullMapping = DetectMapping([]string{"Telefon", "Vorname", "Nachname", "Name", "E-Mail", "Tags", "Einwilligung am", "Quelle", "Sprache", "Kundennummer", "Notiz"})

func row(phone, first, last, name, email, tags, at, src, lang, attr, note string) []string {
	return []string{phone, first, last, name, email, tags, at, src, lang, attr, note}
}

func TestMapRow(t *testing.T) {
	d := Defaults{Region: "DE", Now: testNow}
	c, rerr := MapRow(2, row(" 0151 23456789 ", "Jürgen", "Müller", "", "Juergen@Example.DE", "VIP, vip; Newsletter | b2b", "05.03.2024", "Webformular", "Deutsch", "K-1", "line1\nline2"), fullMapping, d)
	if rerr != nil {
		t.Fatal(rerr)
	}
	at := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	want := Contact{
		Row: 2, Phone: "+4915123456789", Name: "Jürgen Müller", FirstName: "Jürgen", LastName: "Müller",
		Email: "Juergen@example.de", Tags: []string{"VIP", "Newsletter", "b2b"}, OptInAt: &at, OptInSource: SourceWebForm,
		Language: "de", Attrs: map[string]string{"kundennummer": "K-1", "notiz": "line1\nline2"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if !c.HasConsent() {
		t.Error("HasConsent = false")
	}
}

func TestMapRowNames(t *testing.T) {
	d := Defaults{Region: "DE", Now: testNow}
	tests := []struct{ first, last, name, want string }{
		{"Anna", "", "", "Anna"},
		{"", "Schmidt", "", "Schmidt"},
		{"Anna", "Schmidt", "A. Schmidt", "A. Schmidt"},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		c, err := MapRow(2, row("0151 23456789", tc.first, tc.last, tc.name, "", "", "", "", "", "", ""), fullMapping, d)
		if err != nil || c.Name != tc.want {
			t.Errorf("%q %q %q: name %q, %v", tc.first, tc.last, tc.name, c.Name, err)
		}
	}
}

func TestMapRowCleaning(t *testing.T) {
	d := Defaults{Region: "DE", Now: testNow}
	c, err := MapRow(2, row("'+49 151 23456789", "\u202eAnna\x00", "\u2066Sch\u2069midt\u202c", "", "", "", "", "", "", "'=HYPERLINK(\"http://x\",\"y\")", "a\x00b\u202ec"), fullMapping, d)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "+4915123456789" || c.FirstName != "Anna" || c.LastName != "Schmidt" || c.Name != "Anna Schmidt" {
		t.Errorf("got %+v", c)
	}
	if c.Attrs["kundennummer"] != `=HYPERLINK("http://x","y")` || c.Attrs["notiz"] != "abc" {
		t.Errorf("attrs %q", c.Attrs)
	}
	// invalid UTF-8 (possible when MapRow is fed directly) becomes U+FFFD
	c, err = MapRow(2, row("0151 23456789", "M\xfcller", "", "", "", "", "", "", "", "", ""), fullMapping, d)
	if err != nil || c.FirstName != "M\uFFFDller" {
		t.Errorf("got %q, %v", c.FirstName, err)
	}
}

func TestMapRowErrors(t *testing.T) {
	d := Defaults{Region: "DE", Now: testNow}
	long := strings.Repeat("ä", 201)
	tests := []struct {
		name        string
		rec         []string
		field, code string
		msg         string
	}{
		{"phone empty", row("", "Anna", "", "", "", "", "", "", "", "", ""), "phone", CodePhoneMissing, "phone is empty"},
		{"phone short", row("0151 12", "", "", "", "", "", "", "", "", "", ""), "phone", CodePhoneTooShort, `phone "0151 12" is too short for Germany (DE)`},
		{"phone letters", row("0800 FLOWERS", "", "", "", "", "", "", "", "", "", ""), "phone", CodePhoneLetters, `phone "0800 FLOWERS" contains letters`},
		{"email", row("0151 23456789", "", "", "", "max@", "", "", "", "", "", ""), "email", CodeEmailInvalid, `email "max@" is not a valid e-mail address`},
		{"email two @", row("0151 23456789", "", "", "", "a@b@c.de", "", "", "", "", "", ""), "email", CodeEmailInvalid, ""},
		{"email space", row("0151 23456789", "", "", "", "a b@c.de", "", "", "", "", "", ""), "email", CodeEmailInvalid, ""},
		{"email no dot", row("0151 23456789", "", "", "", "a@localhost", "", "", "", "", "", ""), "email", CodeEmailInvalid, ""},
		{"email too long", row("0151 23456789", "", "", "", strings.Repeat("a", 60)+"@"+strings.Repeat("b", 200)+".de", "", "", "", "", "", ""), "email", CodeEmailInvalid, ""},
		{"first name too long", row("0151 23456789", long, "", "", "", "", "", "", "", "", ""), "first_name", CodeNameTooLong, "first name is longer than 200 characters"},
		{"name too long", row("0151 23456789", "", "", long, "", "", "", "", "", "", ""), "name", CodeNameTooLong, "name is longer than 200 characters"},
		{"future date", row("0151 23456789", "", "", "", "", "", "2099-01-01", "", "", "", ""), "optin_at", CodeDateFuture, `opt-in date "2099-01-01" is in the future`},
		{"bad date", row("0151 23456789", "", "", "", "", "", "yesterday", "", "", "", ""), "optin_at", CodeDateInvalid, `opt-in date "yesterday" is not a date we can read`},
		{"language", row("0151 23456789", "", "", "", "", "", "", "", "Klingon", "", ""), "language", CodeLanguageInvalid, `language "Klingon" is not a language we know`},
		{"tag too long", row("0151 23456789", "", "", "", "", strings.Repeat("t", 51), "", "", "", "", ""), "tags", CodeTagTooLong, "tag"},
		{"too many tags", row("0151 23456789", "", "", "", "", strings.Repeat("x,", 50)+strings.Repeat("y", 3)+","+func() string {
			var b strings.Builder
			for i := range 60 {
				b.WriteString("t" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + ",")
			}
			return b.String()
		}(), "", "", "", "", ""), "tags", CodeTooManyTags, "the row has more than 50 tags"},
		{"extra columns", append(row("0151 23456789", "", "", "", "", "", "", "", "", "", ""), "", "surprise"), "", CodeExtraColumns, "the row has a value in column M"},
	}
	for _, tc := range tests {
		c, rerr := MapRow(7, tc.rec, fullMapping, d)
		if rerr == nil {
			t.Errorf("%s: no error, got %+v", tc.name, c)
			continue
		}
		if rerr.Row != 7 || rerr.Field != tc.field || rerr.Code != tc.code || !strings.HasPrefix(rerr.Message, tc.msg) || !reflect.DeepEqual(rerr.Raw, tc.rec) {
			t.Errorf("%s: got %+v", tc.name, rerr)
		}
		if !reflect.DeepEqual(c, Contact{}) {
			t.Errorf("%s: contact not zero: %+v", tc.name, c)
		}
	}
	// the Error string carries the row
	_, rerr := MapRow(7, row("0151 12", "", "", "", "", "", "", "", "", "", ""), fullMapping, d)
	if rerr.Error() != `row 7: phone "0151 12" is too short for Germany (DE)` {
		t.Errorf("Error() = %q", rerr.Error())
	}
}

func TestMapRowConsent(t *testing.T) {
	declared := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	decl := &Consent{Source: "Kasse", At: declared}
	tests := []struct {
		name       string
		at, src    string
		decl       *Consent
		consent    bool
		source     string
		fromFile   bool
		sourceText string
	}{
		{"none", "", "", nil, false, "", false, ""},
		{"date only", "2024-03-05", "", nil, false, "", false, ""},
		{"source only", "", "Filiale", nil, false, SourceInStore, false, ""},
		{"both", "2024-03-05", "Telefon", nil, true, SourcePhone, false, ""},
		{"declared fills both", "", "", decl, true, SourceCheckout, true, ""},
		{"declared fills date", "", "Papier", decl, true, SourcePaper, true, ""},
		{"row wins", "2024-03-05", "chat", decl, true, SourceChat, false, ""},
		{"unknown source kept", "2024-03-05", "Messestand Hannover", nil, true, SourceOther, false, "Messestand Hannover"},
	}
	for _, tc := range tests {
		d := Defaults{Region: "DE", Now: testNow, Consent: tc.decl}
		c, err := MapRow(2, row("0151 23456789", "", "", "", "", "", tc.at, tc.src, "", "", ""), fullMapping, d)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.HasConsent() != tc.consent || c.OptInSource != tc.source || c.ConsentFromFile != tc.fromFile || c.OptInSourceText != tc.sourceText {
			t.Errorf("%s: got %+v", tc.name, c)
		}
	}
}

func TestParseOptInDate(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if berlin == nil {
		berlin = time.FixedZone("CET", 3600)
	}
	utc := func(y, m, d, hh, mm, ss int) time.Time {
		return time.Date(y, time.Month(m), d, hh, mm, ss, 0, time.UTC)
	}
	tests := []struct {
		in     string
		region string
		loc    *time.Location
		want   time.Time
		code   string
	}{
		{"2024-03-05", "DE", nil, utc(2024, 3, 5, 0, 0, 0), ""},
		{"2024/03/05", "DE", nil, utc(2024, 3, 5, 0, 0, 0), ""},
		{"2024-03-05T14:30:00Z", "DE", berlin, utc(2024, 3, 5, 14, 30, 0), ""},
		{"2024-03-05T14:30:00+01:00", "DE", nil, utc(2024, 3, 5, 13, 30, 0), ""},
		{"2024-03-05T14:30:00.123-0500", "DE", nil, time.Date(2024, 3, 5, 19, 30, 0, 123000000, time.UTC), ""},
		{"2024-03-05 14:30", "DE", nil, utc(2024, 3, 5, 14, 30, 0), ""},
		{"2024-03-05 14:30:15", "DE", berlin, time.Date(2024, 3, 5, 14, 30, 15, 0, berlin), ""},
		{"05.03.2024", "DE", nil, utc(2024, 3, 5, 0, 0, 0), ""},
		{"5.3.2024", "DE", nil, utc(2024, 3, 5, 0, 0, 0), ""},
		{"05.03.24", "DE", nil, utc(2024, 3, 5, 0, 0, 0), ""},
		{"05.03.2024 14:30", "DE", berlin, time.Date(2024, 3, 5, 14, 30, 0, 0, berlin), ""},
		{"05.03.2024 14:30:59", "DE", nil, utc(2024, 3, 5, 14, 30, 59), ""},
		{"13/5/2024", "DE", nil, utc(2024, 5, 13, 0, 0, 0), ""}, // day first: unambiguous
		{"5/13/2024", "DE", nil, utc(2024, 5, 13, 0, 0, 0), ""}, // month first: unambiguous
		{"5/5/2024", "DE", nil, utc(2024, 5, 5, 0, 0, 0), ""},   // same either way
		{"3/5/2024", "US", nil, utc(2024, 3, 5, 0, 0, 0), ""},   // US: month first
		{"3/5/2024", "GB", nil, utc(2024, 5, 3, 0, 0, 0), ""},   // GB: day first
		{"3/5/2024", "DE", nil, time.Time{}, CodeDateAmbiguous}, // DE: refused
		{"3/5/2024 10:00", "US", nil, utc(2024, 3, 5, 10, 0, 0), ""},
		{"2025-06-15", "DE", nil, utc(2025, 6, 15, 0, 0, 0), ""}, // today
		{"2025-06-16", "DE", nil, time.Time{}, CodeDateFuture},
		{"2025-06-15T12:04:00Z", "DE", nil, utc(2025, 6, 15, 12, 4, 0), ""}, // within 5 minutes
		{"2025-06-15T13:00:00Z", "DE", nil, time.Time{}, CodeDateFuture},
		{"01.01.2099", "DE", nil, time.Time{}, CodeDateFuture},
		{"1999-12-31", "DE", nil, time.Time{}, CodeDateTooOld},
		{"31.02.2024", "DE", nil, time.Time{}, CodeDateNoSuchDay},
		{"29.02.2025", "DE", nil, time.Time{}, CodeDateNoSuchDay},
		{"29.02.2024", "DE", nil, utc(2024, 2, 29, 0, 0, 0), ""}, // leap year
		{"2024-04-31 10:00", "DE", nil, time.Time{}, CodeDateNoSuchDay},
		{"31/4/2024", "GB", nil, time.Time{}, CodeDateNoSuchDay},
		{"2024-13-01", "DE", nil, time.Time{}, CodeDateInvalid},
		{"2024-03-05T25:00", "DE", nil, time.Time{}, CodeDateInvalid},
		{"March 5, 2024", "DE", nil, time.Time{}, CodeDateInvalid},
		{"45356", "DE", nil, time.Time{}, CodeDateInvalid},
		{"ja", "DE", nil, time.Time{}, CodeDateInvalid},
	}
	for _, tc := range tests {
		got, code, msg := ParseOptInDate(tc.in, Defaults{Region: tc.region, Location: tc.loc, Now: testNow})
		if code != tc.code || !got.Equal(tc.want) {
			t.Errorf("ParseOptInDate(%q, %s) = %v, %s %q; want %v, %s", tc.in, tc.region, got, code, msg, tc.want, tc.code)
		}
		if code != "" && !strings.Contains(msg, tc.in) {
			t.Errorf("message %q does not quote the value", msg)
		}
	}
	if _, _, msg := ParseOptInDate("31.02.2025", Defaults{Region: "DE", Now: testNow}); msg != `opt-in date "31.02.2025" does not exist: February 2025 has 28 days` {
		t.Errorf("no-such-day message %q", msg)
	}
	_, _, msg := ParseOptInDate("3/5/2024", Defaults{Region: "DE", Now: testNow})
	if msg != `opt-in date "3/5/2024" is ambiguous (3 May or March 5?); write dates as YYYY-MM-DD or DD.MM.YYYY` {
		t.Errorf("ambiguous message %q", msg)
	}
}

func TestNormalizeSource(t *testing.T) {
	tests := map[string]string{
		"web_form": SourceWebForm, "Web form": SourceWebForm, "Webformular": SourceWebForm, "Online-Formular": SourceWebForm, "website": SourceWebForm,
		"checkout": SourceCheckout, "Kasse": SourceCheckout, "Online-Shop Checkout": SourceCheckout, "Bestellung": SourceCheckout,
		"in store": SourceInStore, "In-Store": SourceInStore, "Laden": SourceInStore, "im Geschäft": SourceInStore, "Geschäft": SourceInStore, "Filiale": SourceInStore, "Filiale Köln": SourceInStore,
		"chat": SourceChat, "WhatsApp": SourceChat,
		"phone": SourcePhone, "Telefon": SourcePhone, "telefonisch": SourcePhone, "Anruf": SourcePhone,
		"paper": SourcePaper, "Papier": SourcePaper, "Formular": SourcePaper, "Papierformular": SourcePaper,
		"other": SourceOther, "Sonstiges": SourceOther,
	}
	for in, want := range tests {
		if got, ok := NormalizeSource(in); !ok || got != want {
			t.Errorf("NormalizeSource(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Messestand", "???"} {
		if got, ok := NormalizeSource(in); ok {
			t.Errorf("NormalizeSource(%q) = %q, want not ok", in, got)
		}
	}
}

func TestNormalizeLanguage(t *testing.T) {
	tests := map[string]string{
		"de": "de", "DE": "de", "De": "de", "de-DE": "de", "de_AT": "de", "en-US": "en", "en_GB": "en", "pt-BR": "pt", "deu": "de", "ger": "de",
		"Deutsch": "de", "German": "de", "deutsch": "de", "English": "en", "Englisch": "en", "Türkisch": "tr", "Turkish": "tr", "Türkçe": "tr",
		"français": "fr", "Französisch": "fr", "Spanish": "es", "español": "es", "in": "id", "zh-Hant": "zh",
	}
	for in, want := range tests {
		if got, ok := NormalizeLanguage(in); !ok || got != want {
			t.Errorf("NormalizeLanguage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"xx", "Klingon", "123", "de-DE-xx-yy-zz-this-is-long", "und"} {
		if got, ok := NormalizeLanguage(in); ok {
			t.Errorf("NormalizeLanguage(%q) = %q, want not ok", in, got)
		}
	}
}
