package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
)

// countSegment answers the form's live count: {"count": n, "text": "..."},
// or 422 with the first problem of the rule.
func (h *Handler) countSegment(c echo.Context) error {
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	var in segmentForm
	bindForm(c, &in) // FormValue reads the query of a GET
	rule, err := contacts.CleanRule(in.input())
	if v, ok := models.AsValidation(err); ok {
		p := v.Problems[0]
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"field": p.Field, "text": t(c, p.Key, p.Args...)})
	}
	n, err := contacts.SegmentCount(c.Request().Context(), tn, rule)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"count": n, "text": views.SegmentCountText(labels(c), n)})
}
