package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
)

func TestBadField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v     url.Values
		field string
		bad   bool
	}{
		{url.Values{"tag": {"vip"}, "q": {"Müller"}}, "", false},
		{url.Values{"tag": {"a\x00"}}, "tag", true},
		{url.Values{"q": {"ok"}, "lang": {"\xff"}}, "lang", true},
		{url.Values{"a\x00": {"x"}}, "a\x00", true},
		{url.Values{"b": {"ok", "\xc3"}, "z": {"\x00"}}, "b", true},
	} {
		field, bad := badField(tc.v)
		if field != tc.field || bad != tc.bad {
			t.Errorf("%v: got %q %v", tc.v, field, bad)
		}
	}
	if m := i18n.Default.T("error.bad_text", strconv.Quote("e\x00")); !strings.Contains(m, `"e\x00"`) {
		t.Errorf("message does not quote the name: %q", m)
	}
}

func TestGatedBodyCannotBeRead(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("--b\r\n"))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	r.Body = gatedBody{io.NopCloser(nil)}
	if err := r.ParseMultipartForm(1 << 20); err == nil {
		t.Fatal("a gated upload body was parsed")
	}
}

// TestLimitMiddlewareNonPage: routes that are not pages (webhooks) get
// the small limit and no multipart either.
func TestLimitMiddlewareNonPage(t *testing.T) {
	t.Parallel()
	e := echo.New()
	s := &Server{Echo: e, uploads: map[string]int64{}}
	reached := 0
	e.Use(s.limitMiddleware)
	e.POST("/webhooks/x", func(c echo.Context) error {
		reached++
		_, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		return c.NoContent(http.StatusOK)
	})
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("a", "b")
	_ = w.Close()
	for _, tc := range []struct {
		body   io.Reader
		ct     string
		length bool
		want   int
	}{
		{strings.NewReader("{}"), "application/json", true, http.StatusOK},
		{&b, w.FormDataContentType(), true, http.StatusUnsupportedMediaType},
		{strings.NewReader(strings.Repeat("x", SmallBodyBytes+1)), "application/json", true, http.StatusRequestEntityTooLarge},
		{io.MultiReader(strings.NewReader(strings.Repeat("x", SmallBodyBytes+1))), "application/json", false, http.StatusRequestEntityTooLarge},
	} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/x", tc.body)
		if !tc.length {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", tc.ct)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.ct, rec.Code, tc.want)
		}
	}
	if reached != 2 {
		t.Errorf("handler reached %d times, want 2", reached)
	}
}
