package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// adminQueue lists pending verification requests, oldest first, with the
// day's counts.
func (ph *profileHandler) adminQueue(c echo.Context) error {
	ctx := c.Request().Context()
	counts, err := ph.s.DB.VerificationCounts(ctx)
	if err != nil {
		return err
	}
	items, err := ph.s.DB.VerificationQueue(ctx, 200)
	if err != nil {
		return err
	}
	vm := views.AdminQueueVM{Counts: counts, Items: items, Now: ph.s.DB.Now()}
	return web.Render(c, http.StatusOK, views.AdminQueuePage(web.NewPage(c, "review.queue_title", "admin"), vm))
}
