package importer

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// SafeCell neutralises spreadsheet formula injection (OWASP "CSV
// injection"): a cell whose first character other than spaces is =, +, -,
// @, a tab or a carriage return (or their full-width forms ＝ ＋ － ＠) gets a
// leading apostrophe, so Excel, LibreOffice and Google Sheets show it as text
// instead of evaluating it. A cell starting with a tab or carriage return is
// prefixed too.
//
// This deliberately also marks harmless values such as "-2" or an E.164
// phone number "+4915123456789": a spreadsheet would otherwise turn them
// into numbers or formulas. MapRow drops such an apostrophe again, so a
// corrected error report can be uploaded as is.
func SafeCell(s string) string {
	if needsNeutralising(s) {
		return "'" + s
	}
	return s
}

func needsNeutralising(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
			return true
		}
		if !unicode.IsSpace(r) {
			return false
		}
		i += size
	}
	return false
}

// WriteErrorReport writes rejected rows as a comma-separated CSV file for
// Excel: UTF-8 with a byte order mark, CRLF line ends, the columns row,
// field, reason and then the file's own columns with each row's values as
// read. Every cell goes through SafeCell. Rows longer than the header keep
// their extra values in unnamed columns.
func WriteErrorReport(w io.Writer, headers []string, errs []RowError) error {
	return WriteErrorReportFormat(w, ',', headers, errs)
}

// WriteErrorReportFormat is WriteErrorReport with another delimiter; pass
// the uploaded file's delimiter so the report opens the same way the file
// did (German Excel expects semicolons).
func WriteErrorReportFormat(w io.Writer, delimiter rune, headers []string, errs []RowError) error {
	width := 0
	for _, e := range errs {
		width = max(width, len(e.Raw))
	}
	rep, err := NewErrorReport(w, delimiter, headers, width)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if err := rep.Write(int64(e.Row), e.Field, e.Message, e.Raw); err != nil {
			return err
		}
	}
	return rep.Close()
}

// ErrorReport writes an error report (see WriteErrorReport) a row at a
// time, for reports too long to hold in memory.
type ErrorReport struct {
	bw    *bufio.Writer
	cw    *csv.Writer
	width int
	rec   []string
}

// NewErrorReport writes the byte order mark and the header row (row,
// field, reason, then headers, padded to width columns) and returns the
// writer for the rows.
func NewErrorReport(w io.Writer, delimiter rune, headers []string, width int) (*ErrorReport, error) {
	r := &ErrorReport{bw: bufio.NewWriterSize(w, 64<<10), width: max(width, len(headers))}
	if _, err := r.bw.Write(bomUTF8); err != nil {
		return nil, err
	}
	r.cw = csv.NewWriter(r.bw)
	r.cw.Comma = delimiter
	r.cw.UseCRLF = true
	if err := r.write("row", "field", "reason", headers); err != nil {
		return nil, err
	}
	return r, nil
}

// Write adds one rejected row: its number, the field at fault, the reason
// and the row's cells as read.
func (r *ErrorReport) Write(row int64, field, reason string, raw []string) error {
	return r.write(strconv.FormatInt(row, 10), field, reason, raw)
}

func (r *ErrorReport) write(row, field, reason string, cells []string) error {
	r.rec = append(r.rec[:0], row, SafeCell(field), SafeCell(reason))
	for i := range r.width {
		v := ""
		if i < len(cells) {
			v = cells[i]
		}
		r.rec = append(r.rec, SafeCell(v))
	}
	return r.cw.Write(r.rec)
}

// Close writes out what is buffered; the report is complete after it.
func (r *ErrorReport) Close() error {
	r.cw.Flush()
	if err := r.cw.Error(); err != nil {
		return err
	}
	return r.bw.Flush()
}
