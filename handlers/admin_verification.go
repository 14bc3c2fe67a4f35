package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// adminQueue lists pending verification requests, oldest first, with the
// day's counts.
func (ph *profileHandler) adminQueue(c echo.Context) error {
	ctx := c.Request().Context()
	counts, err := profiles.Counts(ctx, ph.s.DB)
	if err != nil {
		return err
	}
	items, err := profiles.Queue(ctx, ph.s.DB, 200)
	if err != nil {
		return err
	}
	vm := views.AdminQueueVM{Counts: counts, Items: items, Now: ph.s.DB.Now()}
	return web.Render(c, http.StatusOK, views.AdminQueuePage(web.NewPage(c, "review.queue_title", "admin"), vm))
}
