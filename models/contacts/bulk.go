package contacts

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// DuplicatePolicy says what an import does with a number it already has:
// in the contact book, earlier in the same file, or in an earlier batch of
// the same import.
type DuplicatePolicy string

// Duplicate policies.
const (
	DuplicateUpdate DuplicatePolicy = "update" // fill in the row's non-empty fields, merge tags and attributes
	DuplicateSkip   DuplicatePolicy = "skip"   // leave the contact as it is
)

// MaxImportBatch is the most rows ApplyImportBatch takes at once.
const MaxImportBatch = 20000

// BatchResult counts what one batch did. Every valid row is counted
// exactly once in Imported, Updated, Skipped or Suppressed; rows refused
// are in RowErrors.
type BatchResult struct {
	// Imported rows created a contact.
	Imported int `json:"imported"`
	// Updated rows changed an existing contact (policy update), including
	// later copies of a number that appears more than once.
	Updated int `json:"updated"`
	// Skipped rows left an existing contact alone (policy skip); later
	// copies of a number of this import count as Duplicates instead.
	Skipped int `json:"skipped"`
	// Suppressed rows belong to someone who opted out and stays opted out:
	// the row carried no consent dated after the opt-out. The contact is
	// stored or updated (per policy) but not messageable.
	Suppressed int `json:"suppressed"`
	// Duplicates is how many rows repeated a number seen earlier in this
	// import (same batch or an earlier one). The repeat is merged into
	// that contact and counted here only, not also as updated or skipped.
	Duplicates int `json:"duplicates"`
	// Repeats lists rows that repeated a number seen earlier in this
	// import, with the row it was first seen on (at most
	// MaxRepeatsPerBatch of them; Duplicates counts them all).
	Repeats []Repeat `json:"repeats,omitempty"`
	// RowErrors lists rows refused by the storage rules (number not in
	// E.164 form, text too long...). The importer's own checks normally
	// catch these first.
	RowErrors []importer.RowError `json:"row_errors,omitempty"`
	// Replayed is true when this batch had been applied before (same
	// import and first row number, e.g. after a restart) and the stored
	// result was returned without changing anything.
	Replayed bool `json:"-"`
}

// Repeat is one row that repeated a number seen earlier in the import.
type Repeat struct {
	Phone string `json:"phone"`
	Row   int    `json:"row"`
	// First is the row the number was first seen on; 0 when not known (a
	// contact written by this import before schema 9).
	First int `json:"first"`
}

// MaxRepeatsPerBatch bounds the repeated rows one batch lists; a file of
// nothing but repeats should not double the import's writes.
const MaxRepeatsPerBatch = 500

// Rows is the number of rows the result accounts for.
func (r BatchResult) Rows() int {
	return r.Imported + r.Updated + r.Skipped + r.Suppressed + len(r.RowErrors)
}

// stagedContact is one number of a batch after validation and the merge
// of its repeats.
type stagedContact struct {
	phone, hash        string
	name, first, last  string
	email, lang        string
	attrs              map[string]string
	tags               []string
	inAt               *time.Time // set only when the row carries full consent
	source, sourceText string
	dups               int   // later rows with the same number folded into this one
	row                int   // the file row of the first occurrence in the batch
	dupRows            []int // the rows of the first MaxRepeatsPerBatch repeats
	landline           bool
	search, attrsJSON  string
}

// ApplyImportBatch stores one batch of imported contacts in one
// transaction: on PostgreSQL with COPY and set-based statements (see
// contacts_bulk_pg.go), on SQLite with multi-row upserts. Both read the
// batch's stored contacts and suppressions, then apply the same rules
// (plan and decideConsent):
//
//   - A number repeated in the batch, or already stored, follows policy:
//     update fills in the row's non-empty fields (later rows win), merges
//     tags and attributes; skip leaves the contact alone. A contact last
//     written by this import counts as a duplicate.
//   - Consent is never downgraded. A row with consent (OptInAt and
//     OptInSource) makes a new or not-yet-consenting contact opted in and
//     writes an opt_in consent event recorded by actor.
//   - Someone who opted out (contact opted out, or a suppression of the
//     number) stays opted out unless the row's OptInAt is strictly after
//     the opt-out; then they are opted in again, the suppression is lifted
//     and the event written.
//   - Rows without consent make contacts that are not messageable.
//
// With importID > 0 and rows[0].Row > 0, a ledger row keyed by (importID,
// rows[0].Row) makes the call idempotent: applying the same batch again
// returns the first result with Replayed set. actor defaults to
// "import:<importID>". Batches of one import may be applied concurrently
// on PostgreSQL (stored contacts are locked in number order; a batch that
// meets a number inserted meanwhile is retried once).
func ApplyImportBatch(ctx context.Context, t models.Tenant, importID int64, rows []importer.Contact, policy DuplicatePolicy, actor string) (BatchResult, error) {
	return ApplyImportBatchWith(ctx, t, importID, rows, policy, actor, ImportBatchOptions{})
}

// ImportBatchOptions tune ApplyImportBatchWith.
type ImportBatchOptions struct {
	// After, on PostgreSQL, is the previous batch of the same import while
	// it is still being applied on another connection; see
	// contacts_bulk_pg.go. The caller must not start a batch before the
	// one two places earlier has committed. Ignored on SQLite.
	After *PendingBatch
	// Fresh, on PostgreSQL, is the record of an import into a book that
	// had no contacts when the import began (NewFreshBook). Ignored on
	// SQLite.
	Fresh *FreshBook
}

// FreshBook lets the batches of one import into a book that was empty
// when it began skip looking up numbers they cannot find: only a number
// this import has already written can be in the book, unless someone
// else writes to it meanwhile. Then contacts_phone_key refuses the
// batch's COPY, the batch is applied again with every number looked up,
// and the record is switched off for the rest of the import. A lookup
// costs a third of a new contact's database time, and the first import
// into a new book is the largest it will see. Safe for concurrent use by
// the batches of one import; a restarted import, which has lost the
// record, simply looks everything up.
type FreshBook struct {
	mu   sync.Mutex
	off  bool
	seen map[uint64]struct{} // E.164 numbers written, digits as a number
}

// NewFreshBook starts the record of an import into an empty book.
func NewFreshBook() *FreshBook { return &FreshBook{seen: map[uint64]struct{}{}} }

// e164Key is the number's digits as an integer (E.164 has at most 15
// digits and none starts with 0, so different numbers never share a key).
func e164Key(phone string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(phone, "+"), 10, 64)
	return n, err == nil
}

// needsLookup reports whether phone may be stored already.
func (f *FreshBook) needsLookup(phone string) bool {
	k, ok := e164Key(phone)
	if !ok {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, seen := f.seen[k]
	return seen || f.off
}

// wrote records numbers a committed batch stored.
func (f *FreshBook) wrote(phones []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return
	}
	for _, p := range phones {
		if k, ok := e164Key(p); ok {
			f.seen[k] = struct{}{}
		}
	}
}

// stop switches the record off: someone else writes to the book.
func (f *FreshBook) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.off, f.seen = true, nil
}

// PendingBatch is a batch being applied concurrently.
type PendingBatch struct {
	// Phones are the numbers of its rows (importer.Contact.Phone).
	Phones map[string]struct{}
	// Wait returns once it has committed, or its error if it failed (then
	// this batch fails too and nothing of it is kept).
	Wait func(context.Context) error
}

// ApplyImportBatchWith is ApplyImportBatch with options.
func ApplyImportBatchWith(ctx context.Context, t models.Tenant, importID int64, rows []importer.Contact, policy DuplicatePolicy, actor string, opt ImportBatchOptions) (BatchResult, error) {
	var res BatchResult
	if err := t.Check(); err != nil {
		return res, models.Wrap("contacts.ApplyImportBatchWith", err)
	}
	if policy != DuplicateUpdate && policy != DuplicateSkip {
		return res, fmt.Errorf("models: unknown duplicate policy %q", policy)
	}
	if len(rows) > MaxImportBatch {
		return res, fmt.Errorf("models: import batch of %d rows is over the limit of %d", len(rows), MaxImportBatch)
	}
	if actor == "" {
		actor = "import:" + models.Itoa(importID)
	}
	staged := stageRows(rows, policy, &res)
	firstRow := 0
	if len(rows) > 0 && importID > 0 {
		firstRow = rows[0].Row
	}
	if len(staged) == 0 && firstRow <= 0 {
		return res, nil
	}
	b := importBatch{t: t, importID: importID, firstRow: firstRow, staged: staged, skip: policy == DuplicateSkip, actor: actor, now: t.DB().Now(), after: opt.After, fresh: opt.Fresh}
	var err error
	if t.DB().Pool != nil {
		err = b.applyPG(ctx, &res)
	} else {
		err = b.applySQLite(ctx, &res)
	}
	if err != nil {
		return BatchResult{}, fmt.Errorf("apply import batch: %w", err)
	}
	tagsChanged(t)
	return res, nil
}

// importBatch is one ApplyImportBatch call on its way to the database.
type importBatch struct {
	t        models.Tenant
	importID int64
	firstRow int
	staged   []*stagedContact
	skip     bool
	actor    string
	now      time.Time
	after    *PendingBatch
	fresh    *FreshBook
	// written collects the numbers stored by this batch, for fresh.
	written []string
}

// finish counts the repeats folded into a staged row: as repeats only.
func (b *importBatch) finish(res *BatchResult) {
	for _, s := range b.staged {
		res.Duplicates += s.dups
	}
}

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
