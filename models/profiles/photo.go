package profiles

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg" // registers the JPEG decoder for DecodeConfig
	_ "image/png"  // registers the PNG decoder for DecodeConfig
	"net/http"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Profile photo rules (PRODUCT.md): square JPEG or PNG, at least 192 px,
// at most 4096 px a side, at most 5 MB.
//
// A few kilobytes of PNG or JPEG can declare 30000 × 30000 pixels (an
// "image bomb": 3.6 GB once decoded, by us or by every browser shown it),
// so the header's dimensions are checked before anything decodes pixels.
const (
	PhotoMaxBytes = 5 << 20
	PhotoMinPx    = 192
	PhotoMaxPx    = 4096
	// PhotoMaxPixels bounds width × height whatever the shape.
	PhotoMaxPixels = PhotoMaxPx * PhotoMaxPx
)

// PhotoInfo describes an accepted photo.
type PhotoInfo struct {
	ContentType string
	Px          int
	Size        int64
}

// Ext is the file extension matching the content.
func (i PhotoInfo) Ext() string {
	if i.ContentType == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// sniff names what data really is, whatever the file was called.
func sniff(data []byte) string {
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i > 0 {
		ct = ct[:i]
	}
	return ct
}

// CheckPhoto decides by content whether data is an acceptable profile
// photo and says precisely why not.
func CheckPhoto(field string, data []byte) (PhotoInfo, error) {
	info := PhotoInfo{Size: int64(len(data))}
	if len(data) == 0 {
		return info, models.Invalid(field, "photo.empty")
	}
	if len(data) > PhotoMaxBytes {
		return info, models.Invalid(field, "photo.too_large", len(data)>>20)
	}
	ct := sniff(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return info, models.Invalid(field, "photo.type", ct)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || "image/"+format != ct {
		return info, models.Invalid(field, "photo.corrupt", strings.TrimPrefix(ct, "image/"))
	}
	w, h := cfg.Width, cfg.Height
	// DecodeConfig reads only the header; refuse a bomb before any decode.
	if w > PhotoMaxPx || h > PhotoMaxPx || int64(w)*int64(h) > PhotoMaxPixels {
		return info, models.Invalid(field, "photo.too_many_px", w, h, PhotoMaxPx)
	}
	if w < PhotoMinPx || h < PhotoMinPx {
		return info, models.Invalid(field, "photo.too_small", w, h, PhotoMinPx)
	}
	if w != h {
		return info, models.Invalid(field, "photo.not_square", w, h, min(w, h))
	}
	info.ContentType, info.Px = ct, w
	return info, nil
}

// SetPhoto records a stored photo (key in the file store) and returns the
// key of the photo it replaces, for the caller to delete.
func SetPhoto(ctx context.Context, t models.Tenant, actor *models.User, role models.Role, key string, info PhotoInfo, ip string) (string, error) {
	var old string
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		_, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		if !p.CanEdit(role) {
			return models.ErrForbidden
		}
		old = p.PhotoKey
		now := t.DB().Now()
		if err := t.ScopedTx(tx).Model(&Profile{}).Where("id = ?", p.ID).Updates(map[string]any{"photo_key": key, "photo_type": info.ContentType,
			"photo_size": info.Size, "photo_px": info.Px, "photo_updated_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(), Action: "profile.photo_changed",
			TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10), Detail: info.ContentType + " " + strconv.FormatInt(int64(info.Px), 10) + "px", IP: ip})
	})
	return old, models.Wrap("profiles.SetPhoto", err)
}

// RemovePhoto clears the photo and returns its key for the caller to
// delete from the file store.
func RemovePhoto(ctx context.Context, t models.Tenant, actor *models.User, role models.Role, ip string) (string, error) {
	var old string
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		_, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		if !p.CanEdit(role) {
			return models.ErrForbidden
		}
		if p.PhotoKey == "" {
			return nil
		}
		old = p.PhotoKey
		now := t.DB().Now()
		if err := t.ScopedTx(tx).Model(&Profile{}).Where("id = ?", p.ID).Updates(map[string]any{"photo_key": "", "photo_type": "",
			"photo_size": 0, "photo_px": 0, "photo_updated_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(), Action: "profile.photo_removed",
			TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10), IP: ip})
	})
	return old, models.Wrap("profiles.RemovePhoto", err)
}
