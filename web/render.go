package web

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
)

// NewPage builds the typed page every view receives: title, actor,
// locale, CSRF token, CSP nonce, flashes and the active navigation item.
func NewPage(c echo.Context, titleKey, nav string) views.Page {
	p := basePage(c, titleKey)
	p.Nav, p.Flashes = nav, takeFlashes(c)
	return p
}

// basePage is the page without flashes (an error page leaves them for the
// next page) and without an active navigation item.
func basePage(c echo.Context, titleKey string) views.Page {
	ctx := c.Request().Context()
	a := ActorFrom(ctx)
	l := LocaleFrom(ctx)
	p := views.Page{Title: l.T(titleKey), L: l, CSRF: CSRFToken(c), Nonce: NonceFrom(ctx),
		User: a.User, Business: a.Business, Path: c.Request().URL.Path}
	if a.Membership != nil {
		p.Role = a.Membership.Role
	}
	return p
}

// Render writes a templ component as an HTML response.
//
// The page is rendered into memory first and sent in one write with its
// length: a list page of 50 contacts is ~60 kB, which streamed through the
// server's 4 kB buffer cost a dozen chunked writes (system calls were a
// fifth of a list page's CPU), and an error halfway through a page now
// gives the error page instead of half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledRender {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// renderBuffers holds page buffers for reuse; one larger than
// maxPooledRender (a rare huge page) is left to the collector.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledRender = 1 << 20

// FormErrors translates a model ValidationError into per-field messages;
// any other error is returned for the error handler.
func FormErrors(c echo.Context, f *views.Form, err error) error {
	v, ok := models.AsValidation(err)
	if !ok {
		return err
	}
	l := LocaleFrom(c.Request().Context())
	for _, p := range v.Problems {
		if _, exists := f.Errors[p.Field]; !exists {
			f.SetError(p.Field, l.T(p.Key, p.Args...))
		}
	}
	return nil
}

// errorHandler renders every error as a page in the user's language:
// domain errors map to status codes; internals are never shown.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
	case errors.Is(err, models.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, models.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, models.ErrThrottled):
		status = http.StatusTooManyRequests
		// Every refusal for being busy or too quick says when to come back.
		var te *models.ThrottleError
		if errors.As(err, &te) && te.RetryAfterSeconds > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds))
		}
	}
	if status >= 500 && !errors.Is(err, errPanic) {
		s.Log.Error("request failed", "method", c.Request().Method, "route", c.Path(), "error", err.Error())
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	ctx := c.Request().Context()
	l := LocaleFrom(ctx)
	var key string
	switch status {
	case http.StatusNotFound:
		key = "error.not_found"
	case http.StatusForbidden:
		key = "error.forbidden"
		if he != nil && he.Message == "csrf" {
			key = "error.csrf"
		}
	case http.StatusRequestEntityTooLarge:
		key = "error.too_large"
	case http.StatusTooManyRequests:
		key = "error.too_many"
	case http.StatusMethodNotAllowed:
		key = "error.method"
	case http.StatusBadRequest:
		key = "error.bad_request"
	case http.StatusServiceUnavailable:
		key = "error.unavailable"
	default:
		if status < 500 {
			key = "error.bad_request"
		} else {
			key = "error.internal"
		}
	}
	p := basePage(c, key+".title")
	if rerr := Render(c, status, views.ErrorPage(p, status, l.T(key+".text"))); rerr != nil {
		s.Log.Warn("render error page", "error", rerr)
	}
}
