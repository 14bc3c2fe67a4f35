package handlers

import (
	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// importsHandler serves the contact import: upload, mapping, progress,
// history and error reports. Uploaded files live in the blob store
// (PORTAL_DATA_DIR/files/imports/<business>/…) until their import ends;
// the job (package contactimport) does the importing.
type importsHandler struct {
	*Handler
	files   blobstore.Store
	imports *contactimport.Engine
}

// load returns the actor's business scope and the import named in the
// path; another business's import is not found (404).
func (ih *importsHandler) load(c echo.Context) (models.Tenant, *imports.Import, error) {
	return fromPath(ih.Handler, c, imports.Get)
}

// defaultRegion is the business's country when its profile names one
// the importer knows, else Germany.
func defaultRegion(c echo.Context, tn models.Tenant) (region, zone string) {
	region, zone = "DE", "UTC"
	prof, err := profiles.Get(c.Request().Context(), tn)
	if err != nil {
		return region, zone
	}
	if imports.ValidImportRegion(prof.Country) {
		region = prof.Country
	}
	if prof.TimeZone != "" {
		zone = prof.TimeZone
	}
	return region, zone
}

// regionLabel is a country's name in the user's language with its code:
// "Germany (DE)".
func regionLabel(c echo.Context, code string) string {
	return regionName(display.Regions(language.Make(web.LocaleFrom(c.Request().Context()).Tag)), code)
}

func regionName(names display.Namer, code string) string {
	if r, err := language.ParseRegion(code); err == nil {
		if n := names.Name(r); n != "" {
			return n + " (" + code + ")"
		}
	}
	return code
}

// regionOptions lists the countries with phone numbering, by name in the
// user's language.
func regionOptions(c echo.Context) []views.Option {
	return localeList(c, &regionLists, func(tag language.Tag) []views.Option {
		return sortedRegions(tag, imports.ValidImportRegion, regionName)
	})
}
