package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// TestRenderSendsWholePages: a page goes out in one piece with its length,
// and a component that fails halfway sends nothing, so the error handler
// can still answer with an error page instead of half a page.
func TestRenderSendsWholePages(t *testing.T) {
	t.Parallel()
	e := echo.New()
	big := strings.Repeat("<p>Kunde</p>", 10000)
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	ok := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, big)
		return err
	})
	if err := Render(c, http.StatusOK, ok); err != nil {
		t.Fatal(err)
	}
	if rec.Body.String() != big || rec.Header().Get("Content-Length") != strconv.Itoa(len(big)) {
		t.Errorf("page of %d bytes sent as %d bytes with Content-Length %q", len(big), rec.Body.Len(), rec.Header().Get("Content-Length"))
	}

	rec = httptest.NewRecorder()
	c = e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		io.WriteString(w, "<h1>half") //nolint:errcheck // the failure follows
		return errors.New("view failed")
	})
	if err := Render(c, http.StatusOK, broken); err == nil || c.Response().Committed || rec.Body.Len() != 0 {
		t.Errorf("a failing view: err %v, committed %v, body %q", err, c.Response().Committed, rec.Body.String())
	}
}
