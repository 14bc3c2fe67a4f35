package contacts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// The rules a batch follows row by row, on both databases: staging the
// rows (repeats inside the batch merged), and the consent decision
// against the stored contact and its suppression.

// stageRows validates rows and folds repeats of a number into its first
// occurrence (policy update: later non-empty fields win, tags and
// attributes merge, the latest consent wins; policy skip: later copies are
// only counted).
func stageRows(rows []importer.Contact, policy DuplicatePolicy, res *BatchResult) []*stagedContact {
	byPhone := make(map[string]*stagedContact, len(rows))
	out := make([]*stagedContact, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		s, rerr := stageRow(r)
		if rerr != nil {
			res.RowErrors = append(res.RowErrors, *rerr)
			continue
		}
		first, seen := byPhone[s.phone]
		if !seen {
			byPhone[s.phone] = s
			out = append(out, s)
			continue
		}
		first.dups++
		if len(first.dupRows) < MaxRepeatsPerBatch {
			first.dupRows = append(first.dupRows, s.row)
		}
		if policy == DuplicateSkip {
			continue
		}
		first.merge(s)
	}
	for _, s := range out {
		s.finalize()
	}
	return out
}

func (s *stagedContact) merge(o *stagedContact) {
	if o.name != "" {
		s.name = o.name
	}
	if o.first != "" {
		s.first = o.first
	}
	if o.last != "" {
		s.last = o.last
	}
	if o.email != "" {
		s.email = o.email
	}
	if o.lang != "" {
		s.lang = o.lang
	}
	if len(o.attrs) > 0 {
		if s.attrs == nil {
			s.attrs = map[string]string{}
		}
		maps.Copy(s.attrs, o.attrs)
	}
	for _, tag := range o.tags {
		if !slices.Contains(s.tags, tag) {
			s.tags = append(s.tags, tag)
		}
	}
	if o.inAt != nil && (s.inAt == nil || !o.inAt.Before(*s.inAt)) {
		s.inAt, s.source, s.sourceText = o.inAt, o.source, o.sourceText
	}
}

// finalize computes the derived columns once the row is merged.
func (s *stagedContact) finalize() {
	s.search = models.SearchText(s.name, s.email, s.phone)
	s.attrsJSON, _ = jsonAttrs(s.attrs)
	slices.Sort(s.tags)
}

// stageRow checks one row against the storage rules. The importer has
// normally cleaned the row already; this keeps bad bytes (NUL, invalid
// UTF-8) out of the database whatever the caller sends.
func stageRow(r *importer.Contact) (*stagedContact, *importer.RowError) {
	fail := func(field, code, msg string) (*stagedContact, *importer.RowError) {
		return nil, &importer.RowError{Row: r.Row, Field: field, Code: code, Message: msg}
	}
	if !ValidE164(r.Phone) {
		return fail(importer.FieldPhone, importer.CodePhoneInvalid, fmt.Sprintf("phone %q is not a number in international form (+49…)", models.Clip(r.Phone, 40)))
	}
	s := &stagedContact{phone: r.Phone, hash: PhoneHash(r.Phone), row: r.Row, landline: r.Landline,
		name: models.CleanStored(r.Name), first: models.CleanStored(r.FirstName), last: models.CleanStored(r.LastName),
		email: models.CleanStored(r.Email), lang: strings.ToLower(models.CleanStored(r.Language))}
	for _, n := range []struct{ field, v string }{{importer.FieldName, s.name}, {importer.FieldFirstName, s.first}, {importer.FieldLastName, s.last}} {
		if utf8.RuneCountInString(n.v) > maxContactName {
			return fail(n.field, importer.CodeNameTooLong, fmt.Sprintf("%s is longer than %d characters", strings.ReplaceAll(n.field, "_", " "), maxContactName))
		}
	}
	if s.name == "" {
		s.name = strings.TrimSpace(s.first + " " + s.last)
	}
	if len(s.email) > importer.MaxEmailLen || (s.email != "" && !strings.Contains(s.email, "@")) {
		return fail(importer.FieldEmail, importer.CodeEmailInvalid, fmt.Sprintf("email %q is not a valid e-mail address", models.Clip(s.email, 60)))
	}
	if len(s.lang) > 8 {
		return fail(importer.FieldLanguage, importer.CodeLanguageInvalid, fmt.Sprintf("language %q is not a language code", models.Clip(s.lang, 20)))
	}
	for _, raw := range r.Tags {
		tag := NormalizeTag(models.CleanStored(raw))
		if tag == "" || slices.Contains(s.tags, tag) {
			continue
		}
		if utf8.RuneCountInString(tag) > maxTagRunes {
			return fail(importer.FieldTags, importer.CodeTagTooLong, fmt.Sprintf("tag %q is longer than %d characters", models.Clip(tag, 60), maxTagRunes))
		}
		if len(s.tags) == maxContactTags {
			return fail(importer.FieldTags, importer.CodeTooManyTags, fmt.Sprintf("the row has more than %d tags", maxContactTags))
		}
		s.tags = append(s.tags, tag)
	}
	if len(r.Attrs) > 0 {
		if len(r.Attrs) > maxAttrKeys {
			return fail("", "too_many_attributes", fmt.Sprintf("the row has more than %d custom attributes", maxAttrKeys))
		}
		s.attrs = make(map[string]string, len(r.Attrs))
		for k, v := range r.Attrs {
			k, v = models.CleanStored(k), strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", ""), "\uFFFD")
			if k == "" || v == "" {
				continue
			}
			if len(v) > maxAttrValueLen {
				return fail("", "attribute_too_long", fmt.Sprintf("attribute %q is longer than %d bytes", models.Clip(k, 40), maxAttrValueLen))
			}
			s.attrs[k] = v
		}
	}
	if r.HasConsent() {
		at := r.OptInAt.UTC()
		s.inAt = &at
		s.source = r.OptInSource
		if !slices.Contains(OptInSources, s.source) {
			s.source, s.sourceText = importer.SourceOther, r.OptInSource
		}
		if r.OptInSourceText != "" {
			s.sourceText = models.CleanStored(r.OptInSourceText)
		}
		if r.ConsentFromFile && s.sourceText == "" {
			s.sourceText = "declared for the whole file"
		}
		s.sourceText = models.Clip(s.sourceText, 500)
	}
	return s, nil
}

// priorContact is what the rules need of a stored contact.
type priorContact struct {
	ID           int64
	Phone        string
	ConsentState string
	OptedInAt    *time.Time
	OptInSource  string
	OptedOutAt   *time.Time
	ImportID     *int64
	ImportRow    *int64
	Name         string
	FirstName    string
	LastName     string
	Email        string
	Language     string
	Attrs        Attrs
}

// consentOutcome is the consent part of a decision.
type consentOutcome struct {
	state  string
	inAt   *time.Time
	source string
	outAt  *time.Time
	event  bool // write an opt_in event dated inAt
	lift   bool // delete the number's suppression
}

// decideConsent applies the consent rules to one row, given the stored
// contact (nil when new) and the number's suppression time (nil when
// none). It is the one statement of the rules for both databases; the
// tests run both write paths on the same fixtures and compare the books.
func decideConsent(p *priorContact, supp *time.Time, s *stagedContact) consentOutcome {
	// Consent not newer than a suppression does not count at all.
	eff := s.inAt
	if eff != nil && supp != nil && !eff.After(*supp) {
		eff = nil
	}
	var o consentOutcome
	if p == nil {
		switch {
		case eff != nil:
			o = consentOutcome{state: ConsentOptedIn, inAt: eff, source: s.source, outAt: supp}
		case supp != nil:
			o = consentOutcome{state: ConsentOptedOut, outAt: supp}
		default:
			o = consentOutcome{state: ConsentNone}
		}
	} else {
		blocked := p.ConsentState == ConsentOptedOut || supp != nil
		var out *time.Time
		if p.ConsentState == ConsentOptedOut {
			out = p.OptedOutAt
		}
		if supp != nil && (out == nil || supp.After(*out)) {
			out = supp
		}
		reopt := blocked && eff != nil && out != nil && eff.After(*out)
		changes := reopt || (!blocked && p.ConsentState != ConsentOptedIn && eff != nil)
		o = consentOutcome{inAt: p.OptedInAt, source: p.OptInSource, outAt: p.OptedOutAt}
		switch {
		case blocked && reopt:
			o.state = ConsentOptedIn
		case blocked:
			o.state = ConsentOptedOut
		case p.ConsentState == ConsentOptedIn || eff != nil:
			o.state = ConsentOptedIn
		default:
			o.state = ConsentNone
		}
		if changes {
			o.inAt, o.source = eff, s.source
		}
		if blocked {
			o.outAt = out
		}
	}
	o.event = o.state == ConsentOptedIn && (p == nil || p.ConsentState != ConsentOptedIn || !sameTime(o.inAt, p.OptedInAt))
	o.lift = o.state == ConsentOptedIn && supp != nil
	return o
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
