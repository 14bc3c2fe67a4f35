package contactimport

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// ReportDelimiter is the report's separator: a semicolon when the upload
// used one (German Excel expects it), else a comma.
func ReportDelimiter(imp *imports.Import) rune {
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
func WriteReport(ctx context.Context, w io.Writer, tn models.Tenant, imp *imports.Import) error {
	width, err := imports.ErrorWidth(ctx, tn, imp.ID)
	if err != nil {
		return models.Wrap("contactimport.WriteReport", err)
	}
	rep, err := importer.NewErrorReport(w, ReportDelimiter(imp), imp.Headers, width)
	if err != nil {
		return models.Wrap("contactimport.WriteReport", err)
	}
	columns := fieldColumns(imp)
	var after int64
	for {
		page, err := imports.RowErrors(ctx, tn, imp.ID, after, 1000)
		if err != nil {
			return models.Wrap("contactimport.WriteReport", err)
		}
		for _, e := range page {
			field := e.Field
			if col, ok := columns[e.Field]; ok {
				field = col
			}
			if err := rep.Write(e.Row, field, e.Message, e.Raw); err != nil {
				return models.Wrap("contactimport.WriteReport", err)
			}
			after = e.Row
		}
		if len(page) < 1000 {
			return rep.Close()
		}
	}
}

// maxRepeatsReport bounds the numbers the repeats report lists (the
// stored list is already capped per batch, see contacts.MaxRepeatsPerBatch).
const maxRepeatsReport = 1_000_000

// WriteRepeatsReport writes the numbers an import found repeated in its
// file as CSV, in the report's dialect (UTF-8 with a byte order mark, CRLF,
// ReportDelimiter): the number, the rows it was on (the first first) and
// what the import did with them; a last line counts the repeated rows not
// listed. Every cell goes through importer.SafeCell.
func WriteRepeatsReport(ctx context.Context, w io.Writer, tn models.Tenant, imp *imports.Import) error {
	reps, more, err := imports.Repeats(ctx, tn, imp, maxRepeatsReport)
	if err != nil {
		return models.Wrap("contactimport.WriteRepeatsReport", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return models.Wrap("contactimport.WriteRepeatsReport", err)
	}
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = ReportDelimiter(imp), true
	note := RepeatNote(imp.Policy)
	_ = cw.Write([]string{"number", "rows", "kept"})
	for _, r := range reps {
		rows := make([]string, len(r.Rows))
		for i, n := range r.Rows {
			rows[i] = strconv.FormatInt(n, 10)
		}
		_ = cw.Write([]string{importer.SafeCell(r.Phone), strings.Join(rows, ", "), note})
	}
	if more > 0 {
		_ = cw.Write([]string{"", "", strconv.FormatInt(more, 10) + " more repeated rows are not listed"})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return models.Wrap("contactimport.WriteRepeatsReport", err)
	}
	return bw.Flush()
}

// RepeatNote says, in the report's English, what an import with policy did
// with the rows of a repeated number.
func RepeatNote(policy contacts.DuplicatePolicy) string {
	if policy == contacts.DuplicateSkip {
		return "the first row; the later rows were left out"
	}
	return "one contact: the later rows' non-empty values, the tags of all rows"
}

// fieldColumns names, per contact field, the file's column that held it:
// `Telefon (A)`.
func fieldColumns(imp *imports.Import) map[string]string {
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
