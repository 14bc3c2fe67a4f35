package contactimport

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// ReportDelimiter is the report's separator: a semicolon when the upload
// used one (German Excel expects it), else a comma.
func ReportDelimiter(imp *models.Import) rune {
	if imp.Format.Delimiter == ';' {
		return ';'
	}
	return ','
}

// WriteReport writes the rejected rows of an import as a CSV file for
// spreadsheets: UTF-8 with a byte order mark, CRLF line ends, the columns
// row, field, reason and then the file's own columns with the row's
// values as read. Every cell goes through importer.SafeCell. The rows
// come from the database page by page, so a report of any length streams.
// A corrected report can be uploaded again as it is: the importer ignores
// the first three columns and the apostrophes.
func WriteReport(ctx context.Context, w io.Writer, tn models.Tenant, imp *models.Import) error {
	width, err := tn.ImportErrorWidth(ctx, imp.ID)
	if err != nil {
		return err
	}
	width = max(width, len(imp.Headers))
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = ReportDelimiter(imp)
	cw.UseCRLF = true
	rec := make([]string, 0, 3+width)
	rec = append(rec, "row", "field", "reason")
	for i := range width {
		h := ""
		if i < len(imp.Headers) {
			h = imp.Headers[i]
		}
		rec = append(rec, importer.SafeCell(h))
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	columns := fieldColumns(imp)
	var after int64
	for {
		page, err := tn.ImportRowErrors(ctx, imp.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range page {
			rec = rec[:0]
			field := e.Field
			if col, ok := columns[e.Field]; ok {
				field = col
			}
			rec = append(rec, strconv.FormatInt(e.Row, 10), importer.SafeCell(field), importer.SafeCell(e.Message))
			for i := range width {
				v := ""
				if i < len(e.Raw) {
					v = e.Raw[i]
				}
				rec = append(rec, importer.SafeCell(v))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
			after = e.Row
		}
		if len(page) < 1000 {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// fieldColumns names, per contact field, the file's column that held it:
// `Telefon (A)`.
func fieldColumns(imp *models.Import) map[string]string {
	out := map[string]string{}
	for _, c := range imp.Mapping.Columns {
		if c.Field == importer.FieldIgnore || c.Field == importer.FieldAttr {
			continue
		}
		name := c.Header
		if name == "" {
			name = c.Field
		}
		out[c.Field] = name + " (" + importer.ColumnLetter(c.Index) + ")"
	}
	return out
}
