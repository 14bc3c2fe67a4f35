package models

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/optline/optline/importer"
)

// ExportSpec says what to export: a segment's members when SegmentID is
// set, else the contacts matching Filter.
type ExportSpec struct {
	Filter    ContactFilter
	SegmentID int64
	// Semicolon separates cells with ";" as German Excel expects.
	Semicolon bool
}

// exportColumns are the fixed columns, named so the importer maps them
// back when the file is imported again.
var exportColumns = []string{"phone", "name", "first_name", "last_name", "email", "language", "tags",
	"consent", "optin_at", "optin_source", "opted_out_at", "created_at"}

// maxExportAttrs caps the attribute columns of an export.
const maxExportAttrs = 100

// ExportContacts streams the contacts as CSV for spreadsheets: UTF-8 with
// a byte order mark, CRLF line ends, one column per custom attribute, and
// every cell passed through importer.SafeCell so that a value such as
// =HYPERLINK(...) is shown as text, never run as a formula. It returns the
// number of contacts written.
func (t Tenant) ExportContacts(ctx context.Context, w io.Writer, spec ExportSpec) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	f := spec.Filter
	if spec.SegmentID > 0 {
		seg, err := t.SegmentByID(ctx, spec.SegmentID)
		if err != nil {
			return 0, err
		}
		rule := seg.Rule()
		f = ContactFilter{Segment: &rule}
	}
	cond, args, err := t.where(ctx, f)
	if err != nil {
		return 0, err
	}
	keys, err := t.attrKeys(ctx, cond, args)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if spec.Semicolon {
		cw.Comma = ';'
	}
	rec := make([]string, 0, len(exportColumns)+len(keys))
	rec = append(rec, exportColumns...)
	for _, k := range keys {
		rec = append(rec, importer.SafeCell(k))
	}
	if err := cw.Write(rec); err != nil {
		return 0, err
	}
	var n, after int64
	for {
		var rows []Contact
		if err := t.db.WithContext(ctx).Table("contacts AS c").Select("c.*").Where(cond, args...).Where("c.id > ?", after).
			Order("c.id").Limit(1000).Find(&rows).Error; err != nil {
			return n, err
		}
		if len(rows) == 0 {
			break
		}
		ids := make([]int64, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		tags, err := t.tagsOf(ctx, ids)
		if err != nil {
			return n, err
		}
		for i := range rows {
			c := &rows[i]
			rec = rec[:0]
			rec = append(rec, c.Phone, c.Name, c.FirstName, c.LastName, c.Email, c.Language, strings.Join(tags[c.ID], ", "),
				c.ConsentState, isoTime(c.OptedInAt), c.OptInSource, isoTime(c.OptedOutAt), isoTime(&c.CreatedAt))
			for _, k := range keys {
				rec = append(rec, c.Attrs[k])
			}
			for j := range rec {
				rec[j] = importer.SafeCell(rec[j])
			}
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		after = rows[len(rows)-1].ID
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

func isoTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// attrKeys lists the attribute keys used by the filter's contacts, sorted.
// Reading keys out of JSON differs between the databases.
func (t Tenant) attrKeys(ctx context.Context, cond string, args []any) ([]string, error) {
	q := `SELECT DISTINCT j.key FROM contacts c, json_each(c.attrs) AS j WHERE ` + cond + ` ORDER BY j.key LIMIT ?`
	if t.db.Dialect == Postgres {
		q = `SELECT DISTINCT k FROM contacts c, jsonb_object_keys(c.attrs) AS k WHERE ` + cond + ` ORDER BY k LIMIT ?`
	}
	var keys []string
	err := t.db.WithContext(ctx).Raw(q, append(slices.Clip(args), maxExportAttrs)...).Scan(&keys).Error
	return keys, err
}
