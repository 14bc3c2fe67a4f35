package contactimport_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
)

// FuzzImportPipeline runs any bytes through what an upload goes through
// without a database: the check, the preview and the pipeline with the
// proposed mapping. Nothing may panic; every row the check counted is
// delivered exactly once, as a contact, an error or a blank row, in order.
func FuzzImportPipeline(f *testing.F) {
	f.Add([]byte("phone,name\n+4915112345001,Anna\n0151 12345002,Bert\n"))
	f.Add([]byte("\uFEFFTelefon;Vorname;Notiz\r\n0151 1234567;J\xfcrgen;\"a\r\nb\"\r\n12;=HYPERLINK(\"x\");\r\n"))
	f.Add([]byte("Handy\tName\n+49 170 1234567\tZo\xc3\xab\n\n\n+1 (555) 010-0000\tBob\n"))
	f.Add([]byte("sep=;\nphone;x;y\n1;2;3;4;5\n\"unclosed\n"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		limits := importer.Limits{MaxColumns: 50, MaxFieldBytes: 256, MaxRowBytes: 4096}
		a, err := contactimport.Analyze(ctx, bytes.NewReader(data), importer.Format{}, limits)
		if err != nil {
			var ie *importer.Error
			if !asImporterError(err, &ie) || ie.Message == "" {
				t.Fatalf("refusal without a message: %v", err)
			}
			return
		}
		d := importer.Defaults{Region: "DE"}
		if _, err := contactimport.BuildPreview(ctx, bytes.NewReader(data), a.Format, a.Mapping, d, 10, 100); err != nil {
			var ie *importer.Error
			if !asImporterError(err, &ie) {
				t.Fatalf("preview: %v", err)
			}
		}
		if !a.HasPhone() {
			return
		}
		delivered, last := 0, 0
		_, err = importer.Run(ctx, bytes.NewReader(data), importer.Config{Format: a.Format, Mapping: a.Mapping, Defaults: d, Limits: limits, BatchSize: 7, Workers: 2},
			func(b importer.Batch) error {
				if b.Rows != len(b.Contacts)+len(b.Errors)+b.Blank {
					t.Fatalf("batch rows %d != %d contacts + %d errors + %d blank", b.Rows, len(b.Contacts), len(b.Errors), b.Blank)
				}
				if b.FirstRow <= last && b.Rows > 0 {
					t.Fatalf("batch starting at row %d after row %d", b.FirstRow, last)
				}
				last = max(last, b.LastRow)
				delivered += b.Rows
				if b.RowsDone != delivered {
					t.Fatalf("checkpoint %d after %d rows", b.RowsDone, delivered)
				}
				return nil
			})
		if err != nil {
			return // a fatal problem further down: the check read the same rows
		}
		if delivered != a.Rows {
			t.Fatalf("delivered %d rows, the check counted %d", delivered, a.Rows)
		}
	})
}

func asImporterError(err error, target **importer.Error) bool { return errors.As(err, target) }
