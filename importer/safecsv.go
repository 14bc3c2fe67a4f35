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
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(bomUTF8); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = delimiter
	cw.UseCRLF = true
	width := len(headers)
	for _, e := range errs {
		width = max(width, len(e.Raw))
	}
	rec := make([]string, 0, 3+width)
	rec = append(rec, "row", "field", "reason")
	for i := range width {
		h := ""
		if i < len(headers) {
			h = headers[i]
		}
		rec = append(rec, SafeCell(h))
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, e := range errs {
		rec = rec[:0]
		rec = append(rec, strconv.Itoa(e.Row), SafeCell(e.Field), SafeCell(e.Message))
		for i := range width {
			v := ""
			if i < len(e.Raw) {
				v = e.Raw[i]
			}
			rec = append(rec, SafeCell(v))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
