package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// showUpload is the first step of an import: choose the file, the default
// country and what to do with numbers already in the contact book.
func (ih *importsHandler) showUpload(c echo.Context) error {
	tn, err := ih.tenant(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["region"], _ = defaultRegion(c, tn)
	f.Values["policy"] = "update"
	return ih.renderUpload(c, http.StatusOK, f, "")
}

func (ih *importsHandler) renderUpload(c echo.Context, status int, f *views.Form, fileError string) error {
	vm := views.ImportUploadVM{Form: f, Countries: regionOptions(c), MaxSize: sizeText(c, ih.s.Config.MaxUploadBytes), FileError: fileError}
	return web.Render(c, status, views.ImportUploadPage(web.NewPage(c, "imports.new.title", "contacts"), vm))
}
