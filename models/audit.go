package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// AuditEvent is one line of the audit log: who did what to what, when,
// and what the state was before.
type AuditEvent struct {
	ID         int64
	At         time.Time
	ActorID    *int64
	ActorEmail string
	BusinessID *int64
	Action     string
	TargetType string
	TargetID   string
	Detail     string
	IP         string
}

// AuditEntry is what callers record; zero ids are stored as NULL.
type AuditEntry struct {
	ActorID    int64
	ActorEmail string
	BusinessID int64
	Action     string
	TargetType string
	TargetID   string
	Detail     string
	Previous   string
	IP         string
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func writeAudit(tx *gorm.DB, now time.Time, e AuditEntry) error {
	detail := e.Detail
	if e.Previous != "" {
		if detail != "" {
			detail += " "
		}
		detail += "(previous: " + e.Previous + ")"
	}
	return tx.Create(&AuditEvent{At: now, ActorID: nullID(e.ActorID), ActorEmail: e.ActorEmail, BusinessID: nullID(e.BusinessID),
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Detail: detail, IP: e.IP}).Error
}

// Audit records an event outside any other transaction.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return writeAudit(db.WithContext(ctx), db.Now(), e)
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	BusinessID int64
	Action     string
	BeforeID   int64 // keyset pagination: rows older than this id
	Limit      int
}

// AuditLog lists events newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := db.WithContext(ctx).Order("id DESC").Limit(f.Limit)
	if f.BusinessID > 0 {
		q = q.Where("business_id = ?", f.BusinessID)
	}
	if f.Action != "" {
		q = q.Where(`action LIKE ? ESCAPE '\'`, escapeLike(f.Action)+"%")
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []AuditEvent
	return out, q.Find(&out).Error
}
