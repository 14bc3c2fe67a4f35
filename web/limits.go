package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/views"
)

// SmallBodyBytes is the body limit of every route that is not an upload
// route: forms are a few kilobytes.
const SmallBodyBytes = 1 << 20

// UploadOverhead is what a multipart body may carry beside its file:
// boundaries, part headers, the CSRF field, a long file name.
const UploadOverhead = 16 << 10

var (
	// ErrUploadTooLarge: the body announced is larger than the route's
	// limit; nothing was read.
	ErrUploadTooLarge = errors.New("upload larger than the limit")
	// ErrNotUpload: the request is not a multipart upload to an upload
	// route.
	ErrNotUpload = errors.New("not a multipart upload")
	// errUploadGate is what reading an upload body directly gives: only
	// MultipartReader hands it out, after the CSRF token was checked.
	errUploadGate = errors.New("upload body read before its CSRF token was checked; use web.MultipartReader")
)

// AllowUpload makes POST path an upload route: it alone may take a
// multipart body, of at most maxFile plus UploadOverhead bytes. Its form
// must send the _csrf field before the file (or the X-CSRF-Token header);
// the handler reads the body with MultipartReader.
func (s *Server) AllowUpload(path string, maxFile int64) {
	s.uploads[path] = maxFile + UploadOverhead
}

// AllowRawBody makes POST path take a raw (non-multipart) body of up to
// limit bytes instead of SmallBodyBytes: the platform's webhook, whose
// body is JSON that must reach the handler byte for byte (its signature
// covers the raw bytes). The body is not parsed as a form.
func (s *Server) AllowRawBody(path string, limit int64) {
	s.rawBodies[path] = limit
}

// uploadState is an upload request's body, kept away from the handler
// until the CSRF token in its first part (or header) was checked.
type uploadState struct {
	limit     int64
	tooLarge  bool          // announced over the limit: nothing is read
	body      io.ReadCloser // the real body, capped at limit
	boundary  string
	mr        *multipart.Reader
	csrfDone  bool
	handedOut bool
}

func uploadFrom(c echo.Context) *uploadState {
	st, _ := c.Request().Context().Value(uploadKey).(*uploadState)
	return st
}

// gatedBody stands in for an upload's body: reading it fails, so neither
// Request.MultipartReader nor ParseMultipartForm (temporary files) can
// get at the file before the token was checked.
type gatedBody struct{ io.Closer }

func (gatedBody) Read([]byte) (int, error) { return 0, errUploadGate }

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get(echo.HeaderContentType))), "multipart/")
}

// limitMiddleware is the boundary every request crosses before sessions
// and CSRF. Upload routes get their own limit and a gated body; every
// other route gets SmallBodyBytes and no multipart body at all (refused
// with 415 before a byte is parsed, so no temporary file is ever
// written). On page paths the query and url-encoded form are parsed
// here and refused (400) if a value holds a NUL byte or invalid UTF-8,
// so no handler can forget it: PostgreSQL refuses both in text.
func (s *Server) limitMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		defer func() { // a parsed multipart form never outlives its request
			for _, req := range []*http.Request{r, c.Request()} {
				if req.MultipartForm != nil {
					_ = req.MultipartForm.RemoveAll()
				}
			}
		}()
		page := isPagePath(r.URL.Path)
		if page {
			if name, bad := badField(r.URL.Query()); bad {
				return s.refuse(c, http.StatusBadRequest, "error.bad_request.title", "error.bad_text", strconv.Quote(name))
			}
		}
		if limit, ok := s.uploads[c.Path()]; ok && r.Method == http.MethodPost && isMultipart(r) {
			st := &uploadState{limit: limit, tooLarge: r.ContentLength > limit}
			if _, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil {
				st.boundary = params["boundary"]
			}
			st.body = http.MaxBytesReader(c.Response(), r.Body, limit)
			r.Body = gatedBody{st.body}
			setCtx(c, uploadKey, st)
			return next(c)
		}
		if limit, ok := s.rawBodies[c.Path()]; ok && r.Method == http.MethodPost {
			if r.ContentLength > limit {
				return c.NoContent(http.StatusRequestEntityTooLarge)
			}
			if isMultipart(r) {
				return c.NoContent(http.StatusUnsupportedMediaType)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
		if r.ContentLength > SmallBodyBytes {
			return s.refuse(c, http.StatusRequestEntityTooLarge, "error.too_large.title", "error.too_large.small")
		}
		if isMultipart(r) {
			return s.refuse(c, http.StatusUnsupportedMediaType, "error.bad_request.title", "error.no_upload")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, SmallBodyBytes)
		if !page {
			return next(c)
		}
		// The form is parsed here, under the limit; a malformed pair is
		// dropped as before, a body over the limit is refused.
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return s.refuse(c, http.StatusRequestEntityTooLarge, "error.too_large.title", "error.too_large.small")
			}
		}
		if name, bad := badField(r.PostForm); bad {
			return s.refuse(c, http.StatusBadRequest, "error.bad_request.title", "error.bad_text", strconv.Quote(name))
		}
		return next(c)
	}
}

// badField is the first field (by name) whose name or a value is not
// clean text.
func badField(v url.Values) (string, bool) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !cleanText(k) {
			return k, true
		}
		for _, x := range v[k] {
			if !cleanText(x) {
				return k, true
			}
		}
	}
	return "", false
}

func cleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// refuse answers with the error page and a precise text.
func (s *Server) refuse(c echo.Context, status int, titleKey, textKey string, args ...any) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	// The limits run before the page middleware has chosen the locale.
	if _, ok := c.Request().Context().Value(localeKey).(*i18n.Locale); !ok {
		setCtx(c, localeKey, i18n.Match(c.Request().Header.Get("Accept-Language")))
	}
	p := basePage(c, titleKey)
	return Render(c, status, views.ErrorPage(p, status, p.L.T(textKey, args...)))
}

// checkUploadCSRF reads an upload's first part, which must be the _csrf
// field, and compares it with want. Nothing of the file has been read.
// A body announced over the limit is not read at all: MultipartReader
// then answers ErrUploadTooLarge and the handler refuses it.
func (st *uploadState) checkCSRF(want string) error {
	if st.tooLarge {
		return nil
	}
	if st.boundary == "" {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	mr := multipart.NewReader(st.body, st.boundary)
	part, err := mr.NextPart()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return echo.NewHTTPError(http.StatusForbidden, "csrf")
	}
	if part.FormName() != "_csrf" || part.FileName() != "" {
		return echo.NewHTTPError(http.StatusForbidden, "csrf")
	}
	got, err := io.ReadAll(io.LimitReader(part, 256))
	if err != nil || subtle.ConstantTimeCompare(got, []byte(want)) != 1 {
		return echo.NewHTTPError(http.StatusForbidden, "csrf")
	}
	st.mr, st.csrfDone = mr, true
	return nil
}

// MultipartReader hands an upload route's handler the multipart body,
// after the _csrf field (the first part) was checked; the parts that
// follow are the form's. The body is capped at the route's limit
// (reading past it gives *http.MaxBytesError). It can be called once.
func MultipartReader(c echo.Context) (*multipart.Reader, error) {
	st := uploadFrom(c)
	if st == nil || st.handedOut {
		return nil, ErrNotUpload
	}
	if st.tooLarge {
		return nil, ErrUploadTooLarge
	}
	if !st.csrfDone {
		return nil, errUploadGate
	}
	st.handedOut = true
	if st.mr == nil { // token came in the header
		if st.boundary == "" {
			return nil, ErrNotUpload
		}
		st.mr = multipart.NewReader(st.body, st.boundary)
	}
	return st.mr, nil
}
