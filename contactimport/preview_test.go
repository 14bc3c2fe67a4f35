package contactimport_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
)

// TestPreviewCountsLikeTheImport: the mapping preview sorts rows into
// blank, rejected and imported exactly as the import will: a row of
// non-breaking spaces is blank in both, a broken row is rejected with the
// same message.
func TestPreviewCountsLikeTheImport(t *testing.T) {
	ctx := context.Background()
	file := []byte("phone,name\n\u00a0,\u00a0\n+4915112345678,Anna\n+491511234,Kurz\n+4915187654321,\"Berta\"x\n\n")
	limits := importer.Limits{}
	a, err := contactimport.Analyze(ctx, bytes.NewReader(file), importer.Format{}, limits)
	if err != nil {
		t.Fatal(err)
	}
	d := importer.Defaults{Region: "DE"}
	p, err := contactimport.BuildPreview(ctx, bytes.NewReader(file), a.Format, a.Mapping, d, 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	var blank, imported int
	var rejected []importer.RowError
	_, err = importer.Run(ctx, bytes.NewReader(file), importer.Config{Format: a.Format, Mapping: a.Mapping, Defaults: d, Limits: limits},
		func(b importer.Batch) error {
			blank += b.Blank
			imported += len(b.Contacts)
			rejected = append(rejected, b.Errors...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if p.Blank != blank || p.Errors != len(rejected) || p.WithConsent+p.WithoutConsent != imported {
		t.Errorf("preview blank %d, rejected %d, ok %d; import blank %d, rejected %d, ok %d",
			p.Blank, p.Errors, p.WithConsent+p.WithoutConsent, blank, len(rejected), imported)
	}
	msgs := map[int]string{}
	for _, r := range rejected {
		msgs[r.Row] = r.Message
	}
	for _, r := range p.Rows {
		if r.Err != nil && msgs[r.Row] != r.Err.Message {
			t.Errorf("row %d: preview says %q, the import %q", r.Row, r.Err.Message, msgs[r.Row])
		}
	}
}
