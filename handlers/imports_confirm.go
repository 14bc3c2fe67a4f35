package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// submitMapping handles the mapping page: "Update preview" shows the rows
// with the choices as typed; "Start import" checks everything, records the
// consent declaration with who confirmed it, queues the job and goes to
// the progress page. Problems come back next to their fields (422) with
// every choice kept. A second click on Start finds the import queued and
// just goes to its progress page; the job is unique per import anyway.
func (ih *importsHandler) submitMapping(c echo.Context) error {
	ctx := c.Request().Context()
	tn, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	progressURL := "/contacts/imports/" + strconv.FormatInt(imp.ID, 10)
	if !imp.NeedsMapping() {
		return redirect(c, progressURL)
	}
	f := views.NewForm()
	bindFields(c, f, mappingFields(len(imp.Headers))...)
	plan := planFrom(f, len(imp.Headers))
	if c.FormValue("action") != "start" {
		if err := imports.SaveDraft(ctx, tn, imp.ID, imp.Headers, plan); err != nil && !errors.Is(err, models.ErrConflict) {
			return err
		}
		return ih.renderMapping(c, http.StatusOK, imp, f)
	}
	checked, err := plan.Check(imp.Headers, ih.s.DB.Now(), imp.Location())
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		if err := imports.SaveDraft(ctx, tn, imp.ID, imp.Headers, plan); err != nil && !errors.Is(err, models.ErrConflict) {
			return err
		}
		return ih.renderMapping(c, http.StatusUnprocessableEntity, imp, f)
	}
	if _, err := ih.imports.Start(ctx, tn, imp.ID, checked, actor(c).User); errors.Is(err, models.ErrConflict) {
		return redirect(c, progressURL)
	} else if err != nil {
		return err
	}
	return redirect(c, progressURL)
}
