package contactimport

import (
	"context"
	"errors"
	"io"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// Analysis is what the upload step learns from reading a file once.
type Analysis struct {
	Format  importer.Format  // as detected, or as the user chose
	Header  []string         // cleaned column names
	Rows    int              // data rows
	Mapping importer.Mapping // proposed by importer.DetectMapping
}

// HasPhone reports whether a column was recognised as the phone number.
func (a Analysis) HasPhone() bool {
	for _, c := range a.Mapping.Columns {
		if c.Field == importer.FieldPhone {
			return true
		}
	}
	return false
}

// refusedRowCodes are row problems that mean the file as a whole was
// read wrongly (the wrong encoding) or is not a contact list: the upload
// is refused, naming the row, instead of importing it with the rows lost.
var refusedRowCodes = map[string]bool{importer.CodeInvalidUTF8: true, importer.CodeTooManyColumns: true}

// Analyze reads a whole uploaded file: it refuses what cannot be
// imported (an empty file, only a header, not text, a broken header,
// invalid UTF-8 or a row of thousands of columns anywhere) with an
// *importer.Error whose Message says what is wrong, and otherwise counts
// the rows and proposes a mapping. Zero parts of f are detected.
func Analyze(ctx context.Context, r io.Reader, f importer.Format, limits importer.Limits) (Analysis, error) {
	var a Analysis
	rd, err := importer.NewReader(r, f, limits)
	if err != nil {
		return a, models.Wrap("contactimport.Analyze", err)
	}
	a.Format, a.Header = rd.Format(), rd.Header()
	for {
		if a.Rows%4096 == 0 && ctx.Err() != nil {
			return a, ctx.Err()
		}
		_, _, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var ie *importer.Error
		if err != nil {
			if !errors.As(err, &ie) || ie.Fatal || refusedRowCodes[ie.Code] {
				return a, models.Wrap("contactimport.Analyze", err)
			}
		}
		a.Rows++
	}
	a.Mapping = importer.DetectMapping(a.Header)
	return a, nil
}
