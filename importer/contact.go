package importer

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Opt-in sources (Contact.OptInSource, Consent.Source).
const (
	SourceWebForm  = "web_form"
	SourceCheckout = "checkout"
	SourceInStore  = "in_store"
	SourceChat     = "chat"
	SourcePhone    = "phone"
	SourcePaper    = "paper"
	SourceOther    = "other"
)

// Row-error codes (RowError.Code) besides the CodePhone* codes and the
// Reader's row codes.
const (
	CodeEmailInvalid       = "email_invalid"
	CodeNameTooLong        = "name_too_long"
	CodeDateInvalid        = "optin_date_invalid"
	CodeDateNoSuchDay      = "optin_date_no_such_day"
	CodeDateAmbiguous      = "optin_date_ambiguous"
	CodeDateFuture         = "optin_date_future"
	CodeDateTooOld         = "optin_date_too_old"
	CodeLanguageInvalid    = "language_invalid"
	CodeTagTooLong         = "tag_too_long"
	CodeTooManyTags        = "too_many_tags"
	CodeExtraColumns       = "extra_columns"
	CodeConsentDeclaration = "consent_declaration_invalid"
)

// Limits on contact fields.
const (
	MaxNameRunes = 200
	MaxTagRunes  = 50
	MaxTags      = 50
	MaxEmailLen  = 254
)

// Consent is a declaration the user confirmed for a whole file ("everyone in
// this list opted in through our web form on 2024-03-01"). It fills the
// opt-in date and source of rows that have none.
type Consent struct {
	Source string    `json:"source"` // an opt-in source; English or German words are normalised
	At     time.Time `json:"at"`
}

// Defaults are the per-import settings MapRow applies.
type Defaults struct {
	Region   string         // default country for phone numbers without country code, e.g. "DE"
	Consent  *Consent       // optional whole-file consent declaration
	Location *time.Location // zone for dates and times without one; nil means UTC
	Now      time.Time      // reference for the future-date check; zero means time.Now()
}

// Contact is one mapped, normalised row.
type Contact struct {
	Row         int        `json:"row"`   // spreadsheet row number
	Phone       string     `json:"phone"` // E.164
	Name        string     `json:"name,omitempty"`
	FirstName   string     `json:"first_name,omitempty"`
	LastName    string     `json:"last_name,omitempty"`
	Email       string     `json:"email,omitempty"`
	Tags        []string   `json:"tags,omitempty"`
	OptInAt     *time.Time `json:"optin_at,omitempty"`
	OptInSource string     `json:"optin_source,omitempty"` // one of the Source* constants
	// OptInSourceText keeps the file's wording when it was not a known
	// source word (OptInSource is then "other").
	OptInSourceText string `json:"optin_source_text,omitempty"`
	// ConsentFromFile is true when the opt-in date or source came from the
	// whole-file declaration rather than from the row.
	ConsentFromFile bool `json:"consent_from_file,omitempty"`
	// Landline is true when the number probably cannot take chat-app
	// messages (LikelyLandline): a warning, the row is still imported.
	// (Beside the other bool, so the struct does not grow.)
	Landline bool              `json:"landline,omitempty"`
	Language string            `json:"language,omitempty"` // ISO 639-1, lower case ("de")
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// HasConsent reports whether both when and how the person opted in are
// known. Contacts without consent are still imported, as not messageable.
func (c *Contact) HasConsent() bool { return c.OptInAt != nil && c.OptInSource != "" }

// RowError says why one row was not imported.
type RowError struct {
	Row     int      `json:"row"`             // spreadsheet row number
	Raw     []string `json:"raw"`             // the row's cells as read
	Field   string   `json:"field,omitempty"` // contact field at fault ("phone", "email", ...), "" for the whole row
	Code    string   `json:"code"`
	Message string   `json:"message"` // e.g. phone "0151 12" is too short for Germany (DE)
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Message) }

// MapRow turns one record into a Contact using mapping m. Cells are cleaned
// first: NUL bytes, other control characters, byte-order marks and
// bidirectional override/isolate characters (U+202A-U+202E, U+2066-U+2069)
// are removed, line breaks become spaces except in attributes, spaces are
// trimmed, and a leading apostrophe that SafeCell added is dropped.
//
// Fields:
//   - phone: required; NormalizePhone with d.Region. Landline is set by
//     LikelyLandline.
//   - name, first_name, last_name: at most 200 characters each. Name
//     defaults to first and last name joined.
//   - email: optional; one @, no spaces, a dot in the domain, at most 254
//     bytes. The domain is lower-cased.
//   - tags: split on comma, semicolon and pipe, trimmed, duplicates dropped
//     ignoring case (first spelling kept), at most 50 tags of 50 characters.
//   - optin_at: see ParseOptInDate.
//   - optin_source: see NormalizeSource; unknown wording becomes "other"
//     and is kept in OptInSourceText.
//   - language: see NormalizeLanguage.
//   - attr: stored in Attrs under the key when not empty.
//
// Missing opt-in date or source is filled from d.Consent. A row without
// consent is not an error. The first problem found is returned as a
// RowError (with a copy of rec); the Contact is then the zero value.
func MapRow(rowNum int, rec []string, m Mapping, d Defaults) (Contact, *RowError) {
	return mapRow(rowNum, rec, m, d, nil)
}

// mapRow is MapRow. When times is not nil, OptInAt points into *times, which
// must have room for one more element (the caller allocates it once per
// batch), instead of into a new allocation per row.
func mapRow(rowNum int, rec []string, m Mapping, d Defaults, times *[]time.Time) (Contact, *RowError) {
	c := Contact{Row: rowNum}
	fail := func(field, code, msg string) (Contact, *RowError) {
		return Contact{}, &RowError{Row: rowNum, Raw: append([]string(nil), rec...), Field: field, Code: code, Message: msg}
	}
	var phone, optinAt, source, language, tags string
	maxIndex := -1
	for i := range m.Columns {
		col := &m.Columns[i]
		maxIndex = max(maxIndex, col.Index)
		if col.Field == FieldIgnore || col.Index < 0 || col.Index >= len(rec) {
			continue
		}
		v := rec[col.Index]
		if v == "" {
			continue
		}
		switch col.Field {
		case FieldAttr:
			if v = cleanCell(v, true); v != "" {
				if c.Attrs == nil {
					c.Attrs = make(map[string]string)
				}
				c.Attrs[col.AttrKey] = v
			}
			continue
		}
		v = cleanCell(v, false)
		switch col.Field {
		case FieldPhone:
			phone = v
		case FieldName:
			c.Name = v
		case FieldFirstName:
			c.FirstName = v
		case FieldLastName:
			c.LastName = v
		case FieldEmail:
			c.Email = v
		case FieldTags:
			tags = v
		case FieldOptInAt:
			optinAt = v
		case FieldOptInSource:
			source = v
		case FieldLanguage:
			language = v
		}
	}
	for i := maxIndex + 1; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return fail("", CodeExtraColumns, fmt.Sprintf("the row has a value in column %s, beyond the last column of the header; a value probably contains the separator and needs quotes", ColumnLetter(i)))
		}
	}

	var buf [32]byte
	e164, typ, err := normalizePhoneType(phone, d.Region, buf[:0])
	if err != nil {
		pe := err.(*PhoneError)
		msg := pe.Error()
		if pe.Code == CodePhoneMissing {
			msg = "phone is empty"
		}
		return fail(FieldPhone, pe.Code, msg)
	}
	c.Phone = string(e164)
	c.Landline = landlineType(typ)

	for _, n := range []struct {
		field string
		v     string
	}{{FieldName, c.Name}, {FieldFirstName, c.FirstName}, {FieldLastName, c.LastName}} {
		if len(n.v) > MaxNameRunes && utf8.RuneCountInString(n.v) > MaxNameRunes {
			return fail(n.field, CodeNameTooLong, fmt.Sprintf("%s is longer than %d characters", fieldLabel(n.field), MaxNameRunes))
		}
	}
	if c.Name == "" {
		switch {
		case c.FirstName != "" && c.LastName != "":
			c.Name = c.FirstName + " " + c.LastName
		case c.FirstName != "":
			c.Name = c.FirstName
		default:
			c.Name = c.LastName
		}
	}

	if c.Email != "" {
		email, ok := normalizeEmail(c.Email)
		if !ok {
			return fail(FieldEmail, CodeEmailInvalid, fmt.Sprintf("email %q is not a valid e-mail address", c.Email))
		}
		c.Email = email
	}

	if tags != "" {
		var code, msg string
		if c.Tags, code, msg = splitTags(tags); code != "" {
			return fail(FieldTags, code, msg)
		}
	}

	if optinAt != "" {
		t, code, msg := ParseOptInDate(optinAt, d)
		if code != "" {
			return fail(FieldOptInAt, code, msg)
		}
		c.OptInAt = newTime(times, t)
	}
	if source != "" {
		if s, ok := NormalizeSource(source); ok {
			c.OptInSource = s
		} else {
			c.OptInSource, c.OptInSourceText = SourceOther, source
		}
	}
	if d.Consent != nil {
		if c.OptInAt == nil && !d.Consent.At.IsZero() {
			c.OptInAt, c.ConsentFromFile = newTime(times, d.Consent.At), true
		}
		if c.OptInSource == "" && d.Consent.Source != "" {
			if s, ok := NormalizeSource(d.Consent.Source); ok {
				c.OptInSource, c.ConsentFromFile = s, true
			} else {
				c.OptInSource, c.OptInSourceText, c.ConsentFromFile = SourceOther, d.Consent.Source, true
			}
		}
	}

	if language != "" {
		lang, ok := NormalizeLanguage(language)
		if !ok {
			return fail(FieldLanguage, CodeLanguageInvalid, fmt.Sprintf("language %q is not a language we know; use a code such as de or en, or a name such as Deutsch or English", language))
		}
		c.Language = lang
	}
	return c, nil
}

// newTime returns a pointer to a copy of t, stored in *times if not nil.
func newTime(times *[]time.Time, t time.Time) *time.Time {
	if times == nil {
		p := new(time.Time) // not &t, which would move t to the heap on every call
		*p = t
		return p
	}
	*times = append(*times, t)
	return &(*times)[len(*times)-1]
}

// cleanCell removes characters that must never be stored (see MapRow),
// trims spaces and undoes SafeCell's apostrophe. multiline keeps line breaks
// and tabs.
func cleanCell(s string, multiline bool) string {
	s = cleanText(s, multiline)
	if len(s) > 1 && s[0] == '\'' && needsNeutralising(s[1:]) {
		s = s[1:]
	}
	return s
}

// cleanText drops NUL and other control characters, U+FEFF and the
// bidirectional override and isolate characters, replaces invalid UTF-8 with
// U+FFFD, turns tabs and line breaks into spaces unless multiline, and trims
// spaces. Clean ASCII input is returned without copying.
func cleanText(s string, multiline bool) string {
	dirty := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			dirty = true
			break
		}
	}
	if !dirty {
		return trimSpaceASCII(s)
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		keep := true
		switch {
		case r == utf8.RuneError && size == 1:
			if !changed {
				b.Grow(len(s) + 2)
				b.WriteString(s[:i])
				changed = true
			}
			b.WriteRune(utf8.RuneError)
			i += size
			continue
		case r == '\t' || r == '\n' || r == '\r':
			if !multiline {
				if !changed {
					b.Grow(len(s))
					b.WriteString(s[:i])
					changed = true
				}
				if r != '\n' || i == 0 || s[i-1] != '\r' {
					b.WriteByte(' ')
				}
				i += size
				continue
			}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			keep = false
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
			keep = false
		}
		if !keep && !changed {
			b.Grow(len(s))
			b.WriteString(s[:i])
			changed = true
		}
		if keep && changed {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if changed {
		s = b.String()
	}
	return strings.TrimSpace(s)
}

func trimSpaceASCII(s string) string {
	if len(s) == 0 || (s[0] != ' ' && s[len(s)-1] != ' ') {
		return s
	}
	return strings.TrimSpace(s)
}

// normalizeEmail applies the loose e-mail check of MapRow.
func normalizeEmail(s string) (string, bool) {
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if len(s) > MaxEmailLen {
		return "", false
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '<', '>', '(', ')', ',', ';', ':', '"', '[', ']', '\\':
			return "", false
		default:
			if c < 0x20 || c == 0x7f {
				return "", false
			}
		}
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") ||
		domain[0] == '-' || domain[len(domain)-1] == '-' || s[0] == '.' || s[at-1] == '.' {
		return "", false
	}
	lower := domain
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c >= 'A' && c <= 'Z' {
			lower = strings.ToLower(domain)
			break
		}
	}
	if lower == domain {
		return s, true
	}
	return s[:at+1] + lower, true
}

// splitTags splits a tags cell (see MapRow).
func splitTags(s string) (tags []string, code, msg string) {
	maxParts := countTagSeps(s) + 1
	for len(s) > 0 {
		i := indexTagSep(s)
		part := s
		if i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(part) > MaxTagRunes && utf8.RuneCountInString(part) > MaxTagRunes {
			return nil, CodeTagTooLong, fmt.Sprintf("tag %q is longer than %d characters", truncateUTF8(part, 60)+"…", MaxTagRunes)
		}
		dup := false
		for _, t := range tags {
			if strings.EqualFold(t, part) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(tags) == MaxTags {
			return nil, CodeTooManyTags, fmt.Sprintf("the row has more than %d tags", MaxTags)
		}
		if tags == nil {
			// one allocation for all the tags instead of append's doubling
			tags = make([]string, 0, min(maxParts, MaxTags))
		}
		tags = append(tags, part)
	}
	return tags, "", ""
}

// indexTagSep is strings.IndexAny(s, ",;|") without IndexAny's set setup,
// which dominates for short cells.
func indexTagSep(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == ';' || c == '|' {
			return i
		}
	}
	return -1
}

func countTagSeps(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == ';' || c == '|' {
			n++
		}
	}
	return n
}
