package importer

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func fieldsOf(m Mapping) []string {
	var out []string
	for _, c := range m.Columns {
		f := c.Field
		if f == FieldAttr {
			f += ":" + c.AttrKey
		}
		out = append(out, f)
	}
	return out
}

func TestDetectMapping(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []string
	}{
		{"english", []string{"Phone", "Full Name", "First name", "Last_Name", "E-mail", "Tags", "Opt-in date", "Consent source", "Language", "Customer ID"},
			[]string{"phone", "name", "first_name", "last_name", "email", "tags", "optin_at", "optin_source", "language", "attr:customer_id"}},
		{"english variants", []string{"mobile", "firstname", "surname", "mail", "labels", "opted in at", "opt-in source", "locale"},
			[]string{"phone", "first_name", "last_name", "email", "tags", "optin_at", "optin_source", "language"}},
		{"german", []string{"Telefonnummer", "Vollständiger Name", "Vorname", "Nachname", "E-Mail-Adresse", "Schlagwörter", "Einwilligung am", "Einwilligungsquelle", "Sprache", "Kundennummer", "Straße"},
			[]string{"phone", "name", "first_name", "last_name", "email", "tags", "optin_at", "optin_source", "language", "attr:kundennummer", "attr:strasse"}},
		{"german variants", []string{"Handy", "Familienname", "Stichwörter", "Opt-in-Datum", "Quelle"},
			[]string{"phone", "last_name", "tags", "optin_at", "optin_source"}},
		{"german variants 2", []string{"Mobilnummer", "Gruppen", "Einwilligungsdatum", "Rufnummer"},
			[]string{"phone", "tags", "optin_at", "attr:rufnummer"}},
		{"whatsapp beats phone", []string{"Phone", "Name", "WhatsApp"},
			[]string{"attr:phone", "name", "phone"}},
		{"mobile beats telefon", []string{"Telefon", "Mobil"},
			[]string{"attr:telefon", "phone"}},
		{"loose phone header", []string{"Telefon (privat)", "Fax"},
			[]string{"phone", "attr:fax"}},
		{"first wins for other fields", []string{"phone", "email", "E-Mail"},
			[]string{"phone", "email", "attr:e_mail"}},
		{"blank and unusable headers", []string{"phone", "", "###", "Город"},
			[]string{"phone", "ignore", "ignore", "ignore"}},
		{"duplicate slugs", []string{"phone", "Kunden-Nr.", "Kunden Nr"},
			[]string{"phone", "attr:kunden_nr", "attr:kunden_nr_2"}},
		{"error report", []string{"row", "field", "reason", "Telefon", "Name"},
			[]string{"ignore", "ignore", "ignore", "phone", "name"}},
	}
	for _, tc := range tests {
		m := DetectMapping(tc.headers)
		if got := fieldsOf(m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		for i, c := range m.Columns {
			if c.Index != i || c.Header != tc.headers[i] {
				t.Errorf("%s: column %d = %+v", tc.name, i, c)
			}
		}
	}
}

func TestAttrSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Customer ID": "customer_id", "Kunden-Nr.": "kunden_nr", "Straße": "strasse", "Geburtstag (TT.MM.)": "geburtstag_tt_mm",
		"  __x__ ": "x", "2nd Address": "c2nd_address", "Ünïcödé": "unicode", "日本": "",
		strings.Repeat("a", 80): strings.Repeat("a", 64),
	} {
		if got := AttrSlug(in); got != want {
			t.Errorf("AttrSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMappingValidate(t *testing.T) {
	col := func(i int, field, key string) ColumnMapping {
		return ColumnMapping{Index: i, Header: "h" + string(rune('a'+i)), Field: field, AttrKey: key}
	}
	tests := []struct {
		name  string
		cols  []ColumnMapping
		codes []string
		msg   string
	}{
		{"ok", []ColumnMapping{col(0, FieldPhone, ""), col(1, FieldName, ""), col(2, FieldAttr, "city"), col(3, FieldIgnore, "")}, nil, ""},
		{"no phone", []ColumnMapping{col(0, FieldName, "")}, []string{CodeMappingNoPhone}, "No column is mapped to the phone number."},
		{"two phones", []ColumnMapping{col(0, FieldPhone, ""), col(1, FieldPhone, "")}, []string{CodeMappingDuplicateField}, "Only one column can hold the phone number, but columns A and B are all mapped to it."},
		{"two emails", []ColumnMapping{col(0, FieldPhone, ""), col(1, FieldEmail, ""), col(2, FieldEmail, "")}, []string{CodeMappingDuplicateField}, "Columns B and C are all mapped to email"},
		{"bad attr key", []ColumnMapping{col(0, FieldPhone, ""), col(1, FieldAttr, "Bad Key")}, []string{CodeMappingBadAttrKey}, `Column B ("hb"): the attribute name "Bad Key" must start with a letter`},
		{"duplicate attr", []ColumnMapping{col(0, FieldPhone, ""), col(1, FieldAttr, "x"), col(2, FieldAttr, "x")}, []string{CodeMappingDuplicateAttr}, `Columns B and C ("hc") are both stored as the attribute "x"`},
		{"unknown field", []ColumnMapping{col(0, FieldPhone, ""), col(1, "birthday", "")}, []string{CodeMappingUnknownField}, `Column B ("hb") is mapped to "birthday", which is not a contact field.`},
		{"index twice", []ColumnMapping{col(0, FieldPhone, ""), col(0, FieldName, "")}, []string{CodeMappingBadIndex}, `Column A ("ha") is mapped twice.`},
		{"negative index", []ColumnMapping{col(0, FieldPhone, ""), {Index: -1, Field: FieldName}}, []string{CodeMappingBadIndex}, "Column index -1 is not valid."},
		{"several problems", []ColumnMapping{col(0, FieldName, ""), col(1, FieldName, "")}, []string{CodeMappingNoPhone, CodeMappingDuplicateField}, ""},
	}
	for _, tc := range tests {
		err := Mapping{Columns: tc.cols}.Validate()
		if tc.codes == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var codes []string
		var msgs []string
		for _, e := range unjoin(err) {
			var ie *Error
			if !errors.As(e, &ie) {
				t.Fatalf("%s: %T", tc.name, e)
			}
			codes = append(codes, ie.Code)
			msgs = append(msgs, ie.Message)
		}
		if !reflect.DeepEqual(codes, tc.codes) {
			t.Errorf("%s: codes %v, want %v (%v)", tc.name, codes, tc.codes, err)
		}
		if tc.msg != "" && (len(msgs) == 0 || !strings.HasPrefix(msgs[0], tc.msg)) {
			t.Errorf("%s: message %q, want prefix %q", tc.name, msgs, tc.msg)
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestMappingJSON(t *testing.T) {
	m := DetectMapping([]string{"Telefon", "Name", "Kundennummer"})
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"columns":[{"index":0,"header":"Telefon","field":"phone"},{"index":1,"header":"Name","field":"name"},{"index":2,"header":"Kundennummer","field":"attr","attr_key":"kundennummer"}]}`
	if string(data) != want {
		t.Errorf("json = %s", data)
	}
	var back Mapping
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("round trip: %+v %v", back, err)
	}
}
