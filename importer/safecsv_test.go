package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSafeCell(t *testing.T) {
	tests := map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+1":                       "'+1+1",
		"-2":                         "'-2",
		"@SUM(1)":                    "'@SUM(1)",
		"\t=1":                       "'\t=1",
		"\r=1":                       "'\r=1",
		"  =1+1":                     "'  =1+1",
		"＝1+1":                       "'＝1+1",
		"+4915123456789":             "'+4915123456789",
		"Jürgen Müller":              "Jürgen Müller",
		"a=b":                        "a=b",
		"":                           "",
		"   ":                        "   ",
		"1-2":                        "1-2",
	}
	for in, want := range tests {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteErrorReport(t *testing.T) {
	headers := []string{"Telefon", "Name", "=cmd"}
	errs := []RowError{
		{Row: 3, Raw: []string{"0151 12", `=HYPERLINK("http://x","y")`, "x"}, Field: "phone", Code: CodePhoneTooShort, Message: `phone "0151 12" is too short for Germany (DE)`},
		{Row: 9, Raw: []string{"+49 151 23456789", "-2", "@SUM(1)", "extra"}, Field: "email", Code: CodeEmailInvalid, Message: "email \"a\" is not a valid e-mail address"},
	}
	var buf bytes.Buffer
	if err := WriteErrorReport(&buf, headers, errs); err != nil {
		t.Fatal(err)
	}
	want := "\xef\xbb\xbf" +
		"row,field,reason,Telefon,Name,'=cmd,\r\n" +
		"3,phone,\"phone \"\"0151 12\"\" is too short for Germany (DE)\",0151 12,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",x,\r\n" +
		"9,email,\"email \"\"a\"\" is not a valid e-mail address\",'+49 151 23456789,'-2,'@SUM(1),extra\r\n"
	if buf.String() != want {
		t.Errorf("report:\n%q\nwant\n%q", buf.String(), want)
	}

	// A corrected report can be uploaded again: the report columns are
	// ignored and SafeCell's apostrophes are dropped.
	fixed := strings.Replace(buf.String(), "0151 12", "0151 23456789", 2)
	rd, err := NewReader(strings.NewReader(fixed), Format{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m := DetectMapping(rd.Header())
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	var phones, names []string
	for {
		row, rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c, rerr := MapRow(row, rec, m, Defaults{Region: "DE"})
		if rerr != nil {
			t.Fatal(rerr)
		}
		phones, names = append(phones, c.Phone), append(names, c.Name)
	}
	if strings.Join(phones, " ") != "+4915123456789 +4915123456789" || names[0] != `=HYPERLINK("http://x","y")` || names[1] != "-2" {
		t.Errorf("re-import: %q %q", phones, names)
	}
}

func TestWriteErrorReportFormat(t *testing.T) {
	var buf bytes.Buffer
	err := WriteErrorReportFormat(&buf, ';', []string{"Telefon"}, []RowError{{Row: 2, Raw: []string{"x;y"}, Message: "m"}})
	if err != nil || buf.String() != "\xef\xbb\xbfrow;field;reason;Telefon\r\n2;;m;\"x;y\"\r\n" {
		t.Errorf("%q %v", buf.String(), err)
	}
}
