package handlers

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/web"
)

var (
	errTooLarge  = errors.New("upload too large")
	errNoFile    = errors.New("no file chosen")
	errBadUpload = errors.New("malformed upload")
)

type upload struct {
	Name string
	Data []byte
}

// readUpload takes the one file in field from a multipart body without
// ever writing it to disk: a body announced larger than max is refused
// before reading (413), the body is capped while streaming, and the file
// is read into memory up to max+1 bytes. Never trust the file name or the
// part's Content-Type: callers check the bytes.
func readUpload(c echo.Context, field string, max int64) (*upload, error) {
	// The body limit (registered per route in routes.go) and the _csrf
	// field before the file are enforced before the reader is handed out.
	mr, err := web.MultipartReader(c)
	if errors.Is(err, web.ErrUploadTooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, errBadUpload
	}
	var up *upload
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadErr(err)
		}
		if part.FormName() != field || part.FileName() == "" || up != nil {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, uploadErr(err)
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, max+1))
		if err != nil {
			return nil, uploadErr(err)
		}
		if int64(len(data)) > max {
			return nil, errTooLarge
		}
		up = &upload{Name: part.FileName(), Data: data}
	}
	if up == nil {
		return nil, errNoFile
	}
	return up, nil
}

func uploadErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return errBadUpload
}

// serveBlob sends a stored file with the type recorded when it was
// checked, never sniffed again: private caching, nosniff, inline with a
// safe file name. Range requests work (PDF viewers use them).
func (ph *profileHandler) serveBlob(c echo.Context, key, contentType, name, cacheControl string, modified time.Time) error {
	f, err := ph.files.Open(c.Request().Context(), key)
	if errors.Is(err, blobstore.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	// The file is not a page: no scripts, nothing loaded from elsewhere.
	// Same-origin framing is allowed so the review page can show a PDF.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	http.ServeContent(c.Response(), c.Request(), "", modified, f)
	return nil
}
