package profiles

import (
	"bytes"
	"context"
	"errors"
	"image"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// VerificationDocument is one supporting document (trade register
// extract, tax certificate…) kept in the file store under BlobKey.
// Removing it from the business's current set keeps the file while
// earlier requests refer to it, so their history stays complete.
type VerificationDocument struct {
	ID           int64
	BusinessID   int64
	BlobKey      string
	Name         string
	ContentType  string
	Size         int64
	SHA256       string `gorm:"column:sha256"`
	UploadedByID *int64
	CreatedAt    time.Time
	RemovedAt    *time.Time
}

// IsImage reports whether the document can be shown in an <img>.
func (d *VerificationDocument) IsImage() bool { return strings.HasPrefix(d.ContentType, "image/") }

type requestDocument struct {
	RequestID  int64
	DocumentID int64
}

func (requestDocument) TableName() string { return "verification_request_documents" }

// CheckDocument decides by content whether data is a PDF, JPEG or PNG
// document and returns its type and file extension.
func CheckDocument(field string, data []byte) (contentType, ext string, err error) {
	if len(data) == 0 {
		return "", "", models.Invalid(field, "doc.empty")
	}
	if len(data) > DocumentMaxBytes {
		return "", "", models.Invalid(field, "doc.too_large", DocumentMaxBytes>>20)
	}
	ct := sniff(data)
	switch ct {
	case "application/pdf":
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			return "", "", models.Invalid(field, "doc.type", ct)
		}
		return ct, ".pdf", nil
	case "image/jpeg", "image/png":
		if _, format, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || "image/"+format != ct {
			return "", "", models.Invalid(field, "doc.corrupt", strings.TrimPrefix(ct, "image/"))
		}
		if ct == "image/png" {
			return ct, ".png", nil
		}
		return ct, ".jpg", nil
	}
	return "", "", models.Invalid(field, "doc.type", ct)
}

// SafeFileName makes an uploaded file's name fit for display and a
// Content-Disposition header: no folders, no control or direction
// characters, at most 100 characters, and the extension of its real type.
func SafeFileName(name, ext string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimSuffix(name, path.Ext(name)))
	if name == "" || name == "." {
		name = "document"
	}
	return truncateRunes(name, 96) + ext
}

// CurrentDocuments lists the documents that the next request will carry.
func CurrentDocuments(ctx context.Context, t models.Tenant) ([]VerificationDocument, error) {
	var out []VerificationDocument
	return out, t.Scoped(ctx).Where("removed_at IS NULL").Order("id").Find(&out).Error
}

// Document loads one of the business's documents (ErrNotFound for
// another business's id).
func Document(ctx context.Context, t models.Tenant, id int64) (*VerificationDocument, error) {
	var d VerificationDocument
	return &d, t.First(ctx, &d, id)
}

// DocumentByID loads any document (administrators).
func DocumentByID(ctx context.Context, db *models.DB, id int64) (*VerificationDocument, error) {
	var d VerificationDocument
	err := db.WithContext(ctx).First(&d, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &d, models.Wrap("profiles.DocumentByID", err)
}

// RequestDocuments lists the documents a request was filed with.
func RequestDocuments(ctx context.Context, db *models.DB, requestID int64) ([]VerificationDocument, error) {
	var out []VerificationDocument
	err := db.WithContext(ctx).Where("id IN (SELECT document_id FROM verification_request_documents WHERE request_id = ?)", requestID).
		Order("id").Find(&out).Error
	return out, models.Wrap("profiles.RequestDocuments", err)
}

// AddDocument records an uploaded document stored under key. At most
// MaxDocuments are current at once.
func AddDocument(ctx context.Context, t models.Tenant, actor *models.User, key, name, contentType string, size int64, sum, ip string) (*VerificationDocument, error) {
	var d *VerificationDocument
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := lockProfile(t, tx); err != nil {
			return err
		}
		var n int64
		if err := t.ScopedTx(tx).Model(&VerificationDocument{}).Where("removed_at IS NULL").Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxDocuments {
			return models.Invalid("document", "doc.too_many", MaxDocuments)
		}
		now := t.DB().Now()
		d = &VerificationDocument{BusinessID: t.BusinessID(), BlobKey: key, Name: name, ContentType: contentType, Size: size,
			SHA256: sum, UploadedByID: &actor.ID, CreatedAt: now}
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(),
			Action: verificationAction + "document_added", TargetType: "verification_document", TargetID: strconv.FormatInt(d.ID, 10),
			Detail: name + " (" + contentType + ")", IP: ip})
	})
	return d, models.Wrap("profiles.AddDocument", err)
}

// RemoveDocument takes a document out of the current set. When no request
// refers to it, its row goes and its key is returned so the caller can
// delete the file; otherwise the file stays for the request history.
func RemoveDocument(ctx context.Context, t models.Tenant, actor *models.User, id int64, ip string) (string, error) {
	var key string
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		var d VerificationDocument
		if err := t.ScopedTx(tx).First(&d, "id = ?", id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if d.RemovedAt != nil {
			return nil
		}
		var refs int64
		if err := tx.Model(&requestDocument{}).Where("document_id = ?", d.ID).Count(&refs).Error; err != nil {
			return err
		}
		now := t.DB().Now()
		if refs == 0 {
			if err := t.ScopedTx(tx).Where("id = ?", d.ID).Delete(&VerificationDocument{}).Error; err != nil {
				return err
			}
			key = d.BlobKey
		} else if err := t.ScopedTx(tx).Model(&VerificationDocument{}).Where("id = ?", d.ID).Update("removed_at", now).Error; err != nil {
			return err
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(),
			Action: verificationAction + "document_removed", TargetType: "verification_document", TargetID: strconv.FormatInt(d.ID, 10), Detail: d.Name, IP: ip})
	})
	return key, models.Wrap("profiles.RemoveDocument", err)
}
