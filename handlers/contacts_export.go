package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// exportContacts streams the contacts matching the filter as CSV.
func (h *Handler) exportContacts(c echo.Context) error {
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	f := filterFrom(c, "", c.QueryParam)
	mf, err := h.modelFilter(c, tn, &f)
	if err != nil {
		return err
	}
	return h.streamExport(c, tn, exportSpec(c, contacts.ExportSpec{Filter: mf}), "contacts", "contacts", "filter")
}

// exportSegment streams a segment's messageable members as CSV.
func (h *Handler) exportSegment(c echo.Context) error {
	tn, seg, err := h.segmentFromPath(c)
	if err != nil {
		return err
	}
	return h.streamExport(c, tn, exportSpec(c, contacts.ExportSpec{SegmentID: seg.ID}), "segment-"+contactIDText(seg.ID), "segment", contactIDText(seg.ID))
}

// exportSpec adds the file format the link asked for: ?format=xlsx for an
// Excel workbook, ?sep=semicolon for CSV as German Excel reads it.
func exportSpec(c echo.Context, spec contacts.ExportSpec) contacts.ExportSpec {
	spec.XLSX = c.QueryParam("format") == "xlsx"
	spec.Semicolon = c.QueryParam("sep") == "semicolon"
	return spec
}

// streamExport writes the CSV as a download. Nothing is sent before the
// export's first write, which comes after its first query and first batch
// of rows (the export buffers): a query that fails gives the error page,
// not a 200 with an empty file. A failure half way is logged (the status
// line has gone out already).
func (h *Handler) streamExport(c echo.Context, tn models.Tenant, spec contacts.ExportSpec, name, targetType, targetID string) error {
	lw := &lazyCSV{c: c, name: name + "-" + h.s.DB.Now().Format("2006-01-02") + ".csv", contentType: "text/csv; charset=utf-8"}
	if spec.XLSX {
		lw.name, lw.contentType = strings.TrimSuffix(lw.name, ".csv")+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	n, err := contacts.Export(c.Request().Context(), tn, lw, spec)
	if err != nil {
		if !lw.started {
			return err
		}
		h.s.Log.Warn("export failed", "rows", n, "error", err)
	}
	h.auditContacts(c, "contacts.exported", targetType, targetID, "rows="+contactIDText(n))
	return nil
}

// lazyCSV sends the download's headers with its first byte.
type lazyCSV struct {
	c           echo.Context
	name        string
	contentType string
	started     bool
}

func (w *lazyCSV) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		hd := w.c.Response().Header()
		hd.Set(echo.HeaderContentType, w.contentType)
		hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(b)
}
