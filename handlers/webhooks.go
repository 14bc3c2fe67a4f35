package handlers

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/channel/webhook"
)

// webhooksHandler is the platform's webhook: a thin layer over the intake.
type webhooksHandler struct {
	intake *webhook.Engine
}

// handshake answers the platform's webhook set-up: the challenge when
// hub.verify_token is ours, 403 otherwise.
func (h *webhooksHandler) handshake(c echo.Context) error {
	q := c.QueryParams()
	challenge, ok := h.intake.Handshake(q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge"))
	if !ok {
		return c.String(http.StatusForbidden, "forbidden\n")
	}
	return c.String(http.StatusOK, challenge)
}

// receive takes a POST from the platform: the raw body (capped by the
// route's limit), its signature checked over those bytes (401 when missing
// or wrong, and nothing stored), then stored durably and answered; the
// processing runs on the job queue.
func (h *webhooksHandler) receive(c echo.Context) error {
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		return c.NoContent(http.StatusBadRequest)
	}
	if !h.intake.Signed(raw, c.Request().Header.Get("X-Hub-Signature-256")) {
		return c.NoContent(http.StatusUnauthorized)
	}
	if err := h.intake.Accept(c.Request().Context(), raw); err != nil {
		return c.NoContent(http.StatusServiceUnavailable) // the platform retries
	}
	return c.NoContent(http.StatusOK)
}
