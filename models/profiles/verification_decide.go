package profiles

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Decision is an administrator's verdict on one request. Revision is the
// request revision the administrator looked at.
type Decision struct {
	Approve  bool
	Reason   string
	Revision int
	// FixNow lets a rejected business resubmit at once (something to fix);
	// otherwise the platform's 30-day rule applies before re-filing.
	FixNow bool
}

// AlreadyDecidedError tells the losing administrator who won.
type AlreadyDecidedError struct {
	State string
	By    string
	At    time.Time
}

func (e *AlreadyDecidedError) Error() string {
	return fmt.Sprintf("already %s by %s at %s", e.State, e.By, e.At.Format(time.RFC3339))
}

// ErrRequestChanged means the business changed the request after the
// administrator opened it.
var ErrRequestChanged = errors.New("the request changed while it was being reviewed")

// Decide approves or rejects a pending request. Two decisions
// racing on one request: the conditional update lets exactly one through;
// the other gets an AlreadyDecidedError naming the winner.
func Decide(ctx context.Context, db *models.DB, actor *models.User, id int64, d Decision, ip string) (*VerificationRequest, error) {
	d.Reason = cleanText(d.Reason)
	if !d.Approve {
		v := &models.ValidationError{}
		if d.Reason == "" {
			v.Add("reason", "review.reason.required")
		} else {
			checkText(v, "reason", "review.reason", d.Reason, ReasonMax, true)
		}
		if err := v.Err(); err != nil {
			return nil, models.Wrap("profiles.Decide", err)
		}
	}
	var out VerificationRequest
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		state, bizState := RequestRejected, models.VerificationRejected
		upd := map[string]any{"decided_at": now, "decided_by_id": actor.ID, "decided_by_email": actor.Email, "updated_at": now}
		if d.Approve {
			state, bizState = RequestApproved, models.VerificationVerified
			upd["reason"] = ""
		} else {
			upd["reason"] = d.Reason
			if !d.FixNow {
				upd["refile_after"] = now.Add(RefileWait)
			}
		}
		upd["state"] = state
		// Lock the business first, in the same order as profile changes
		// (business, then request), so the two never deadlock.
		if err := lockBusiness(tx, "(SELECT business_id FROM verification_requests WHERE id = ?)", id); err != nil {
			return err
		}
		var cur VerificationRequest
		if err := tx.First(&cur, "id = ?", id).Error; err != nil {
			return err
		}
		var b models.Business
		if err := tx.First(&b, "id = ?", cur.BusinessID).Error; err != nil {
			return err
		}
		res := tx.Model(&VerificationRequest{}).Where("id = ? AND state = ? AND revision = ?", id, RequestPending, d.Revision).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if err := tx.First(&out, "id = ?", id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if res.RowsAffected != 1 {
			if out.State != RequestPending && out.DecidedAt != nil {
				return &AlreadyDecidedError{State: out.State, By: out.DecidedByEmail, At: *out.DecidedAt}
			}
			return ErrRequestChanged
		}
		if err := tx.Model(&models.Business{}).Where("id = ?", b.ID).
			Updates(map[string]any{"verification_state": bizState, "updated_at": now}).Error; err != nil {
			return err
		}
		detail := out.DisplayName + " / " + out.LegalName
		if !d.Approve {
			detail += ": " + d.Reason
			if !d.FixNow {
				detail += " (re-filing from " + now.Add(RefileWait).Format(time.DateOnly) + ")"
			}
		}
		return models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: b.ID,
			Action: verificationAction + state, TargetType: "verification_request", TargetID: strconv.FormatInt(id, 10),
			Detail: detail, Previous: "request pending, business " + b.VerificationState, IP: ip})
	})
	if err != nil {
		return nil, models.Wrap("profiles.Decide", err)
	}
	return &out, nil
}

// QueueItem is one pending request in the administrators' queue.
type QueueItem struct {
	VerificationRequest
	BusinessName string
}

// Queue lists pending requests, oldest first.
func Queue(ctx context.Context, db *models.DB, limit int) ([]QueueItem, error) {
	var out []QueueItem
	err := db.WithContext(ctx).Table("verification_requests r").Select("r.*, b.name AS business_name").
		Joins("JOIN businesses b ON b.id = r.business_id").Where("r.state = ?", RequestPending).
		Order("r.submitted_at, r.id").Limit(limit).Scan(&out).Error
	return out, models.Wrap("profiles.Queue", err)
}

// VerificationCounts are the queue's headline numbers. "Today" is the
// UTC day of the database clock.
type VerificationCounts struct {
	Pending       int64
	ApprovedToday int64
	RejectedToday int64
	OldestPending *time.Time
}

// DecidedToday is approvals plus rejections today.
func (c VerificationCounts) DecidedToday() int64 { return c.ApprovedToday + c.RejectedToday }

// Counts counts pending requests and today's decisions.
func Counts(ctx context.Context, db *models.DB) (VerificationCounts, error) {
	var c VerificationCounts
	g := db.WithContext(ctx)
	if err := g.Model(&VerificationRequest{}).Where("state = ?", RequestPending).Count(&c.Pending).Error; err != nil {
		return c, models.Wrap("profiles.Counts", err)
	}
	now := db.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for state, n := range map[string]*int64{RequestApproved: &c.ApprovedToday, RequestRejected: &c.RejectedToday} {
		if err := g.Model(&VerificationRequest{}).Where("state = ? AND decided_at >= ?", state, day).Count(n).Error; err != nil {
			return c, models.Wrap("profiles.Counts", err)
		}
	}
	if c.Pending > 0 {
		var oldest VerificationRequest
		if err := g.Where("state = ?", RequestPending).Order("submitted_at, id").Limit(1).Find(&oldest).Error; err != nil {
			return c, models.Wrap("profiles.Counts", err)
		}
		c.OldestPending = &oldest.SubmittedAt
	}
	return c, nil
}

// RequestByID loads any request (administrators).
func RequestByID(ctx context.Context, db *models.DB, id int64) (*VerificationRequest, error) {
	var r VerificationRequest
	err := db.WithContext(ctx).First(&r, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &r, models.Wrap("profiles.RequestByID", err)
}

// PreviousDecision is the business's last decided request before r, nil
// for a first request.
func PreviousDecision(ctx context.Context, db *models.DB, r *VerificationRequest) (*VerificationRequest, error) {
	var p VerificationRequest
	err := db.WithContext(ctx).Where("business_id = ? AND id < ? AND state <> ?", r.BusinessID, r.ID, RequestPending).
		Order("id DESC").Limit(1).Find(&p).Error
	if err != nil || p.ID == 0 {
		return nil, models.Wrap("profiles.PreviousDecision", err)
	}
	return &p, nil
}

// FieldDiff is one difference between two requests. Field is the
// catalogue key of the field's label.
type FieldDiff struct {
	Field   string
	Old     string
	New     string
	Added   []string
	Removed []string
}

// DiffRequests lists what changed from prev (the last decision) to cur,
// documents compared by identity.
func DiffRequests(prev, cur *VerificationRequest, prevDocs, curDocs []VerificationDocument) []FieldDiff {
	var out []FieldDiff
	for _, f := range []struct{ key, old, new string }{
		{"verify.field.display_name", prev.DisplayName, cur.DisplayName},
		{"verify.field.legal_name", prev.LegalName, cur.LegalName},
		{"verify.field.registration_number", prev.RegistrationNumber, cur.RegistrationNumber},
		{"verify.field.website", prev.Website, cur.Website},
		{"verify.field.country", prev.Country, cur.Country},
		{"verify.field.further_info", prev.FurtherInfo, cur.FurtherInfo},
	} {
		if f.old != f.new {
			out = append(out, FieldDiff{Field: f.key, Old: f.old, New: f.new})
		}
	}
	if added, removed := setDiff(prev.LinkList(), cur.LinkList()); len(added)+len(removed) > 0 {
		out = append(out, FieldDiff{Field: "verify.field.links", Added: added, Removed: removed})
	}
	name := func(ds []VerificationDocument) []string {
		var s []string
		for _, d := range ds {
			s = append(s, fmt.Sprintf("%s (#%d)", d.Name, d.ID))
		}
		return s
	}
	if added, removed := setDiff(name(prevDocs), name(curDocs)); len(added)+len(removed) > 0 {
		out = append(out, FieldDiff{Field: "verify.field.documents", Added: added, Removed: removed})
	}
	return out
}

func setDiff(old, cur []string) (added, removed []string) {
	in := func(s string, list []string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, s := range cur {
		if !in(s, old) {
			added = append(added, s)
		}
	}
	for _, s := range old {
		if !in(s, cur) {
			removed = append(removed, s)
		}
	}
	return added, removed
}

// legalSuffixes are left out when comparing a display name with the
// legal name.
var legalSuffixes = map[string]bool{"gmbh": true, "ag": true, "ug": true, "kg": true, "ohg": true, "gbr": true, "ek": true, "e": true, "k": true,
	"ltd": true, "limited": true, "inc": true, "llc": true, "plc": true, "co": true, "corp": true, "sa": true, "sas": true, "sarl": true,
	"bv": true, "nv": true, "sl": true, "spa": true, "srl": true, "ab": true, "as": true, "oy": true, "mbh": true, "haftungsbeschränkt": true}

// NameRelates reports whether the display name shares a significant word
// with the legal name, a hint for reviewers (PRODUCT.md: display names
// must relate to the legal name).
func NameRelates(display, legal string) bool {
	words := func(s string) []string {
		var out []string
		for _, w := range strings.Fields(strings.ToLower(wordSplit.ReplaceAllString(s, " "))) {
			if utf8.RuneCountInString(w) >= 3 && !legalSuffixes[w] && w != "&" {
				out = append(out, w)
			}
		}
		return out
	}
	lw := words(legal)
	for _, d := range words(display) {
		for _, l := range lw {
			if d == l || (utf8.RuneCountInString(d) >= 5 && (strings.Contains(l, d) || strings.Contains(d, l))) {
				return true
			}
		}
	}
	return false
}
