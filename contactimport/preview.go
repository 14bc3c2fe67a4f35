package contactimport

import (
	"context"
	"errors"
	"io"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// PreviewRow is one row as it will be stored, or the reason it will not.
type PreviewRow struct {
	Row     int
	Raw     []string
	Contact importer.Contact
	Err     *importer.RowError
}

// Preview is the start of a file run through a mapping, without storing.
type Preview struct {
	Rows []PreviewRow // the first rows shown
	// Counts over the sampled rows.
	Sampled        int
	WithConsent    int // messageable: with consent, not a likely landline
	WithoutConsent int // imported, but not messageable
	Landlines      int // likely landlines (importer.Contact.Landline): imported, flagged, not messageable
	Errors         int
	Blank          int
	Complete       bool // the sample is the whole file
}

// BuildPreview maps the first sample rows of a file with m and d, keeping
// the first show non-blank ones for display.
func BuildPreview(ctx context.Context, r io.Reader, f importer.Format, m importer.Mapping, d importer.Defaults, show, sample int) (Preview, error) {
	var p Preview
	rd, err := importer.NewReader(r, f, importer.Limits{})
	if err != nil {
		return p, models.Wrap("contactimport.BuildPreview", err)
	}
	for p.Sampled < sample {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		row, rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			p.Complete = true
			break
		}
		var ie *importer.Error
		if err != nil && (!errors.As(err, &ie) || ie.Fatal) {
			return p, models.Wrap("contactimport.BuildPreview", err)
		}
		p.Sampled++
		pr := PreviewRow{Row: row, Raw: append([]string(nil), rec...)}
		switch {
		case ie != nil:
			re := ie.RowError(pr.Raw)
			pr.Err = &re
		case importer.BlankRecord(rec):
			p.Blank++
			continue
		default:
			c, rerr := importer.MapRow(row, rec, m, d)
			pr.Contact, pr.Err = c, rerr
		}
		switch {
		case pr.Err != nil:
			p.Errors++
		case pr.Contact.Landline:
			p.Landlines++
		case pr.Contact.HasConsent():
			p.WithConsent++
		default:
			p.WithoutConsent++
		}
		if len(p.Rows) < show {
			p.Rows = append(p.Rows, pr)
		}
	}
	return p, nil
}
