package contacts

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

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
	if t.DB().Dialect == models.Postgres {
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
