package contacts

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// ExportSpec says what to export: a segment's members when SegmentID is
// set, else the contacts matching Filter.
type ExportSpec struct {
	Filter    ContactFilter
	SegmentID int64
	// Semicolon separates cells with ";" as German Excel expects.
	Semicolon bool
	// XLSX writes an Excel workbook instead of CSV: every cell is a text
	// cell, so nothing needs the CSV's leading apostrophe (no formula is
	// ever evaluated, numbers keep their "+" and leading zeros).
	XLSX bool
}

// exportSink is where an export's rows go: a CSV or an XLSX writer.
type exportSink interface {
	row(cells []string) error
	close() error
}

// csvSink writes CSV for spreadsheets: UTF-8 with a byte order mark, CRLF
// line ends, every cell passed through importer.SafeCell.
type csvSink struct {
	bw *bufio.Writer
	cw *csv.Writer
}

func newCSVSink(w io.Writer, semicolon bool) (*csvSink, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if semicolon {
		cw.Comma = ';'
	}
	return &csvSink{bw: bw, cw: cw}, nil
}

func (s *csvSink) row(cells []string) error {
	for j := range cells {
		cells[j] = importer.SafeCell(cells[j])
	}
	return s.cw.Write(cells)
}

func (s *csvSink) close() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}

// xlsxSink writes one worksheet of text cells (excelize's stream writer,
// which spills to a temporary file for large exports); the workbook is
// written to w when the export ends.
type xlsxSink struct {
	w  io.Writer
	f  *excelize.File
	sw *excelize.StreamWriter
	n  int
	// vals is the row handed to the stream writer, reused.
	vals []any
}

func newXLSXSink(w io.Writer) (*xlsxSink, error) {
	f := excelize.NewFile()
	const sheet = "Contacts"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	return &xlsxSink{w: w, f: f, sw: sw}, nil
}

func (s *xlsxSink) row(cells []string) error {
	s.n++
	s.vals = s.vals[:0]
	for _, c := range cells {
		s.vals = append(s.vals, excelize.Cell{Value: models.Clip(c, xlsxMaxCell)})
	}
	cell, err := excelize.CoordinatesToCellName(1, s.n)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, s.vals)
}

func (s *xlsxSink) close() error {
	defer s.f.Close()
	if err := s.sw.Flush(); err != nil {
		return err
	}
	return s.f.Write(s.w)
}

// xlsxMaxCell is the most characters Excel keeps in a cell.
const xlsxMaxCell = 32767

// exportColumns are the fixed columns, named so the importer maps them
// back when the file is imported again.
var exportColumns = []string{"phone", "name", "first_name", "last_name", "email", "language", "tags",
	"consent", "optin_at", "optin_source", "opted_out_at", "created_at"}

// maxExportAttrs caps the attribute columns of an export.
const maxExportAttrs = 100

// Export streams the contacts as CSV (csvSink) or XLSX
// (xlsxSink), one column per custom attribute: in CSV every cell passes
// through importer.SafeCell so that a value such as =HYPERLINK(...) is
// shown as text, never run as a formula; in XLSX every cell is text. It
// returns the number of contacts written.
func Export(ctx context.Context, t models.Tenant, w io.Writer, spec ExportSpec) (int64, error) {
	if err := t.Check(); err != nil {
		return 0, models.Wrap("contacts.Export", err)
	}
	f := spec.Filter
	if spec.SegmentID > 0 {
		seg, err := SegmentByID(ctx, t, spec.SegmentID)
		if err != nil {
			return 0, models.Wrap("contacts.Export", err)
		}
		rule := seg.Rule()
		f = ContactFilter{Segment: &rule}
	}
	cond, args, err := where(ctx, t, f)
	if err != nil {
		return 0, models.Wrap("contacts.Export", err)
	}
	keys, err := attrKeys(ctx, t, cond, args)
	if err != nil {
		return 0, models.Wrap("contacts.Export", err)
	}
	var sink exportSink
	if spec.XLSX {
		sink, err = newXLSXSink(w)
	} else {
		sink, err = newCSVSink(w, spec.Semicolon)
	}
	if err != nil {
		return 0, models.Wrap("contacts.Export", err)
	}
	rec := make([]string, 0, len(exportColumns)+len(keys))
	rec = append(rec, exportColumns...)
	rec = append(rec, keys...)
	if err := sink.row(rec); err != nil {
		return 0, models.Wrap("contacts.Export", err)
	}
	var n, after int64
	for {
		var rows []Contact
		if err := t.DB().WithContext(ctx).Table("contacts AS c").Select("c.*").Where(cond, args...).Where("c.id > ?", after).
			Order("c.id").Limit(1000).Find(&rows).Error; err != nil {
			return n, models.Wrap("contacts.Export", err)
		}
		if len(rows) == 0 {
			break
		}
		ids := make([]int64, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		tags, err := tagsOf(ctx, t, ids)
		if err != nil {
			return n, models.Wrap("contacts.Export", err)
		}
		for i := range rows {
			c := &rows[i]
			rec = rec[:0]
			rec = append(rec, c.Phone, c.Name, c.FirstName, c.LastName, c.Email, c.Language, strings.Join(tags[c.ID], ", "),
				c.ConsentState, isoTime(c.OptedInAt), c.OptInSource, isoTime(c.OptedOutAt), isoTime(&c.CreatedAt))
			for _, k := range keys {
				rec = append(rec, c.Attrs[k])
			}
			if err := sink.row(rec); err != nil {
				return n, models.Wrap("contacts.Export", err)
			}
			n++
		}
		after = rows[len(rows)-1].ID
		if err := ctx.Err(); err != nil {
			return n, models.Wrap("contacts.Export", err)
		}
	}
	return n, sink.close()
}

func isoTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// attrKeys lists the attribute keys used by the filter's contacts, sorted.
// Reading keys out of JSON differs between the databases.
func attrKeys(ctx context.Context, t models.Tenant, cond string, args []any) ([]string, error) {
	q := `SELECT DISTINCT j.key FROM contacts c, json_each(c.attrs) AS j WHERE ` + cond + ` ORDER BY j.key LIMIT ?`
	if t.DB().Dialect == models.Postgres {
		q = `SELECT DISTINCT k FROM contacts c, jsonb_object_keys(c.attrs) AS k WHERE ` + cond + ` ORDER BY k LIMIT ?`
	}
	var keys []string
	err := t.DB().WithContext(ctx).Raw(q, append(slices.Clip(args), maxExportAttrs)...).Scan(&keys).Error
	return keys, err
}
