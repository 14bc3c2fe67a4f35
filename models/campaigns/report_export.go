package campaigns

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// ExportColumns are the message export's columns.
var ExportColumns = []string{"message_id", "phone", "name", "state", "skip_reason", "error_code", "error_title", "error_detail",
	"attempts", "created_at", "claimed_at", "accepted", "sent_at", "delivered_at", "read_at", "failed_at"}

// exportPage is how many messages the export reads at a time.
const exportPage = 1000

// Export writes campaign id's messages matching f (its cursor and limit
// ignored) to w as CSV (UTF-8 with a byte order mark, CRLF, every cell
// through importer.SafeCell so a value like =HYPERLINK(…) stays text) or,
// with xlsx, as a workbook of text cells. It reads the messages in pages
// by id and writes each page as it comes (CSV; the workbook is written
// at the end by excelize's stream writer, which spills to a temporary
// file). Nothing is written before the first page is read, so a failing
// query leaves w untouched. It returns the number of messages written.
func Export(ctx context.Context, tn models.Tenant, id int64, f MessageFilter, xlsx bool, w io.Writer) (int, error) {
	c, err := reportCampaign(ctx, tn, id)
	if err != nil {
		return 0, err
	}
	f.Cursor, f.Limit = 0, exportPage
	rows, next, err := messagePage(ctx, tn, c.ID, f)
	if err != nil {
		return 0, err
	}
	var sink exportSink
	if xlsx {
		sink, err = newXLSXSink(w)
	} else {
		sink, err = newCSVSink(w)
	}
	if err != nil {
		return 0, models.Wrap("campaigns.Export", err)
	}
	if err := sink.row(append([]string(nil), ExportColumns...)); err != nil {
		return 0, models.Wrap("campaigns.Export", err)
	}
	n := 0
	for {
		for _, m := range rows {
			if err := sink.row(exportCells(m)); err != nil {
				return n, models.Wrap("campaigns.Export", err)
			}
			n++
		}
		if next == 0 {
			break
		}
		f.Cursor = next
		if rows, next, err = messagePage(ctx, tn, c.ID, f); err != nil {
			return n, err
		}
	}
	return n, models.Wrap("campaigns.Export", sink.close())
}

func exportCells(m MessageRow) []string {
	code := ""
	if m.ErrorCode != nil {
		code = strconv.Itoa(*m.ErrorCode)
	}
	accepted := "no"
	if m.WAMID != nil {
		accepted = "yes"
	}
	return []string{strconv.FormatInt(m.ID, 10), m.Phone, m.ContactName, m.State, m.SkipReason, code, m.ErrorTitle, m.ErrorDetail,
		strconv.Itoa(m.Attempts), isoTime(&m.CreatedAt), isoTime(m.ClaimedAt), accepted, isoTime(m.SentAt), isoTime(m.DeliveredAt),
		isoTime(m.ReadAt), isoTime(m.FailedAt)}
}

func isoTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type exportSink interface {
	row(cells []string) error
	close() error
}

type csvSink struct {
	bw *bufio.Writer
	cw *csv.Writer
}

func newCSVSink(w io.Writer) (*csvSink, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	return &csvSink{bw: bw, cw: cw}, nil
}

func (s *csvSink) row(cells []string) error {
	for j := range cells {
		cells[j] = importer.SafeCell(cells[j])
	}
	return s.cw.Write(cells)
}

func (s *csvSink) close() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}

// xlsxMaxCell is the most characters Excel keeps in a cell.
const xlsxMaxCell = 32767

type xlsxSink struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	n    int
	vals []any
}

func newXLSXSink(w io.Writer) (*xlsxSink, error) {
	f := excelize.NewFile()
	const sheet = "Messages"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	return &xlsxSink{w: w, f: f, sw: sw}, nil
}

func (s *xlsxSink) row(cells []string) error {
	s.n++
	s.vals = s.vals[:0]
	for _, c := range cells {
		s.vals = append(s.vals, excelize.Cell{Value: models.Clip(c, xlsxMaxCell)})
	}
	cell, err := excelize.CoordinatesToCellName(1, s.n)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, s.vals)
}

func (s *xlsxSink) close() error {
	defer s.f.Close()
	if err := s.sw.Flush(); err != nil {
		return err
	}
	return s.f.Write(s.w)
}
