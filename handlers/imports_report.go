package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/contactimport"
)

// errorReport downloads the rejected rows of an import as CSV: row number,
// column, reason, then the row's values as read, every cell neutralised
// against spreadsheet formulas; UTF-8 with a byte order mark, separated by
// semicolons when the upload was.
func (ih *importsHandler) errorReport(c echo.Context) error {
	tn, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, imp.ID))
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	return contactimport.WriteReport(c.Request().Context(), c.Response(), tn, imp)
}

// repeatsReport downloads the numbers an import found repeated in its
// file, with their rows, as CSV in the error report's dialect.
func (ih *importsHandler) repeatsReport(c echo.Context) error {
	tn, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="import-%d-repeats.csv"`, imp.ID))
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	return contactimport.WriteRepeatsReport(c.Request().Context(), c.Response(), tn, imp)
}
