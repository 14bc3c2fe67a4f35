package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

func actor(c echo.Context) *web.Actor { return web.ActorFrom(c.Request().Context()) }

// pathID reads the id in the path parameter name.
func pathID(c echo.Context, name string) (int64, error) { return parseID(c.Param(name)) }

// parseID reads an id from the path, a form or a query value; a bad one
// is a page that does not exist.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return id, nil
}

// t translates in the request's locale.
func t(c echo.Context, key string, args ...any) string {
	return web.LocaleFrom(c.Request().Context()).T(key, args...)
}

func redirect(c echo.Context, to string) error { return c.Redirect(http.StatusSeeOther, to) }

func (h *Handler) tenant(c echo.Context) (models.Tenant, error) { return h.s.Tenant(c) }

// fromPath loads the row named by the :id path parameter through the
// actor's business scope with load; another business's row is
// models.ErrNotFound, which the error handler answers with 404.
func fromPath[T any](h *Handler, c echo.Context, load func(context.Context, models.Tenant, int64) (T, error)) (models.Tenant, T, error) {
	var zero T
	tn, id, err := h.scopedID(c)
	if err != nil {
		return tn, zero, err
	}
	row, err := load(c.Request().Context(), tn, id)
	return tn, row, err
}

// scopedID is the actor's business scope and the :id path parameter, for
// actions that hand the id to a Tenant method themselves.
func (h *Handler) scopedID(c echo.Context) (models.Tenant, int64, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return models.Tenant{}, 0, err
	}
	tn, err := h.tenant(c)
	return tn, id, err
}
