package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Limits bound what a file may contain. Zero fields take the defaults.
type Limits struct {
	MaxColumns    int // columns per row; default 500
	MaxFieldBytes int // bytes per cell (after decoding to UTF-8); default 4096
	MaxRowBytes   int // bytes per row; default 1 MiB. Longer rows stop the import.
}

// Default limits.
const (
	DefaultMaxColumns    = 500
	DefaultMaxFieldBytes = 4096
	DefaultMaxRowBytes   = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if l.MaxRowBytes <= 0 {
		l.MaxRowBytes = DefaultMaxRowBytes
	}
	return l
}

// File and row error codes (Error.Code).
const (
	CodeEmptyFile       = "empty_file"
	CodeNoRows          = "no_rows"
	CodeNotCSV          = "not_csv"
	CodeNoHeader        = "no_header"
	CodeDuplicateHeader = "duplicate_header"
	CodeTooManyColumns  = "too_many_columns"
	CodeFieldTooLong    = "field_too_long"
	CodeRowTooLong      = "row_too_long"
	CodeInvalidUTF8     = "invalid_utf8"
	CodeBadQuotes       = "bad_quotes"
	CodeBadFormat       = "bad_format"
	CodeReadFailed      = "read_failed"
	CodeHeaderChanged   = "header_changed"
)

// Error is a problem with the file or with one row of it. Message is a
// plain-English sentence for the user; Code is stable for programs.
type Error struct {
	Code    string
	Row     int    // spreadsheet row (the header is row 1); 0 when not about one row
	Message string // complete sentence, shown as is
	Fatal   bool   // reading cannot go on; otherwise only this row is lost
	Err     error  // underlying error, if any

	detail string // row errors: Message without the row number, for RowError
}

func (e *Error) Error() string { return e.Message }

// RowError is the rejected row a non-fatal read error stands for, as the
// import records it (raw is the row's cells).
func (e *Error) RowError(raw []string) RowError {
	return RowError{Row: e.Row, Raw: raw, Code: e.Code, Message: e.detail}
}
func (e *Error) Unwrap() error { return e.Err }

func fatalf(code string, row int, format string, args ...any) *Error {
	return &Error{Code: code, Row: row, Fatal: true, Message: fmt.Sprintf(format, args...)}
}

// rowErrorf builds a row error from a phrase about "the row"; Message
// starts "Row N" instead.
func rowErrorf(code string, row int, format string, args ...any) *Error {
	detail := fmt.Sprintf(format, args...)
	msg := fmt.Sprintf("Row %d%s.", row, strings.TrimPrefix(detail, "the row"))
	return &Error{Code: code, Row: row, Message: msg, detail: detail}
}

// Reader streams the data rows of a delimited text file.
type Reader struct {
	format  Format
	limits  Limits
	count   *countingReader
	guard   *guardReader
	csv     *csv.Reader
	header  []string
	fatal   error
	lastRow int // spreadsheet row of the record last returned
	lastEnd int // physical line on which that record ended
	utf8    bool

	// the first data row, read by NewReader to detect header-only files
	pendRow int
	pendRec []string
	pendErr error
	pending bool
}

// NewReader checks the start of the file, reads the header row and the first
// data row, and returns a Reader positioned at that first data row. Errors
// are *Error: an empty file, a file of only a header, content that is not
// text (an image, PDF, Excel workbook, ...), a header row that is not valid
// UTF-8, has duplicate or no names, or too many columns.
//
// Header names are trimmed and cleaned (see Header); duplicates are compared
// case-insensitively. A zero Format means Sniff's guess.
func NewReader(r io.Reader, f Format, limits Limits) (*Reader, error) {
	limits = limits.withDefaults()
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, SniffSize)
	head, err := br.Peek(SniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, &Error{Code: CodeReadFailed, Fatal: true, Err: err, Message: "The file could not be read: " + err.Error() + "."}
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(head, bomUTF8))) == 0 {
		return nil, fatalf(CodeEmptyFile, 0, "The file is empty.")
	}
	if f.Encoding == "" || f.Delimiter == 0 {
		s := Sniff(head)
		if f.Encoding == "" {
			f.Encoding = s.Encoding
		}
		if f.Delimiter == 0 {
			f.Delimiter = s.Delimiter
		}
	}
	if what := binaryKind(head, f.Encoding == UTF16); what != "" {
		return nil, fatalf(CodeNotCSV, 0, "This is %s, not a CSV file. Save or export the list as CSV (in Excel: File › Save As › CSV UTF-8) and upload that file.", what)
	}
	if f.Delimiter == '"' || f.Delimiter == '\r' || f.Delimiter == '\n' || f.Delimiter == utf8.RuneError || !utf8.ValidRune(f.Delimiter) {
		return nil, fatalf(CodeBadFormat, 0, "%q cannot separate columns; choose comma, semicolon or tab.", f.Delimiter)
	}
	var src io.Reader
	switch f.Encoding {
	case UTF8:
		if bytes.HasPrefix(head, bomUTF8) {
			_, _ = br.Discard(len(bomUTF8))
		}
		src = br
	case Windows1252:
		src = charmap.Windows1252.NewDecoder().Reader(br)
	case UTF16:
		src = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Reader(br)
	default:
		return nil, fatalf(CodeBadFormat, 0, "The encoding %q is not supported; choose UTF-8, Windows-1252 or UTF-16.", string(f.Encoding))
	}
	// Excel's "sep=;" first line names the delimiter and is not shown as a row.
	sepLine := false
	if f.Encoding != UTF16 {
		if d, n := excelSepLine(bytes.TrimPrefix(head, bomUTF8)); n > 0 {
			f.Delimiter = d
			if f.Encoding == UTF8 {
				_, _ = br.Discard(n)
			} else {
				_, _ = io.CopyN(io.Discard, src, int64(n))
			}
			sepLine = true
		}
	}
	rd := &Reader{format: f, limits: limits, count: cr, utf8: f.Encoding == UTF8}
	rd.guard = &guardReader{r: src, limit: int64(limits.MaxRowBytes) + 4096}
	rd.csv = csv.NewReader(rd.guard)
	rd.csv.Comma = f.Delimiter
	rd.csv.FieldsPerRecord = -1
	rd.csv.ReuseRecord = true
	if sepLine {
		rd.lastEnd = 1
	}

	row, rec, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fatalf(CodeEmptyFile, 0, "The file is empty.")
		}
		var e *Error
		if errors.As(err, &e) {
			e.Fatal = true // a header that cannot be read stops the import
			if e.detail != "" {
				e.Message = "The header row" + strings.TrimPrefix(e.detail, "the row") + "."
			}
		}
		return nil, err
	}
	if err := rd.setHeader(row, rec); err != nil {
		return nil, err
	}
	rd.pendRow, rd.pendRec, rd.pendErr = rd.next()
	rd.pending = true
	if errors.Is(rd.pendErr, io.EOF) {
		return nil, fatalf(CodeNoRows, 0, "The file has a header row but no data rows.")
	}
	if rd.pendRec != nil {
		rd.pendRec = append([]string(nil), rd.pendRec...) // the next read reuses the slice
	}
	return rd, nil
}

func (r *Reader) setHeader(row int, rec []string) error {
	if len(rec) > r.limits.MaxColumns {
		return fatalf(CodeTooManyColumns, row, "The header row has %d columns; at most %d are allowed.", len(rec), r.limits.MaxColumns)
	}
	seen := make(map[string]int, len(rec))
	named := 0
	r.header = make([]string, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(cleanText(h, false))
		r.header[i] = h
		if h == "" {
			continue
		}
		named++
		key := strings.ToLower(h)
		if j, dup := seen[key]; dup {
			return fatalf(CodeDuplicateHeader, row, "The header row names the column %q twice (columns %s and %s). Rename one of them.", h, ColumnLetter(j), ColumnLetter(i))
		}
		seen[key] = i
	}
	if named == 0 {
		return fatalf(CodeNoHeader, row, "The first row has no column names. The first row must name the columns, for example phone, name, email.")
	}
	return nil
}

// Header returns the cleaned column names of the header row: trimmed, with
// NUL bytes and bidirectional-override characters removed. Blank names are
// kept as "" so indexes match the data rows.
func (r *Reader) Header() []string { return r.header }

// Format returns the format in use (after sniffing and any "sep=" line).
func (r *Reader) Format() Format { return r.format }

// BytesRead returns how many bytes have been consumed from the underlying
// reader so far, including read-ahead of up to 64 KiB: good for a progress
// bar, not for seeking.
func (r *Reader) BytesRead() int64 { return r.count.n }

// Read returns the next data row and its spreadsheet row number (the header
// is row 1, the first data row is row 2; blank lines count as rows and a
// quoted value spanning lines stays one row, as in Excel). The slice is
// reused by the next call; its strings may be kept.
//
// At the end it returns io.EOF. A problem confined to one row (too many
// columns, a cell too long, invalid UTF-8, a quote out of place) is an *Error
// with Fatal false and the row's number; rec then holds what could be read of
// the row (at most MaxColumns cells) and Read may be called again. Any other
// error is final and returned again by later calls.
func (r *Reader) Read() (row int, rec []string, err error) {
	if r.pending {
		r.pending = false
		row, rec, err, r.pendRec = r.pendRow, r.pendRec, r.pendErr, nil
		return row, rec, err
	}
	return r.next()
}

func (r *Reader) next() (int, []string, error) {
	if r.fatal != nil {
		return 0, nil, r.fatal
	}
	r.guard.n = 0
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			r.fatal = io.EOF
			return 0, nil, io.EOF
		case errors.As(err, &pe):
			row := r.lastRow + max(1, pe.StartLine-r.lastEnd)
			r.lastRow, r.lastEnd = row, pe.Line
			rec = r.capRecord(rec)
			if errors.Is(pe.Err, csv.ErrBareQuote) {
				return row, rec, rowErrorf(CodeBadQuotes, row, `the row has a " inside a value that does not start with a quote; put the whole value in quotes and double the inner quote, for example "5"" screen"`)
			}
			if pe.Line != pe.StartLine || r.guard.eof {
				return row, rec, rowErrorf(CodeBadQuotes, row, `the row has a quoted value that is never closed: a " is missing, so the rest of the file (up to line %d) was read as one value`, pe.Line)
			}
			return row, rec, rowErrorf(CodeBadQuotes, row, `the row has a quoted value followed by more text; after the closing " the next character must be the separator`)
		case errors.Is(err, errRowTooLong):
			r.fatal = fatalf(CodeRowTooLong, r.lastRow+1, "Row %d is longer than %d bytes. The file is probably not a list of contacts, or a quote \" is never closed.", r.lastRow+1, r.limits.MaxRowBytes)
			return 0, nil, r.fatal
		default:
			r.fatal = &Error{Code: CodeReadFailed, Row: r.lastRow + 1, Fatal: true, Err: err, Message: "The file could not be read: " + err.Error() + "."}
			return 0, nil, r.fatal
		}
	}
	line, _ := r.csv.FieldPos(0)
	row := r.lastRow + max(1, line-r.lastEnd)
	endLine, _ := r.csv.FieldPos(len(rec) - 1)
	endLine += strings.Count(rec[len(rec)-1], "\n")
	r.lastRow, r.lastEnd = row, endLine

	if len(rec) > r.limits.MaxColumns {
		return row, r.capRecord(rec), rowErrorf(CodeTooManyColumns, row, "the row has %d columns; at most %d are allowed", len(rec), r.limits.MaxColumns)
	}
	for i, v := range rec {
		if len(v) > r.limits.MaxFieldBytes {
			return row, r.capRecord(rec), rowErrorf(CodeFieldTooLong, row, "the row's column %s%s holds %d bytes; at most %d are allowed", ColumnLetter(i), r.headerLabel(i), len(v), r.limits.MaxFieldBytes)
		}
	}
	if r.utf8 {
		for i, v := range rec {
			if !utf8.ValidString(v) {
				return row, r.capRecord(rec), rowErrorf(CodeInvalidUTF8, row, "the row's column %s%s contains bytes that are not valid UTF-8; if Excel saved the file as \"CSV (comma delimited)\", choose the encoding Windows-1252 and upload again, or save it as \"CSV UTF-8\"", ColumnLetter(i), r.headerLabel(i))
			}
		}
	}
	return row, rec, nil
}

func (r *Reader) capRecord(rec []string) []string {
	if len(rec) > r.limits.MaxColumns {
		rec = rec[:r.limits.MaxColumns]
	}
	if r.utf8 {
		for i := range rec {
			if !utf8.ValidString(rec[i]) {
				rec[i] = strings.ToValidUTF8(rec[i], "\uFFFD")
			}
		}
	}
	for i := range rec {
		if len(rec[i]) > r.limits.MaxFieldBytes {
			rec[i] = truncateUTF8(rec[i], 200) + "…"
		}
	}
	return rec
}

func (r *Reader) headerLabel(i int) string {
	if i < len(r.header) && r.header[i] != "" {
		return fmt.Sprintf(" (%q)", r.header[i])
	}
	return ""
}

// ColumnLetter returns the spreadsheet name of the 0-based column i: A, B,
// ..., Z, AA, AB, ...
func ColumnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// excelSepLine recognises a first line "sep=X" and returns X and the length
// of the line including its line break.
func excelSepLine(h []byte) (rune, int) {
	if len(h) < 5 || !bytes.EqualFold(h[:4], []byte("sep=")) {
		return 0, 0
	}
	d, size := utf8.DecodeRune(h[4:])
	rest := h[4+size:]
	switch {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		return d, 4 + size + 2
	case bytes.HasPrefix(rest, []byte("\n")):
		return d, 4 + size + 1
	}
	return 0, 0
}

// binaryKind names the kind of file when head is clearly not text.
func binaryKind(head []byte, utf16 bool) string {
	magic := []struct {
		prefix, what string
	}{
		{"\x89PNG\r\n\x1a\n", "an image (PNG)"},
		{"\xff\xd8\xff", "an image (JPEG)"},
		{"GIF87a", "an image (GIF)"},
		{"GIF89a", "an image (GIF)"},
		{"II*\x00", "an image (TIFF)"},
		{"MM\x00*", "an image (TIFF)"},
		{"%PDF-", "a PDF document"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another Office document"},
		{"\x1f\x8b", "a compressed (gzip) file"},
		{"Rar!\x1a\x07", "a compressed (RAR) file"},
		{"7z\xbc\xaf\x27\x1c", "a compressed (7-Zip) file"},
		{"{\\rtf", "a Word (RTF) document"},
		{"\x00\x00\x01\x00", "an icon image"},
		{"SQLite format 3\x00", "a database file"},
	}
	for _, m := range magic {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.what
		}
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP" {
		return "an image (WebP)"
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "heic", "heix", "mif1", "msf1", "avif":
			return "an image (HEIC/AVIF)"
		}
		return "a video or audio file"
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		switch {
		case bytes.Contains(head, []byte("xl/")):
			return "an Excel workbook (.xlsx)"
		case bytes.Contains(head, []byte("word/")):
			return "a Word document (.docx)"
		case bytes.Contains(head, []byte("opendocument.spreadsheet")):
			return "an OpenDocument spreadsheet (.ods)"
		case bytes.Contains(head, []byte("ppt/")):
			return "a PowerPoint presentation (.pptx)"
		case bytes.Contains(head, []byte("com.apple.numbers")) || bytes.Contains(head, []byte("Index/Document.iwa")):
			return "a Numbers spreadsheet"
		}
		return "a ZIP archive"
	}
	if !utf16 {
		// Text may hold a stray NUL (MapRow removes it); binary data has
		// many NULs or control bytes.
		probe := head[:min(len(head), 8192)]
		nuls, ctrl := 0, 0
		for _, c := range probe {
			switch {
			case c == 0:
				nuls++
				ctrl++
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f':
				ctrl++
			}
		}
		if nuls > 0 && (nuls >= 8 || ctrl*20 > len(probe)) {
			return "a binary file"
		}
	}
	return ""
}

// countingReader counts bytes read from the source.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var errRowTooLong = errors.New("row too long")

// guardReader fails once more than limit bytes pass without a reset; the
// Reader resets it before each record, so a single huge record (a file with
// no line breaks, or a quote never closed) cannot grow csv's buffer without
// bound.
type guardReader struct {
	r     io.Reader
	n     int64
	limit int64
	eof   bool
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.n > g.limit {
		return 0, errRowTooLong
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if err == io.EOF {
		g.eof = true
	}
	return n, err
}
