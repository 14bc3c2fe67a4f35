package imports

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// The import job's side of imports: claiming, the per-batch checkpoint,
// the rejected rows and the end.

// StartRun marks a queued import running and returns it. An import
// already running (resumed after a restart or between the job's slices)
// is returned as it is, and so is a finished one: the caller stops.
func StartRun(ctx context.Context, t models.Tenant, id int64) (*Import, error) {
	if err := t.Check(); err != nil {
		return nil, models.Wrap("imports.StartRun", err)
	}
	now := t.DB().Now()
	if err := t.Scoped(ctx).Model(&Import{}).Where("id = ? AND status = ?", id, ImportQueued).
		Updates(map[string]any{"status": ImportRunning, "started_at": now, "progress_at": now, "updated_at": now}).Error; err != nil {
		return nil, models.Wrap("imports.StartRun", err)
	}
	return Get(ctx, t, id)
}

// ImportBatchDelta is what one committed batch adds to an import.
type ImportBatchDelta struct {
	RowsDone   int64 // the new checkpoint (importer.Batch.RowsDone)
	BytesDone  int64
	Imported   int64
	Updated    int64
	Skipped    int64
	Suppressed int64
	Failed     int64
	Duplicates int64
	Blank      int64
	// Repeats are the rows of the batch that repeated a number (a sample,
	// see MaxRepeatsPerBatch), listed on the result page.
	Repeats []contacts.Repeat
}

// RecordBatch stores a batch's rejected rows and moves the
// checkpoint from prevDone to d.RowsDone, adding the batch's counts, in
// one transaction. It returns the import's status, so the job sees a
// cancellation. When the checkpoint is no longer prevDone (another worker
// got there first) nothing changes and ErrConflict is returned. Rows are
// keyed by (import, row): a batch recorded twice cannot add a row twice.
func RecordBatch(ctx context.Context, t models.Tenant, id, prevDone int64, d ImportBatchDelta, errs []importer.RowError) (string, error) {
	if err := t.Check(); err != nil {
		return "", models.Wrap("imports.RecordBatch", err)
	}
	var status string
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		if err := insertRowErrors(t, tx, id, errs); err != nil {
			return err
		}
		if err := insertRepeats(t, tx, id, d.Repeats); err != nil {
			return err
		}
		now := t.DB().Now()
		res := tx.Exec(`UPDATE imports SET rows_done = ?, bytes_done = ?, imported = imported + ?, updated = updated + ?, skipped = skipped + ?,
			suppressed = suppressed + ?, failed = failed + ?, duplicates = duplicates + ?, blank = blank + ?, progress_at = ?, updated_at = ?
			WHERE id = ? AND business_id = ? AND rows_done = ?`,
			d.RowsDone, d.BytesDone, d.Imported, d.Updated, d.Skipped, d.Suppressed, d.Failed, d.Duplicates, d.Blank, now, now,
			id, t.BusinessID(), prevDone)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrConflict
		}
		return tx.Raw(`SELECT status FROM imports WHERE id = ? AND business_id = ?`, id, t.BusinessID()).Scan(&status).Error
	})
	return status, models.Wrap("imports.RecordBatch", err)
}

// maxRawBytes caps what one rejected row keeps of its cells.
const maxRawBytes = 32 << 10

func insertRowErrors(t models.Tenant, tx *gorm.DB, id int64, errs []importer.RowError) error {
	per := 400 // rows per statement: 8 parameters each
	if t.DB().Dialect == models.SQLite {
		per = models.SQLiteParams / 8 // see models.SQLiteParams
	}
	for start := 0; start < len(errs); start += per {
		part := errs[start:min(start+per, len(errs))]
		args := make([]any, 0, len(part)*8)
		for _, e := range part {
			raw := e.Raw
			if n := cellBytes(raw); n > maxRawBytes {
				raw = clipCells(raw, 200)
			}
			if raw == nil {
				raw = []string{}
			}
			args = append(args, t.BusinessID(), id, e.Row, models.CleanStored(e.Field), models.CleanStored(e.Code), models.Clip(models.CleanStored(e.Message), 1000), len(raw), models.JSONText(cleanCells(raw)))
		}
		q := `INSERT INTO import_row_errors (business_id, import_id, row_num, field, code, message, cells, raw) VALUES ` +
			models.Placeholders(len(part), 8) + ` ON CONFLICT DO NOTHING`
		if err := tx.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

func cellBytes(cells []string) int {
	n := 0
	for _, c := range cells {
		n += len(c)
	}
	return n
}

func clipCells(cells []string, n int) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = models.Clip(c, n)
	}
	return out
}

// cleanCells keeps cells storable: no NUL bytes, valid UTF-8.
func cleanCells(cells []string) []string {
	out, copied := cells, false
	for i, c := range cells {
		if strings.IndexByte(c, 0) >= 0 || !utf8.ValidString(c) {
			if !copied {
				out, copied = append([]string(nil), cells...), true
			}
			out[i] = strings.ToValidUTF8(strings.ReplaceAll(c, "\x00", ""), "\uFFFD")
		}
	}
	return out
}

// messageableOfImport counts the opted-in contacts an import wrote that do
// not look like landlines (args: business, import, ConsentOptedIn); stored
// once when the import finishes.
const messageableOfImport = `(SELECT COUNT(*) FROM contacts c WHERE c.business_id = ? AND c.import_id = ? AND c.consent_state = ? AND NOT c.landline)`

// landlinesOfImport counts the contacts an import wrote that look like
// landlines (args: business, import).
const landlinesOfImport = `(SELECT COUNT(*) FROM contacts c WHERE c.business_id = ? AND c.import_id = ? AND c.landline)`

func insertRepeats(t models.Tenant, tx *gorm.DB, id int64, reps []contacts.Repeat) error {
	per := 400 / 5
	for start := 0; start < len(reps); start += per {
		part := reps[start:min(start+per, len(reps))]
		args := make([]any, 0, len(part)*5)
		for _, r := range part {
			args = append(args, t.BusinessID(), id, r.Row, r.First, r.Phone)
		}
		if err := tx.Exec(`INSERT INTO import_repeats (business_id, import_id, row_num, first_row, phone) VALUES `+
			models.Placeholders(len(part), 5)+` ON CONFLICT DO NOTHING`, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// RepeatedNumber is a number that appeared on more than one row of an
// import's file.
type RepeatedNumber struct {
	Phone string
	Rows  []int64 // in file order, the first row first (when known)
}

// Repeats lists up to limit of the numbers an import found
// repeated, in the order they first appeared, and how many further
// repeated rows there are beyond those listed (from the import's
// Duplicates count, which covers rows not listed as well).
func Repeats(ctx context.Context, t models.Tenant, imp *Import, limit int) ([]RepeatedNumber, int64, error) {
	if err := t.Check(); err != nil {
		return nil, 0, models.Wrap("imports.Repeats", err)
	}
	var rows []struct {
		Phone    string
		RowNum   int64
		FirstRow int64
	}
	// The numbers first, then their rows: a number's rows may span
	// batches, so it is listed once with all of them.
	err := t.DB().WithContext(ctx).Raw(`SELECT r.phone, r.row_num, r.first_row FROM import_repeats r
		JOIN (SELECT phone, MIN(row_num) AS first_rep FROM import_repeats WHERE business_id = ? AND import_id = ?
			GROUP BY phone ORDER BY MIN(first_row), MIN(row_num) LIMIT ?) p ON p.phone = r.phone
		WHERE r.business_id = ? AND r.import_id = ? ORDER BY r.row_num`,
		t.BusinessID(), imp.ID, limit, t.BusinessID(), imp.ID).Scan(&rows).Error
	if err != nil {
		return nil, 0, models.Wrap("imports.Repeats", err)
	}
	byPhone := map[string]*RepeatedNumber{}
	var order []*RepeatedNumber
	listed := int64(0)
	for _, r := range rows {
		n := byPhone[r.Phone]
		if n == nil {
			n = &RepeatedNumber{Phone: r.Phone}
			if r.FirstRow > 0 {
				n.Rows = append(n.Rows, r.FirstRow)
			}
			byPhone[r.Phone] = n
			order = append(order, n)
		}
		if !slices.Contains(n.Rows, r.RowNum) {
			n.Rows = append(n.Rows, r.RowNum)
		}
		listed++
	}
	out := make([]RepeatedNumber, len(order))
	for i, n := range order {
		slices.Sort(n.Rows)
		out[i] = *n
	}
	slices.SortStableFunc(out, func(a, b RepeatedNumber) int { return int(a.Rows[0] - b.Rows[0]) })
	return out, max(0, imp.Duplicates-listed), nil
}

// Finish ends a queued or running import: done (the whole file was
// read; rows_total becomes the exact count) or failed with a message for
// the user. A cancelled import stays cancelled.
func Finish(ctx context.Context, t models.Tenant, id int64, status, message string) error {
	if status != ImportDone && status != ImportFailed {
		return errors.New("models: FinishImport takes done or failed")
	}
	now := t.DB().Now()
	upd := map[string]any{"status": status, "finished_at": now, "updated_at": now, "error": models.Clip(message, 2000)}
	if status == ImportDone {
		upd["rows_total"] = gorm.Expr("rows_done")
		upd["bytes_done"] = gorm.Expr("bytes_total")
		// One pass over the book's contacts of this import, once.
		upd["messageable"] = gorm.Expr(messageableOfImport, t.BusinessID(), id, contacts.ConsentOptedIn)
		upd["landlines"] = gorm.Expr(landlinesOfImport, t.BusinessID(), id)
	}
	return t.Scoped(ctx).Model(&Import{}).Where("id = ? AND status IN ?", id, []string{ImportQueued, ImportRunning}).Updates(upd).Error
}

// ImportRowError is one rejected row as stored.
type ImportRowError struct {
	Row     int64
	Field   string
	Code    string
	Message string
	Raw     []string
}

// RowErrors returns up to limit rejected rows after row number
// afterRow, in row order (keyset pages for a report of any length).
func RowErrors(ctx context.Context, t models.Tenant, id, afterRow int64, limit int) ([]ImportRowError, error) {
	if err := t.Check(); err != nil {
		return nil, models.Wrap("imports.RowErrors", err)
	}
	var rows []struct {
		RowNum  int64
		Field   string
		Code    string
		Message string
		Raw     string
	}
	err := t.DB().WithContext(ctx).Raw(`SELECT row_num, field, code, message, raw FROM import_row_errors
		WHERE business_id = ? AND import_id = ? AND row_num > ? ORDER BY row_num LIMIT ?`, t.BusinessID(), id, afterRow, limit).Scan(&rows).Error
	if err != nil {
		return nil, models.Wrap("imports.RowErrors", err)
	}
	out := make([]ImportRowError, len(rows))
	for i, r := range rows {
		out[i] = ImportRowError{Row: r.RowNum, Field: r.Field, Code: r.Code, Message: r.Message}
		if err := json.Unmarshal([]byte(r.Raw), &out[i].Raw); err != nil {
			return nil, models.Wrap("imports.RowErrors", err)
		}
	}
	return out, nil
}

// ErrorWidth is the largest number of cells a rejected row of the
// import kept (the report's width).
func ErrorWidth(ctx context.Context, t models.Tenant, id int64) (int, error) {
	if err := t.Check(); err != nil {
		return 0, models.Wrap("imports.ErrorWidth", err)
	}
	var n *int
	err := t.DB().WithContext(ctx).Raw(`SELECT MAX(cells) FROM import_row_errors WHERE business_id = ? AND import_id = ?`, t.BusinessID(), id).Scan(&n).Error
	if n == nil {
		return 0, models.Wrap("imports.ErrorWidth", err)
	}
	return *n, models.Wrap("imports.ErrorWidth", err)
}

// FixBatchSize records the batch size of an import that has none
// yet, before its first batch, and returns the size in force: every run
// of an import must cut the file into the same batches.
func FixBatchSize(ctx context.Context, t models.Tenant, imp *Import, size int) (int, error) {
	if imp.Settings.BatchSize > 0 {
		return imp.Settings.BatchSize, nil
	}
	s := imp.Settings
	s.BatchSize = size
	res := t.Scoped(ctx).Model(&Import{}).Where("id = ? AND rows_done = 0", imp.ID).Update("settings", models.JSONText(s))
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected == 0 { // already under way: use what is stored
		fresh, err := Get(ctx, t, imp.ID)
		if err != nil {
			return 0, models.Wrap("imports.FixBatchSize", err)
		}
		if fresh.Settings.BatchSize <= 0 {
			return 0, errors.New("models: import batch size not recorded")
		}
		return fresh.Settings.BatchSize, nil
	}
	imp.Settings = s
	return size, nil
}
