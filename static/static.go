// Package static embeds Optline's stylesheets, scripts and images.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed css js img
var files embed.FS

// FS is the embedded file tree.
var FS fs.FS = files

var (
	etags = map[string]string{}
	// bundle is every css/*.css file, app.css first, served as one
	// stylesheet at /static/bundle.css so areas keep their own files.
	bundle []byte
)

// BundlePath is the stylesheet URL the layout links.
const BundlePath = "bundle.css"

func init() {
	entries, _ := fs.ReadDir(files, "css")
	app, _ := files.ReadFile("css/app.css")
	bundle = append(bundle, app...)
	for _, e := range entries {
		if e.Name() == "app.css" || !strings.HasSuffix(e.Name(), ".css") {
			continue
		}
		b, _ := files.ReadFile("css/" + e.Name())
		bundle = append(bundle, "\n/* "+e.Name()+" */\n"...)
		bundle = append(bundle, b...)
	}
	bsum := sha256.Sum256(bundle)
	etags[BundlePath] = `"` + hex.EncodeToString(bsum[:8]) + `"`

	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
}

// Handler serves /static/* with an ETag and a day of caching; the files
// change only with a new binary.
func Handler() echo.HandlerFunc {
	return func(c echo.Context) error {
		name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
		etag, ok := etags[name]
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		h := c.Response().Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=86400")
		if c.Request().Header.Get("If-None-Match") == etag {
			return c.NoContent(http.StatusNotModified)
		}
		b, err := files.ReadFile(name)
		if name == BundlePath {
			b, err = bundle, nil
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		return c.Blob(http.StatusOK, ct, b)
	}
}
