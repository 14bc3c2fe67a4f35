package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// list shows the business's imports, newest first.
func (ih *importsHandler) list(c echo.Context) error {
	tn, err := ih.tenant(c)
	if err != nil {
		return err
	}
	imps, err := imports.List(c.Request().Context(), tn, 100)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.ImportsListPage(web.NewPage(c, "imports.list.title", "contacts"), views.ImportsListVM{Imports: imps}))
}
