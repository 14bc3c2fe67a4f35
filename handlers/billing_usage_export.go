package handlers

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
)

// usageColumns head the usage download.
var usageColumns = []string{"message_id", "billed_at_utc", "day", "category", "country", "to", "template",
	"unit_price", "currency", "billable", "rule", "platform_pricing_type", "period"}

func usageCells(u billing.UsageLine) []string {
	return []string{strconv.FormatInt(u.MessageID, 10), u.BilledAt.UTC().Format(time.RFC3339), u.Day, u.Category, u.Country,
		u.To, u.Template, u.UnitPrice.String(), u.Currency, strconv.FormatBool(u.Billable), u.Rule, u.PlatformType, u.Period}
}

// usageQuery reads ?invoice=ID (that invoice's lines, through the
// business's scope: another business's invoice is 404) or ?month=YYYY-MM
// (default this month); name is the file's name without extension.
func (bh *billingHandler) usageQuery(c echo.Context) (models.Tenant, billing.UsageQuery, string, error) {
	tn, err := bh.tenant(c)
	if err != nil {
		return tn, billing.UsageQuery{}, "", err
	}
	if s := c.QueryParam("invoice"); s != "" {
		id, err := parseID(s)
		if err != nil {
			return tn, billing.UsageQuery{}, "", err
		}
		inv, err := billing.InvoiceByID(c.Request().Context(), tn, id)
		if err != nil {
			return tn, billing.UsageQuery{}, "", err
		}
		name := inv.NumberOr()
		if name == "" {
			name = strconv.FormatInt(inv.ID, 10)
		}
		return tn, billing.UsageQuery{InvoiceID: inv.ID}, "usage-" + name, nil
	}
	month := c.QueryParam("month")
	if month == "" {
		month = bh.s.DB.Now().UTC().Format("2006-01")
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return tn, billing.UsageQuery{}, "", echo.NewHTTPError(http.StatusBadRequest, t(c, "billing_ui.export_bad_month"))
	}
	return tn, billing.UsageQuery{Month: month}, "usage-" + month, nil
}

// usageCSV streams the usage lines as CSV (UTF-8 with BOM, CRLF; every
// cell through importer.SafeCell, so nothing is run as a formula).
func (bh *billingHandler) usageCSV(c echo.Context) error {
	tn, q, name, err := bh.usageQuery(c)
	if err != nil {
		return err
	}
	lw := &lazyCSV{c: c, name: name + ".csv", contentType: "text/csv; charset=utf-8"}
	// Nothing goes out before the first line is read: a failing query is
	// the error page. The header waits in the buffer until then.
	bw := bufio.NewWriterSize(lw, 32<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if c.QueryParam("sep") == "semicolon" {
		cw.Comma = ';'
	}
	_, _ = bw.WriteString("\ufeff")
	_ = cw.Write(usageColumns)
	n := 0
	err = billing.EachUsageLine(c.Request().Context(), tn, q, func(u billing.UsageLine) error {
		cells := usageCells(u)
		for i := range cells {
			cells[i] = importer.SafeCell(cells[i])
		}
		n++
		return cw.Write(cells)
	})
	if err != nil {
		if !lw.started {
			return err
		}
		bh.s.Log.Warn("usage export failed", "rows", n, "error", err)
		return nil
	}
	cw.Flush()
	if err := bw.Flush(); err != nil {
		bh.s.Log.Warn("usage export failed", "rows", n, "error", err)
	}
	return nil
}

// usageXLSX sends the usage lines as an Excel workbook of text cells.
func (bh *billingHandler) usageXLSX(c echo.Context) error {
	tn, q, name, err := bh.usageQuery(c)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Usage"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := 0
	write := func(cells []string) error {
		row++
		vals := make([]any, len(cells))
		for i, s := range cells {
			vals[i] = excelize.Cell{Value: s}
		}
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, vals)
	}
	if err := write(usageColumns); err != nil {
		return err
	}
	if err := billing.EachUsageLine(c.Request().Context(), tn, q, func(u billing.UsageLine) error { return write(usageCells(u)) }); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	lw := &lazyCSV{c: c, name: name + ".xlsx", contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
	return f.Write(lw)
}
