package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// uploadFields are the small form fields sent with the file.
var uploadFields = []string{"region", "policy", "encoding", "delimiter"}

// upload receives a contact file. The multipart body is read part by part
// and the file streamed straight into the blob store, never held in
// memory: a body announced larger than the limit is refused before
// reading (413), and the body is capped while streaming. The CSRF token
// is the form's first field and was checked before this handler runs. Whatever goes
// wrong after the first byte was stored, the stored file is removed.
// The file is then read once to refuse what cannot be imported, with the
// reason on the page (422), to count its rows and to propose a mapping.
func (ih *importsHandler) upload(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := ih.tenant(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	max := ih.s.Config.MaxUploadBytes
	// The route's body limit (max plus the form's overhead, registered in
	// routes.go) and the _csrf field before the file are enforced by
	// the web package before the reader is handed out.
	mr, err := web.MultipartReader(c)
	if errors.Is(err, web.ErrUploadTooLarge) {
		return ih.tooLarge(c, f)
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	key := blobstore.NewKey("imports/"+strconv.FormatInt(tn.BusinessID(), 10), ".csv")
	var up struct {
		stored bool
		name   string
		size   int64
		sum    string
	}
	cleanup := func() {
		if up.stored {
			if err := ih.files.Delete(context.WithoutCancel(ctx), key); err != nil {
				ih.s.Log.Warn("remove refused upload", "error", err.Error())
			}
		}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cleanup()
			return ih.uploadFailed(c, f, err)
		}
		switch name := part.FormName(); {
		case name == "file" && part.FileName() != "" && !up.stored:
			h := sha256.New()
			n, err := ih.files.Put(ctx, key, io.TeeReader(io.LimitReader(part, max+1), h))
			if err != nil { // Put leaves nothing behind
				return ih.uploadFailed(c, f, err)
			}
			up.stored, up.name, up.size, up.sum = true, part.FileName(), n, hex.EncodeToString(h.Sum(nil))
			if n > max {
				cleanup()
				return ih.tooLarge(c, f)
			}
		case slices.Contains(uploadFields, name):
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				cleanup()
				return ih.uploadFailed(c, f, err)
			}
			f.Values[name] = strings.TrimSpace(string(b))
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				cleanup()
				return ih.uploadFailed(c, f, err)
			}
		}
	}
	format, policy, err := imports.ImportOptions{Region: f.Value("region"), Policy: f.Value("policy"),
		Encoding: f.Value("encoding"), Delimiter: f.Value("delimiter")}.Check()
	if !up.stored {
		f.SetError("file", t(c, "imports.file_missing"))
	}
	if err != nil || !up.stored {
		cleanup()
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return ih.renderUpload(c, http.StatusUnprocessableEntity, f, "")
	}
	a, err := ih.analyze(ctx, key, format)
	var ie *importer.Error
	if errors.As(err, &ie) {
		cleanup()
		return ih.renderUpload(c, http.StatusUnprocessableEntity, f, ie.Message)
	}
	if err != nil {
		cleanup()
		return err
	}
	_, zone := defaultRegion(c, tn)
	imp, err := imports.Create(ctx, tn, imports.NewImport{By: actor(c).User, FileName: up.name, FileKey: key, FileSize: up.size, SHA256: up.sum,
		Format: a.Format, Headers: a.Header, Mapping: a.Mapping, Region: f.Value("region"), Policy: policy, TimeZone: zone, RowsTotal: int64(a.Rows)})

	if err != nil {
		cleanup()
		return err
	}
	return redirect(c, "/contacts/imports/"+strconv.FormatInt(imp.ID, 10)+"/mapping")
}

func (ih *importsHandler) analyze(ctx context.Context, key string, format importer.Format) (contactimport.Analysis, error) {
	file, err := ih.files.Open(ctx, key)
	if err != nil {
		return contactimport.Analysis{}, err
	}
	defer file.Close()
	return contactimport.Analyze(ctx, file, format, importer.Limits{})
}

func (ih *importsHandler) tooLarge(c echo.Context, f *views.Form) error {
	f.SetError("file", t(c, "imports.file_too_large", sizeText(c, ih.s.Config.MaxUploadBytes)))
	return ih.renderUpload(c, http.StatusRequestEntityTooLarge, f, "")
}

// uploadFailed maps a broken upload: over the limit (413) or malformed or
// cut off (400).
func (ih *importsHandler) uploadFailed(c echo.Context, f *views.Form, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return ih.tooLarge(c, f)
	}
	if c.Request().Context().Err() != nil {
		return c.Request().Context().Err()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "multipart") {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	return err
}
