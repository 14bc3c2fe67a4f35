package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// outcome is what Run said about one row: "+49..." or "!code".
type outcome struct {
	row int
	res string
}

func collect(t *testing.T, data []byte, cfg Config) ([]outcome, []Batch, Stats, error) {
	t.Helper()
	var out []outcome
	var batches []Batch
	st, err := Run(context.Background(), bytes.NewReader(data), cfg, func(b Batch) error {
		batches = append(batches, b)
		// merge contacts and errors back into file order
		ci, ei := 0, 0
		for ci < len(b.Contacts) || ei < len(b.Errors) {
			if ei == len(b.Errors) || (ci < len(b.Contacts) && b.Contacts[ci].Row < b.Errors[ei].Row) {
				out = append(out, outcome{b.Contacts[ci].Row, b.Contacts[ci].Phone})
				ci++
			} else {
				out = append(out, outcome{b.Errors[ei].Row, "!" + b.Errors[ei].Code})
				ei++
			}
		}
		return nil
	})
	return out, batches, st, err
}

func genFile(t testing.TB, n int, seed int64) []byte {
	var buf bytes.Buffer
	if err := Generate(&buf, n, seed); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRunOrderAndStats(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		data := genFile(t, 3000, seed)
		cfg := Config{Defaults: Defaults{Region: "DE", Now: testNow}, BatchSize: 97, Workers: 4, TotalBytes: int64(len(data))}
		out, batches, st, err := collect(t, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 3000 || st.Contacts+st.Errors+st.Blank != 3000 || len(out) != st.Contacts+st.Errors {
			t.Fatalf("stats %+v, %d outcomes", st, len(out))
		}
		if st.Errors < 30 || st.Errors > 100 {
			t.Errorf("seed %d: %d bad rows of 3000, want about 2%%", seed, st.Errors)
		}
		if st.WithConsent < 2400 {
			t.Errorf("seed %d: only %d with consent", seed, st.WithConsent)
		}
		prevRow, done := 1, 0
		for i, b := range batches {
			if b.FirstRow <= prevRow || b.LastRow < b.FirstRow || b.RowsDone != done+b.Rows {
				t.Fatalf("batch %d out of order: %+v (prev row %d, done %d)", i, b, prevRow, done)
			}
			if b.BytesRead <= 0 || b.TotalBytes != int64(len(data)) {
				t.Errorf("batch %d progress %d/%d", i, b.BytesRead, b.TotalBytes)
			}
			prevRow, done = b.LastRow, b.RowsDone
		}
		for i := 1; i < len(out); i++ {
			if out[i].row <= out[i-1].row {
				t.Fatalf("rows out of order at %d: %v %v", i, out[i-1], out[i])
			}
		}
		if st.BytesRead != int64(len(data)) {
			t.Errorf("BytesRead %d, want %d", st.BytesRead, len(data))
		}
		// the generated German file is mapped without help
		if seed == 1 && fieldsOf(st.Mapping)[0] != FieldPhone {
			t.Errorf("mapping %v", fieldsOf(st.Mapping))
		}
	}
}

func TestRunResume(t *testing.T) {
	data := genFile(t, 1000, 3)
	cfg := Config{Defaults: Defaults{Region: "DE", Now: testNow}, BatchSize: 64, Workers: 3}
	full, batches, _, err := collect(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Resume from every batch checkpoint and from a few odd places.
	skips := []int{0, 1, 63, 64, 65, 500, 999, 1000, 1200}
	for _, b := range batches {
		skips = append(skips, b.RowsDone)
	}
	for _, skip := range skips {
		cfg.SkipRows = skip
		got, _, st, err := collect(t, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var want []outcome
		for _, o := range full {
			if o.row-1 > skip { // data rows are numbered from 2 and this file has no blank lines
				want = append(want, o)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("SkipRows=%d: %d outcomes, want %d", skip, len(got), len(want))
		}
		if st.Skipped != min(skip, 1000) || st.Rows != 1000 {
			t.Errorf("SkipRows=%d: stats %+v", skip, st)
		}
	}
}

func TestRunResumeAfterCrash(t *testing.T) {
	// A sink that fails mid-way; the restart continues after the last
	// committed batch and the two runs together deliver every row once.
	data := genFile(t, 700, 4)
	cfg := Config{Defaults: Defaults{Region: "DE", Now: testNow}, BatchSize: 50, Workers: 2}
	full, _, _, err := collect(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var committed []outcome
	checkpoint := 0
	crash := errors.New("database went away")
	calls := 0
	_, err = Run(context.Background(), bytes.NewReader(data), cfg, func(b Batch) error {
		if calls++; calls == 6 {
			return crash
		}
		for _, c := range b.Contacts {
			committed = append(committed, outcome{c.Row, c.Phone})
		}
		checkpoint = b.RowsDone
		return nil
	})
	if !errors.Is(err, crash) {
		t.Fatalf("err = %v", err)
	}
	cfg.SkipRows = checkpoint
	rest, _, _, err := collect(t, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []outcome
	got = append(got, committed...)
	for _, o := range rest {
		if !strings.HasPrefix(o.res, "!") {
			got = append(got, o)
		}
	}
	var want []outcome
	for _, o := range full {
		if !strings.HasPrefix(o.res, "!") {
			want = append(want, o)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("crash+resume delivered %d contacts, want %d", len(got), len(want))
	}
}

func TestRunCancel(t *testing.T) {
	data := genFile(t, 5000, 5)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Run(ctx, bytes.NewReader(data), Config{Defaults: Defaults{Region: "DE"}, BatchSize: 100}, func(Batch) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 2 {
		t.Errorf("err = %v after %d calls", err, calls)
	}

	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	slow := &slowReader{r: bytes.NewReader(data)}
	_, err = Run(ctx, slow, Config{Defaults: Defaults{Region: "DE"}, BatchSize: 100}, func(Batch) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err = %v", err)
	}
}

type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(200 * time.Microsecond)
	return s.r.Read(p[:min(len(p), 512)])
}

func TestRunRowLevelProblems(t *testing.T) {
	in := "Telefon;Name;Notiz\n" +
		"0151 23456789;Anna;\n" + // 2
		";;\n" + // 3 blank
		"0151 2345678\xff;Bad;\n" + // 4 invalid UTF-8 (UTF-8 forced)
		"0151 12;Short;\n" + // 5
		"\n" + // 6 blank line
		"0152 23456789;\"Eva\nMaria\";note\n" + // 7
		"0152 33456789;Last;x;y\n" // 8 value beyond the header
	out, _, st, err := collect(t, []byte(in), Config{Format: Format{Encoding: UTF8}, Defaults: Defaults{Region: "DE"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "[{2 +4915123456789} {4 !invalid_utf8} {5 !phone_too_short} {7 +4915223456789} {8 !extra_columns}]"
	if fmt.Sprint(out) != want {
		t.Errorf("got  %v\nwant %s", out, want)
	}
	if st.Blank != 1 || st.Rows != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestRunFileProblems(t *testing.T) {
	m := Mapping{Columns: []ColumnMapping{{Index: 0, Header: "Telefon", Field: FieldPhone}, {Index: 1, Header: "Name", Field: FieldName}}}
	tests := []struct {
		name string
		in   string
		cfg  Config
		code string
	}{
		{"empty", "", Config{}, CodeEmptyFile},
		{"header only", "Telefon;Name\n", Config{}, CodeNoRows},
		{"image", "\x89PNG\r\n\x1a\n\x00\x00", Config{}, CodeNotCSV},
		{"no phone column", "Name;Stadt\nA;B\n", Config{}, CodeMappingNoPhone},
		{"changed file", "Name;Telefon\nA;0151 23456789\n", Config{Mapping: m}, CodeHeaderChanged},
		{"bad declaration", "Telefon\n0151 23456789\n", Config{Defaults: Defaults{Consent: &Consent{Source: "Brieftaube", At: testNow}}}, CodeConsentDeclaration},
	}
	for _, tc := range tests {
		calls := 0
		_, err := Run(context.Background(), strings.NewReader(tc.in), tc.cfg, func(Batch) error { calls++; return nil })
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || calls != 0 {
			t.Errorf("%s: err = %v (calls %d), want %s", tc.name, err, calls, tc.code)
		}
	}
	// A fatal problem mid-file: the rows before it are delivered first.
	in := "Telefon;Name\n0151 23456789;A\n0151 33456789;B\n" + strings.Repeat("x", 2<<20)
	out, _, _, err := collect(t, []byte(in), Config{Defaults: Defaults{Region: "DE"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRowTooLong || len(out) != 2 {
		t.Errorf("err = %v, %d rows delivered", err, len(out))
	}
}

func TestRunConsentDeclaration(t *testing.T) {
	in := "Telefon;Quelle\n0151 23456789;\n0151 33456789;Telefon\n"
	decl := &Consent{Source: "Webformular", At: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}
	var cs []Contact
	st, err := Run(context.Background(), strings.NewReader(in), Config{Defaults: Defaults{Region: "DE", Consent: decl}}, func(b Batch) error {
		cs = append(cs, b.Contacts...)
		return nil
	})
	if err != nil || st.WithConsent != 2 || cs[0].OptInSource != SourceWebForm || cs[1].OptInSource != SourcePhone || !cs[0].ConsentFromFile {
		t.Errorf("%+v %v %+v", st, err, cs)
	}
}
