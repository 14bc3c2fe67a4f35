package contactimport

import (
	"context"
	"io"

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
	rep, err := importer.NewErrorReport(w, ReportDelimiter(imp), imp.Headers, width)
	if err != nil {
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
			field := e.Field
			if col, ok := columns[e.Field]; ok {
				field = col
			}
			if err := rep.Write(e.Row, field, e.Message, e.Raw); err != nil {
				return err
			}
			after = e.Row
		}
		if len(page) < 1000 {
			return rep.Close()
		}
	}
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
