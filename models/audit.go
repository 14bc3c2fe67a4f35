package models

import (
	"context"
	"strconv"
	"strings"
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

// WriteAudit records e in the audit log inside tx (domain packages call
// it in the transaction of the change they record).
func WriteAudit(tx *gorm.DB, now time.Time, e AuditEntry) error {
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
	return WriteAudit(db.WithContext(ctx), db.Now(), e)
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	BusinessID int64
	// BusinessName keeps the events of businesses whose name contains it
	// (accents and case folded, as the administrator's business search).
	BusinessName string
	Action       string
	BeforeID     int64 // keyset pagination: rows after this one in the order
	Limit        int
}

// AuditLog lists events newest first; events of the same moment by id,
// the later written first. Events are not always written in time order
// (the demo back-dates its history), so the order is by time, not id.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := db.WithContext(ctx).Order("at DESC, id DESC").Limit(f.Limit)
	if f.BusinessID > 0 {
		q = q.Where("business_id = ?", f.BusinessID)
	}
	if name := strings.TrimSpace(f.BusinessName); name != "" {
		ids, err := db.businessesNamed(ctx, name, 200)
		if err != nil {
			return nil, Wrap("DB.AuditLog", err)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		q = q.Where("business_id IN ?", ids)
	}
	if f.Action != "" {
		q = q.Where(`action LIKE ? ESCAPE '\'`, EscapeLike(f.Action)+"%")
	}
	if f.BeforeID > 0 {
		// The cursor row's own time, read by the database, so both
		// databases compare times as they store them.
		at := db.WithContext(ctx).Model(&AuditEvent{}).Select("at").Where("id = ?", f.BeforeID)
		q = q.Where("(at < (?) OR (at = (?) AND id < ?))", at, at, f.BeforeID)
	}
	var out []AuditEvent
	return out, q.Find(&out).Error
}

// AuditNames are the names the audit log's targets have now, for
// writing its events as sentences. A target that no longer exists (or a
// contact, whose name the log never shows) is absent.
type AuditNames struct {
	Businesses map[int64]string
	// Requests gives the business name of each verification request.
	Requests    map[int64]string
	Users       map[int64]string
	Invitations map[int64]string
}

// AuditTargets looks up the names of the businesses, verification
// requests, users and invitations that events name, one query each.
func (db *DB) AuditTargets(ctx context.Context, events []AuditEvent) (AuditNames, error) {
	n := AuditNames{Businesses: map[int64]string{}, Requests: map[int64]string{}, Users: map[int64]string{}, Invitations: map[int64]string{}}
	ids := map[string][]int64{}
	for _, e := range events {
		if id, err := strconv.ParseInt(e.TargetID, 10, 64); err == nil && id > 0 {
			ids[e.TargetType] = append(ids[e.TargetType], id)
		}
		if e.BusinessID != nil {
			ids["business"] = append(ids["business"], *e.BusinessID)
		}
	}
	type row struct {
		ID   int64
		Name string
	}
	load := func(list []int64, query string, into map[int64]string) error {
		if len(list) == 0 {
			return nil
		}
		var rows []row
		if err := db.WithContext(ctx).Raw(query, list).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			into[r.ID] = r.Name
		}
		return nil
	}
	if err := load(ids["business"], "SELECT id, name FROM businesses WHERE id IN ?", n.Businesses); err != nil {
		return n, Wrap("DB.AuditTargets", err)
	}
	if err := load(ids["verification_request"], "SELECT r.id AS id, b.name AS name FROM verification_requests r JOIN businesses b ON b.id = r.business_id WHERE r.id IN ?", n.Requests); err != nil {
		return n, Wrap("DB.AuditTargets", err)
	}
	if err := load(ids["user"], "SELECT id, CASE WHEN name <> '' THEN name ELSE email END AS name FROM users WHERE id IN ?", n.Users); err != nil {
		return n, Wrap("DB.AuditTargets", err)
	}
	if err := load(ids["invitation"], "SELECT id, email AS name FROM invitations WHERE id IN ?", n.Invitations); err != nil {
		return n, Wrap("DB.AuditTargets", err)
	}
	return n, nil
}
