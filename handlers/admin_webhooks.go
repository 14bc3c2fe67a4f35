package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/webhooks"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// adminWebhooks lists the webhook events no business took (unknown
// phone-number ids, statuses of unknown messages), with counts.
func (h *Handler) adminWebhooks(c echo.Context) error {
	r, err := webhooks.ForReview(c.Request().Context(), h.s.DB, 100)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.AdminWebhooksPage(web.NewPage(c, "webhooks.title", "admin"), views.AdminWebhooksVM{Review: r}))
}
