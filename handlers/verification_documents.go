package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// uploadDocument adds a supporting document (owners only): PDF, JPEG or
// PNG by content, at most 10 MB, at most 5 at a time.
func (ph *profileHandler) uploadDocument(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	docs, err := profiles.CurrentDocuments(ctx, tn)
	if err != nil {
		return err
	}
	if len(docs) >= profiles.MaxDocuments {
		return ph.documentRefused(c, http.StatusUnprocessableEntity, t(c, "doc.too_many", profiles.MaxDocuments))
	}
	up, err := readUpload(c, "document", profiles.DocumentMaxBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return ph.documentRefused(c, http.StatusRequestEntityTooLarge, t(c, "doc.too_large", profiles.DocumentMaxBytes>>20))
	case errors.Is(err, errNoFile):
		return ph.documentRefused(c, http.StatusUnprocessableEntity, t(c, "doc.missing"))
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	ct, ext, err := profiles.CheckDocument("document", up.Data)
	if v, ok := models.AsValidation(err); ok {
		return ph.documentRefused(c, http.StatusUnprocessableEntity, t(c, v.Problems[0].Key, v.Problems[0].Args...))
	}
	key := blobstore.NewKey("documents/"+strconv.FormatInt(tn.BusinessID(), 10), ext)
	if _, err := ph.files.Put(ctx, key, bytes.NewReader(up.Data)); err != nil {
		return err
	}
	sum := sha256.Sum256(up.Data)
	name := profiles.SafeFileName(up.Name, ext)
	d, err := profiles.AddDocument(ctx, tn, actor(c).User, key, name, ct, int64(len(up.Data)), hex.EncodeToString(sum[:]), c.RealIP())
	if err != nil {
		_ = ph.files.Delete(ctx, key)
		if v, ok := models.AsValidation(err); ok {
			return ph.documentRefused(c, http.StatusUnprocessableEntity, t(c, v.Problems[0].Key, v.Problems[0].Args...))
		}
		return err
	}
	web.Flash(c, "success", t(c, "doc.saved", d.Name))
	return redirect(c, "/verification#documents")
}

func (ph *profileHandler) documentRefused(c echo.Context, status int, msg string) error {
	df := views.NewForm()
	df.SetError("document", msg)
	vm, err := ph.verificationVM(c, nil, df)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "verify.title", "profile")
	p.Flashes = append(p.Flashes, views.Flash{Kind: "error", Text: msg})
	return web.Render(c, status, views.VerificationPage(p, vm))
}

func (ph *profileHandler) removeDocument(c echo.Context) error {
	tn, id, err := ph.scopedID(c)
	if err != nil {
		return err
	}
	key, err := profiles.RemoveDocument(c.Request().Context(), tn, actor(c).User, id, c.RealIP())
	if err != nil {
		return err
	}
	ph.deleteFile(c, key)
	web.Flash(c, "success", t(c, "doc.removed"))
	return redirect(c, "/verification#documents")
}

// serveDocument sends a document to the owners of its business and to
// administrators; another business's id gives 404, staff are denied (403,
// audited) as on the verification page itself.
func (ph *profileHandler) serveDocument(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actor(c)
	var d *profiles.VerificationDocument
	switch {
	case a.IsAdmin():
		d, err = profiles.DocumentByID(ctx, ph.s.DB, id)
	case a.Membership != nil && !a.IsOwner():
		return ph.denied(c)
	case a.Membership != nil:
		tn, terr := ph.tenant(c)
		if terr != nil {
			return terr
		}
		d, err = profiles.Document(ctx, tn, id)
	default:
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return ph.serveBlob(c, d.BlobKey, d.ContentType, d.Name, "private, no-store", d.CreatedAt)
}
