package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/web"
)

// cancel stops an import. One waiting for its mapping is discarded with
// its file; a queued or running one stops within a batch, keeping the
// rows already imported (the job removes the file).
func (ih *importsHandler) cancel(c echo.Context) error {
	ctx := c.Request().Context()
	tn, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	before, err := imports.Cancel(ctx, tn, imp.ID, actor(c).User)
	switch {
	case errors.Is(err, models.ErrConflict):
		web.Flash(c, "info", t(c, "imports.cancel.too_late"))
		return redirect(c, "/contacts/imports/"+strconv.FormatInt(imp.ID, 10))
	case err != nil:
		return err
	}
	if before == imports.ImportUploaded || before == imports.ImportMapping {
		if err := ih.files.Delete(context.WithoutCancel(ctx), imp.FileKey); err != nil {
			ih.s.Log.Warn("remove discarded upload", "import", imp.ID, "error", err.Error())
		}
		web.Flash(c, "success", t(c, "imports.cancel.discarded", imp.FileName))
		return redirect(c, "/contacts/imports")
	}
	web.Flash(c, "success", t(c, "imports.cancel.done"))
	return redirect(c, "/contacts/imports/"+strconv.FormatInt(imp.ID, 10))
}
