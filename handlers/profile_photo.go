package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// uploadPhoto replaces the profile photo after checking its bytes: JPEG
// or PNG, square, 192 to 4096 px a side, at most 5 MB. The dimensions
// come from the header (profiles.CheckPhoto), so an image bomb is refused
// before any pixel is decoded. A refused photo comes back on the profile
// page with the precise reason.
func (ph *profileHandler) uploadPhoto(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	prof, err := profiles.Get(ctx, tn)
	if err != nil {
		return err
	}
	if !prof.CanEdit(a.Membership.Role) {
		return ph.denied(c)
	}
	up, err := readUpload(c, "photo", profiles.PhotoMaxBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return ph.photoRefused(c, http.StatusRequestEntityTooLarge, t(c, "photo.too_large", profiles.PhotoMaxBytes>>20))
	case errors.Is(err, errNoFile):
		return ph.photoRefused(c, http.StatusUnprocessableEntity, t(c, "photo.missing"))
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	info, err := profiles.CheckPhoto("photo", up.Data)
	if v, ok := models.AsValidation(err); ok {
		return ph.photoRefused(c, http.StatusUnprocessableEntity, t(c, v.Problems[0].Key, v.Problems[0].Args...))
	}
	key := blobstore.NewKey("photos/"+strconv.FormatInt(tn.BusinessID(), 10), info.Ext())
	if _, err := ph.files.Put(ctx, key, bytes.NewReader(up.Data)); err != nil {
		return err
	}
	old, err := profiles.SetPhoto(ctx, tn, a.User, a.Membership.Role, key, info, c.RealIP())
	if err != nil {
		_ = ph.files.Delete(ctx, key)
		if errors.Is(err, models.ErrForbidden) {
			return ph.denied(c)
		}
		return err
	}
	ph.deleteFile(c, old)
	web.Flash(c, "success", t(c, "photo.saved"))
	return redirect(c, "/profile#photo")
}

func (ph *profileHandler) photoRefused(c echo.Context, status int, msg string) error {
	pf := views.NewForm()
	pf.SetError("photo", msg)
	vm, err := ph.profileVM(c, nil, pf)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "profile.title", "profile")
	p.Flashes = append(p.Flashes, views.Flash{Kind: "error", Text: msg})
	return web.Render(c, status, views.ProfilePage(p, vm))
}

// deleteFile removes a file no longer referenced; a failure only leaves
// an orphan behind, so it is logged, not shown.
func (ph *profileHandler) deleteFile(c echo.Context, key string) {
	if key == "" {
		return
	}
	if err := ph.files.Delete(c.Request().Context(), key); err != nil {
		ph.s.Log.Warn("delete stored file", "error", err)
	}
}

func (ph *profileHandler) removePhoto(c echo.Context) error {
	a := actor(c)
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	old, err := profiles.RemovePhoto(c.Request().Context(), tn, a.User, a.Membership.Role, c.RealIP())
	if errors.Is(err, models.ErrForbidden) {
		return ph.denied(c)
	}
	if err != nil {
		return err
	}
	ph.deleteFile(c, old)
	web.Flash(c, "success", t(c, "photo.removed"))
	return redirect(c, "/profile#photo")
}

// servePhoto sends a business's photo to its own members and to
// administrators; anyone else gets 404, as if it did not exist.
//
// The browser may keep the photo but must ask again before every use
// (private, no-cache): an unchanged photo costs a 304 thanks to the ETag
// (a new upload gets a new key, so a new ETag) and Last-Modified, and
// after logging out the question is refused like any other request, so a
// shared computer does not keep showing it for a day.
func (ph *profileHandler) servePhoto(c echo.Context) error {
	bid, err := pathID(c, "bid")
	if err != nil {
		return err
	}
	a := actor(c)
	if !a.IsAdmin() && a.BusinessID() != bid {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	prof, err := profiles.Of(c.Request().Context(), ph.s.DB, bid)
	if err != nil {
		return err
	}
	if !prof.HasPhoto() {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	modified := time.Time{}
	if prof.PhotoUpdatedAt != nil {
		modified = *prof.PhotoUpdatedAt
	}
	name := "profile-photo" + profiles.PhotoInfo{ContentType: prof.PhotoType}.Ext()
	// http.ServeContent (in serveBlob) answers If-None-Match against this.
	sum := sha256.Sum256([]byte(prof.PhotoKey))
	c.Response().Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	return ph.serveBlob(c, prof.PhotoKey, prof.PhotoType, name, "private, no-cache", modified)
}
