package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Contact fields a column can be mapped to (ColumnMapping.Field).
const (
	FieldPhone       = "phone"
	FieldName        = "name"
	FieldFirstName   = "first_name"
	FieldLastName    = "last_name"
	FieldEmail       = "email"
	FieldTags        = "tags"
	FieldOptInAt     = "optin_at"
	FieldOptInSource = "optin_source"
	FieldLanguage    = "language"
	FieldAttr        = "attr"   // custom attribute, stored under AttrKey
	FieldIgnore      = "ignore" // column is not imported
)

// Mapping-error codes (Error.Code from Mapping.Validate).
const (
	CodeMappingNoPhone        = "mapping_no_phone"
	CodeMappingDuplicateField = "mapping_duplicate_field"
	CodeMappingUnknownField   = "mapping_unknown_field"
	CodeMappingBadAttrKey     = "mapping_bad_attr_key"
	CodeMappingDuplicateAttr  = "mapping_duplicate_attr"
	CodeMappingBadIndex       = "mapping_bad_index"
)

// ColumnMapping says what one column of the file holds.
type ColumnMapping struct {
	Index   int    `json:"index"`              // 0-based column index
	Header  string `json:"header"`             // header as in the file, for display and to detect a changed file
	Field   string `json:"field"`              // one of the Field* constants
	AttrKey string `json:"attr_key,omitempty"` // key when Field is FieldAttr: [a-z][a-z0-9_]{0,63}
}

// Mapping maps the columns of one file to contact fields. It is plain data:
// store it as JSON on the import and let the user edit it, then call
// Validate.
type Mapping struct {
	Columns []ColumnMapping `json:"columns"`
}

// headerSynonyms maps normalised header names (see headerKey) to a field.
// Phone synonyms carry a rank: when several columns look like phone numbers,
// the best one (WhatsApp, then mobile) becomes the phone and the others
// become attributes.
type synonym struct {
	field string
	rank  int
}

var headerSynonyms = buildSynonyms()

func buildSynonyms() map[string]synonym {
	syn := map[string]synonym{}
	add := func(field string, rank int, names ...string) {
		for _, n := range names {
			syn[headerKey(n)] = synonym{field, rank}
		}
	}
	add(FieldPhone, 1, "whatsapp", "whatsapp number", "whatsapp nummer", "whatsapp-nummer", "whatsapp phone", "wa number", "wa_id")
	add(FieldPhone, 2, "mobile", "mobile phone", "mobile number", "mobile phone number", "mobile no", "cell", "cell phone",
		"cellphone", "cell number", "handy", "handynummer", "handy nr", "mobil", "mobilnummer", "mobiltelefon",
		"mobilfunknummer", "mobilfunk", "msisdn", "mobile_phone", "mobile_number", "telefon mobil", "mobil telefon")
	add(FieldPhone, 3, "phone", "phone number", "phonenumber", "phone no", "phone_number", "telephone", "telephone number",
		"tel", "tel.", "tel nr", "telefon", "telefonnummer", "telefon nr", "telnr", "rufnummer", "fon", "contact number")
	add(FieldPhone, 4, "number", "nummer")
	add(FieldName, 0, "name", "full name", "fullname", "display name", "contact name", "customer name",
		"vollständiger name", "voller name", "kontaktname", "kundenname", "anzeigename", "namen")
	add(FieldFirstName, 0, "first name", "firstname", "first", "given name", "forename", "vorname", "rufname")
	add(FieldLastName, 0, "last name", "lastname", "last", "surname", "family name", "nachname", "familienname", "zuname")
	add(FieldEmail, 0, "email", "e-mail", "mail", "email address", "e-mail address", "e-mail-adresse", "emailadresse",
		"mailadresse", "mail address", "e-mail adresse", "email_address")
	add(FieldTags, 0, "tags", "tag", "labels", "label", "schlagwörter", "schlagworte", "schlagwort", "stichwörter",
		"stichworte", "gruppen", "gruppe", "groups", "group", "segments", "segment", "kategorien", "kategorie", "categories")
	add(FieldOptInAt, 0, "opt-in date", "optin date", "opt in date", "opt-in at", "optin_at", "opted in at",
		"consent date", "consent at", "consented at", "consent given at", "consent timestamp",
		"opt-in time", "opt-in timestamp", "subscribed at", "einwilligung am", "opt-in-datum",
		"optin datum", "einwilligungsdatum", "einwilligung datum", "datum der einwilligung", "zustimmung am", "zustimmungsdatum")
	add(FieldOptInSource, 0, "opt-in source", "optin source", "optin_source", "consent source", "consent channel",
		"opt-in channel", "opt-in method", "source", "quelle", "einwilligungsquelle", "einwilligung quelle",
		"opt-in-quelle", "herkunft", "kanal", "zustimmungsquelle")
	add(FieldLanguage, 0, "language", "lang", "locale", "language code", "sprache", "sprachcode", "preferred language")
	return syn
}

// phoneWords are substrings that make an unrecognised header a (low-ranked)
// phone column, e.g. "Telefon (privat)" or "Phone 2".
var phoneWords = []string{"whatsapp", "handy", "mobil", "phone", "telefon", "cell"}

// headerKey normalises a header for matching: lower case, accents and
// punctuation removed ("E-Mail-Adresse" -> "emailadresse", "Schlagwörter" ->
// "schlagworter").
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == 'ß':
			b.WriteString("ss")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// AttrSlug turns a header into an attribute key: ASCII lower case letters,
// digits and underscores, at most 64 long, starting with a letter
// ("Kunden-Nr." -> "kunden_nr", "Straße" -> "strasse"). It returns "" when
// nothing usable is left.
func AttrSlug(s string) string {
	var b strings.Builder
	underscore := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == 'ß':
			b.WriteString("ss")
			underscore = false
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if b.Len() == 0 && unicode.IsDigit(r) {
				b.WriteString("c")
			}
			b.WriteRune(r)
			underscore = false
		case unicode.Is(unicode.Mn, r):
		default:
			if b.Len() > 0 && !underscore {
				b.WriteByte('_')
				underscore = true
			}
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if len(out) > 64 {
		out = strings.TrimRight(out[:64], "_")
	}
	return out
}

// DetectMapping proposes a mapping for a header row. English and German
// names are recognised after normalisation (case, accents, spaces and
// punctuation do not matter); each field is used once, the first column
// winning except for the phone, where WhatsApp beats mobile beats phone
// beats "number". Other columns become attributes keyed by AttrSlug of the
// header; blank or unusable headers are ignored. The columns "row", "field",
// "reason" that start an error report (WriteErrorReport) are ignored, so a
// corrected report can be uploaded again.
func DetectMapping(headers []string) Mapping {
	m := Mapping{Columns: make([]ColumnMapping, len(headers))}
	used := map[string]int{} // field -> column
	phoneRank := 99
	for i, h := range headers {
		m.Columns[i] = ColumnMapping{Index: i, Header: h, Field: FieldIgnore}
	}
	isReport := len(headers) >= 3 && headerKey(headers[0]) == "row" && headerKey(headers[1]) == "field" && headerKey(headers[2]) == "reason"
	start := 0
	if isReport {
		start = 3
	}
	for i := start; i < len(headers); i++ {
		key := headerKey(headers[i])
		if key == "" {
			continue
		}
		syn, ok := headerSynonyms[key]
		if !ok {
			for _, w := range phoneWords {
				if strings.Contains(key, w) && !strings.Contains(key, "fax") {
					syn.field, syn.rank, ok = FieldPhone, 5, true
					break
				}
			}
		}
		if !ok || syn.field == "" {
			continue
		}
		if syn.field == FieldPhone {
			if syn.rank < phoneRank {
				phoneRank = syn.rank
				used[FieldPhone] = i
			}
			continue
		}
		if _, taken := used[syn.field]; !taken {
			used[syn.field] = i
		}
	}
	for field, i := range used {
		m.Columns[i].Field = field
	}
	attrKeys := map[string]bool{}
	for i := start; i < len(headers); i++ {
		c := &m.Columns[i]
		if c.Field != FieldIgnore {
			continue
		}
		slug := AttrSlug(headers[i])
		if slug == "" {
			continue
		}
		key := slug
		for n := 2; attrKeys[key]; n++ {
			key = slug + "_" + strconv.Itoa(n)
		}
		attrKeys[key] = true
		c.Field, c.AttrKey = FieldAttr, key
	}
	return m
}

var knownFields = map[string]bool{
	FieldPhone: true, FieldName: true, FieldFirstName: true, FieldLastName: true, FieldEmail: true,
	FieldTags: true, FieldOptInAt: true, FieldOptInSource: true, FieldLanguage: true,
	FieldAttr: true, FieldIgnore: true,
}

// Validate checks a (possibly user-edited) mapping: exactly one phone
// column, every other field at most once, valid and unique attribute keys,
// known fields and distinct non-negative column indexes. It returns all
// problems joined (errors.Join) as *Error values with CodeMapping* codes.
func (m Mapping) Validate() error {
	var errs []error
	add := func(code, format string, args ...any) {
		errs = append(errs, &Error{Code: code, Fatal: true, Message: fmt.Sprintf(format, args...)})
	}
	fieldCols := map[string][]int{}
	attrCols := map[string]int{}
	indexSeen := map[int]bool{}
	for _, c := range m.Columns {
		col := columnLabel(c)
		if c.Index < 0 || c.Index >= DefaultMaxColumns*100 {
			add(CodeMappingBadIndex, "Column index %d is not valid.", c.Index)
			continue
		}
		if indexSeen[c.Index] {
			add(CodeMappingBadIndex, "Column %s is mapped twice.", col)
			continue
		}
		indexSeen[c.Index] = true
		if !knownFields[c.Field] {
			add(CodeMappingUnknownField, "Column %s is mapped to %q, which is not a contact field.", col, c.Field)
			continue
		}
		switch c.Field {
		case FieldIgnore:
		case FieldAttr:
			if !validAttrKey(c.AttrKey) {
				add(CodeMappingBadAttrKey, "Column %s: the attribute name %q must start with a letter and use only a-z, 0-9 and _ (at most 64 characters).", col, c.AttrKey)
			} else if j, dup := attrCols[c.AttrKey]; dup {
				add(CodeMappingDuplicateAttr, "Columns %s and %s are both stored as the attribute %q; give one of them another name.", ColumnLetter(j), col, c.AttrKey)
			} else {
				attrCols[c.AttrKey] = c.Index
			}
		default:
			fieldCols[c.Field] = append(fieldCols[c.Field], c.Index)
		}
	}
	switch cols := fieldCols[FieldPhone]; len(cols) {
	case 0:
		add(CodeMappingNoPhone, "No column is mapped to the phone number. Choose the column that holds the phone numbers.")
	case 1:
	default:
		add(CodeMappingDuplicateField, "Only one column can hold the phone number, but columns %s are all mapped to it. Map the others to attributes or ignore them.", letters(cols))
	}
	for _, f := range []string{FieldName, FieldFirstName, FieldLastName, FieldEmail, FieldTags, FieldOptInAt, FieldOptInSource, FieldLanguage} {
		if cols := fieldCols[f]; len(cols) > 1 {
			add(CodeMappingDuplicateField, "Columns %s are all mapped to %s; map only one of them to it.", letters(cols), fieldLabel(f))
		}
	}
	return errors.Join(errs...)
}

func columnLabel(c ColumnMapping) string {
	if c.Index < 0 {
		return strconv.Itoa(c.Index)
	}
	if c.Header != "" {
		return fmt.Sprintf("%s (%q)", ColumnLetter(c.Index), c.Header)
	}
	return ColumnLetter(c.Index)
}

func letters(cols []int) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = ColumnLetter(c)
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func fieldLabel(f string) string { return fieldLabels[f] }

var fieldLabels = map[string]string{
	FieldPhone: "phone", FieldName: "name", FieldFirstName: "first name", FieldLastName: "last name",
	FieldEmail: "email", FieldTags: "tags", FieldOptInAt: "opt-in date", FieldOptInSource: "opt-in source",
	FieldLanguage: "language",
}

func validAttrKey(k string) bool {
	if len(k) == 0 || len(k) > 64 || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
