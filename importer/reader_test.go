package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Format
	}{
		{"utf-8 comma", "phone,name\n+49151,Anna\n", Format{UTF8, ','}},
		{"utf-8 bom semicolon", "\xef\xbb\xbfTelefon;Name\n0151;Jürgen\n", Format{UTF8, ';'}},
		{"windows-1252", "Telefon;Name\n0151;M\xfcller\n", Format{Windows1252, ';'}},
		{"tab", "phone\tname\tcity\n1\t2\t3\n", Format{UTF8, '\t'}},
		{"pipe", "phone|name\n1|2\n", Format{UTF8, '|'}},
		{"semicolon with commas in values", "Name;Telefon;Notiz\nMüller, Hans;0151;a, b, c\nSchmidt, Eva;0152;x\n", Format{UTF8, ';'}},
		{"comma with quoted semicolons", "name,phone,note\n\"a;b\",1,\"c;d;e\"\n\"f\",2,g\n", Format{UTF8, ','}},
		{"quoted newline", "name;phone\n\"Anna\nB\";1\nC;2\n", Format{UTF8, ';'}},
		{"single column", "phone\n0151\n0152\n", Format{UTF8, ','}},
		{"header only", "Telefon;Name;E-Mail\n", Format{UTF8, ';'}},
		{"utf-16", "\xff\xfep\x00h\x00\t\x00n\x00\n\x001\x00\t\x002\x00\n\x00", Format{UTF16, '\t'}},
	}
	for _, tc := range tests {
		if got := Sniff([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: Sniff = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// a UTF-8 rune cut off by the 64 KiB window is still UTF-8
	head := []byte(strings.Repeat("name;phone\nJürgen;1\n", 4000))
	head = append(head[:SniffSize-1:SniffSize-1], "ü"[0])
	if got := Sniff(head); got.Encoding != UTF8 {
		t.Errorf("cut rune: %v", got.Encoding)
	}
}

type readResult struct {
	header []string
	rows   []int
	recs   [][]string
}

func readAll(t *testing.T, in []byte, f Format) (readResult, []*Error) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(in), f, Limits{})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	res := readResult{header: rd.Header()}
	var rowErrs []*Error
	for {
		row, rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var e *Error
		if err != nil {
			if !errors.As(err, &e) || e.Fatal {
				t.Fatalf("Read: %v", err)
			}
			rowErrs = append(rowErrs, e)
			continue
		}
		res.rows = append(res.rows, row)
		res.recs = append(res.recs, append([]string(nil), rec...))
	}
	return res, rowErrs
}

func TestReaderFormats(t *testing.T) {
	want := [][]string{{"+49 151 1", "Müller"}, {"0152", "Groß"}}
	tests := []struct {
		name string
		in   string
	}{
		{"utf-8", "Phone,Name\n+49 151 1,Müller\n0152,Groß\n"},
		{"utf-8 bom", "\xef\xbb\xbfPhone,Name\n+49 151 1,Müller\n0152,Groß\n"},
		{"windows-1252", "Phone;Name\n+49 151 1;M\xfcller\n0152;Gro\xdf\n"},
		{"semicolon", "Phone;Name\n+49 151 1;Müller\n0152;Groß\n"},
		{"tab", "Phone\tName\n+49 151 1\tMüller\n0152\tGroß\n"},
		{"crlf", "Phone,Name\r\n+49 151 1,Müller\r\n0152,Groß\r\n"},
		{"no final newline", "Phone,Name\n+49 151 1,Müller\n0152,Groß"},
		{"quoted", "\"Phone\",\"Name\"\n\"+49 151 1\",\"Müller\"\n\"0152\",\"Groß\"\n"},
		{"utf-16le bom", utf16le("\ufeffPhone\tName\r\n+49 151 1\tMüller\r\n0152\tGroß\r\n")},
		{"excel sep line", "sep=;\nPhone;Name\n+49 151 1;Müller\n0152;Groß\n"},
		{"excel sep line after bom", "\xef\xbb\xbfsep=,\r\nPhone,Name\r\n+49 151 1,Müller\r\n0152,Groß\r\n"},
		{"excel sep line windows-1252", "sep=;\nPhone;Name\n+49 151 1;M\xfcller\n0152;Gro\xdf\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, errs := readAll(t, []byte(tc.in), Format{})
			if len(errs) > 0 {
				t.Fatalf("row errors: %v", errs)
			}
			if strings.Join(res.header, "|") != "Phone|Name" {
				t.Errorf("header = %q", res.header)
			}
			if len(res.recs) != 2 || strings.Join(res.recs[0], "|") != strings.Join(want[0], "|") || strings.Join(res.recs[1], "|") != strings.Join(want[1], "|") {
				t.Errorf("records = %q", res.recs)
			}
			if len(res.rows) != 2 || res.rows[0] != 2 || res.rows[1] != 3 {
				t.Errorf("rows = %v, want [2 3]", res.rows)
			}
		})
	}
}

func utf16le(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestReaderRowNumbers(t *testing.T) {
	// Quoted line breaks keep a record on one spreadsheet row; blank lines are
	// rows of their own, as Excel shows them.
	in := "phone;note\n1;\"two\nlines\"\n2;x\n\n3;\"a\r\nb\r\nc\"\n4;y\n"
	res, _ := readAll(t, []byte(in), Format{})
	want := []int{2, 3, 5, 6}
	if len(res.rows) != len(want) {
		t.Fatalf("rows = %v", res.rows)
	}
	for i := range want {
		if res.rows[i] != want[i] {
			t.Errorf("rows = %v, want %v", res.rows, want)
			break
		}
	}
	if res.recs[0][1] != "two\nlines" || res.recs[2][1] != "a\nb\nc" {
		t.Errorf("quoted newlines: %q", res.recs)
	}
}

func TestReaderHeader(t *testing.T) {
	res, _ := readAll(t, []byte(" Phone ; \x00Name\u202e ;;\n1;2;;\n"), Format{})
	if strings.Join(res.header, "|") != "Phone|Name||" {
		t.Errorf("header = %q", res.header)
	}
}

func TestReaderFileErrors(t *testing.T) {
	pngHead := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	zipXLSX := "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml....PK\x03\x04xl/workbook.xml"
	tests := []struct {
		name, in, code, msg string
	}{
		{"empty", "", CodeEmptyFile, "The file is empty."},
		{"only bom", "\xef\xbb\xbf", CodeEmptyFile, "The file is empty."},
		{"only blank lines", "\n\r\n  \n", CodeEmptyFile, "The file is empty."},
		{"header only", "phone,name\n", CodeNoRows, "The file has a header row but no data rows."},
		{"header only no newline", "phone;name", CodeNoRows, "The file has a header row but no data rows."},
		{"header and blank lines", "phone;name\n\n\n", CodeNoRows, "The file has a header row but no data rows."},
		{"png", pngHead, CodeNotCSV, "This is an image (PNG), not a CSV file."},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", CodeNotCSV, "This is an image (JPEG), not a CSV file."},
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", CodeNotCSV, "This is a PDF document, not a CSV file."},
		{"xlsx", zipXLSX, CodeNotCSV, "This is an Excel workbook (.xlsx), not a CSV file."},
		{"zip", "PK\x03\x04\x14\x00\x00\x00foo.txt", CodeNotCSV, "This is a ZIP archive, not a CSV file."},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", CodeNotCSV, "This is an Excel 97-2003 workbook (.xls)"},
		{"binary", "phone,name\n\x00\x00\x01\x02\x00\x00\x00\x00\x03\x00\x00\x00", CodeNotCSV, "This is a binary file, not a CSV file."},
		{"duplicate header", "Phone;Name;phone \n1;2;3\n", CodeDuplicateHeader, `The header row names the column "phone" twice (columns A and C). Rename one of them.`},
		{"no header names", ";;\n1;2;3\n", CodeNoHeader, "The first row has no column names."},
		{"header too many columns", strings.Repeat("h,", 10000) + "h\n1\n", CodeTooManyColumns, "The header row has 10001 columns; at most 500 are allowed."},
		{"header invalid utf-8", "phone;na\xffme\n1;2\n", CodeInvalidUTF8, "The header row's column B contains bytes that are not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Format{}
			if tc.code == CodeInvalidUTF8 {
				f = Format{Encoding: UTF8, Delimiter: ';'}
			}
			_, err := NewReader(strings.NewReader(tc.in), f, Limits{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error %s", err, tc.code)
			}
			if e.Code != tc.code || !e.Fatal || !strings.HasPrefix(e.Message, tc.msg) {
				t.Errorf("got %s %q (fatal %v), want %s %q", e.Code, e.Message, e.Fatal, tc.code, tc.msg)
			}
		})
	}
}

func TestReaderRowErrors(t *testing.T) {
	longField := strings.Repeat("x", 5000)
	wide := "1" + strings.Repeat(",x", 9999) // 10,000 columns
	in := strings.Join([]string{
		"phone,name",
		"1,ok",            // row 2
		"2,M\xfcller",     // row 3: invalid UTF-8
		wide,              // row 4: 10,000 columns
		"3," + longField,  // row 5: field too long
		`4,5" screen`,     // row 6: bare quote
		"5,fine",          // row 7
		`6,"never closed`, // row 8: quote never closed, to the end
		"7,lost",
	}, "\n") + "\n"
	rd, err := NewReader(strings.NewReader(in), Format{Encoding: UTF8, Delimiter: ','}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		row  int
		code string
	}
	var gots []got
	var msgs []string
	for {
		row, rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Fatal) {
			t.Fatalf("fatal: %v", err)
		}
		if len(rec) > DefaultMaxColumns {
			t.Fatalf("row %d: %d columns returned", row, len(rec))
		}
		if e != nil {
			if e.Row != row {
				t.Errorf("error row %d != %d", e.Row, row)
			}
			gots = append(gots, got{row, e.Code})
			msgs = append(msgs, e.Message)
		} else {
			gots = append(gots, got{row, ""})
		}
	}
	want := []got{{2, ""}, {3, CodeInvalidUTF8}, {4, CodeTooManyColumns}, {5, CodeFieldTooLong}, {6, CodeBadQuotes}, {7, ""}, {8, CodeBadQuotes}}
	if len(gots) != len(want) {
		t.Fatalf("got %v, want %v", gots, want)
	}
	for i := range want {
		if gots[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, gots[i], want[i])
		}
	}
	wantMsgs := []string{
		"Row 3's column B (\"name\") contains bytes that are not valid UTF-8",
		"Row 4 has 10000 columns; at most 500 are allowed.",
		"Row 5's column B (\"name\") holds 5000 bytes; at most 4096 are allowed.",
		`Row 6 has a " inside a value that does not start with a quote`,
		`Row 8 has a quoted value that is never closed`,
	}
	for i, w := range wantMsgs {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("message %q, want prefix %q", msgs[i], w)
		}
	}
}

func TestReaderRowTooLong(t *testing.T) {
	// A file without line breaks must not be buffered whole.
	in := "phone,name\n1,a\n" + strings.Repeat("y", 3<<20)
	rd, err := NewReader(strings.NewReader(in), Format{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rd.Read(); err != nil {
		t.Fatal(err)
	}
	_, _, err = rd.Read()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRowTooLong || !e.Fatal || e.Row != 3 {
		t.Fatalf("err = %#v", err)
	}
	if _, _, err2 := rd.Read(); err2 != err {
		t.Errorf("fatal error not sticky: %v", err2)
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := ColumnLetter(i); got != want {
			t.Errorf("ColumnLetter(%d) = %s, want %s", i, got, want)
		}
	}
}
