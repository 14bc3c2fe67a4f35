package profiles

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// VerificationRequest is one request for the verified badge: a snapshot
// of what the business submitted and, once decided, the administrator's
// decision. The business's verification_state stays the single source of
// truth for the badge; requests are its history.
type VerificationRequest struct {
	ID                 int64
	BusinessID         int64
	Kind               string // first | resubmission | name_change
	State              string // pending | approved | rejected
	Revision           int
	DisplayName        string
	LegalName          string
	RegistrationNumber string
	Website            string
	Country            string
	Links              string // one per line
	FurtherInfo        string
	SubmittedByID      *int64
	SubmittedByEmail   string
	SubmittedAt        time.Time
	UpdatedAt          time.Time
	DecidedAt          *time.Time
	DecidedByID        *int64
	DecidedByEmail     string
	Reason             string
	RefileAfter        *time.Time
}

// Request kinds and states.
const (
	KindFirst        = "first"
	KindResubmission = "resubmission"
	KindNameChange   = "name_change"

	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// Verification request limits (PRODUCT.md).
const (
	RefileWait         = 30 * 24 * time.Hour
	MinLinks           = 5
	MaxLinks           = 10
	FurtherInfoMax     = 1000
	RegistrationMax    = 64
	MaxDocuments       = 5
	DocumentMaxBytes   = 10 << 20
	ReasonMax          = 1000
	verificationAction = "verification."
)

// Errors of the verification workflow.
var (
	ErrRequestPending  = errors.New("a verification request is already being reviewed")
	ErrAlreadyVerified = errors.New("the business is already verified")
)

// RefileError says when a refused business may file again.
type RefileError struct {
	RejectedAt time.Time
	OpensAt    time.Time
}

func (e *RefileError) Error() string {
	return fmt.Sprintf("a new request can be filed from %s", e.OpensAt.Format(time.DateOnly))
}

// LinkList returns the supporting links.
func (r *VerificationRequest) LinkList() []string {
	if r.Links == "" {
		return nil
	}
	return strings.Split(r.Links, "\n")
}

// Open reports whether the request awaits a decision.
func (r *VerificationRequest) Open() bool { return r.State == RequestPending }

// VerificationInput is the badge request form. The display and legal
// names come from the profile, so there is one place to change them.
type VerificationInput struct {
	RegistrationNumber string
	Website            string
	Country            string
	Links              string
	FurtherInfo        string
}

func (in VerificationInput) normalize(documents int) (VerificationInput, *models.ValidationError) {
	v := &models.ValidationError{}
	in.RegistrationNumber = cleanLine(in.RegistrationNumber)
	switch n := utf8.RuneCountInString(in.RegistrationNumber); {
	case n == 0:
		v.Add("registration_number", "verify.registration.required")
	case n > RegistrationMax || !registrationRe.MatchString(in.RegistrationNumber):
		v.Add("registration_number", "verify.registration.invalid", RegistrationMax)
	}
	if strings.TrimSpace(in.Website) == "" {
		v.Add("website", "verify.website.required")
	} else if w, err := CheckWebsite("website", in.Website); err != nil {
		v.Merge(err)
	} else {
		in.Website = w
	}
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if !models.ValidCountry(in.Country) {
		v.Add("country", "verify.country.invalid")
	}
	var links []string
	seen := map[string]bool{}
	for i, line := range strings.Split(cleanText(in.Links), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, err := CheckWebsite("links", line); err != nil {
			if !v.Has("links") {
				v.Add("links", "verify.links.invalid", i+1, truncateRunes(line, 60))
			}
			continue
		}
		if seen[strings.ToLower(line)] {
			if !v.Has("links") {
				v.Add("links", "verify.links.duplicate", i+1)
			}
			continue
		}
		seen[strings.ToLower(line)] = true
		links = append(links, line)
	}
	if !v.Has("links") {
		switch {
		case len(links) > MaxLinks:
			v.Add("links", "verify.links.too_many", MaxLinks, len(links))
		case documents == 0 && len(links) < MinLinks:
			v.Add("links", "verify.links.too_few", MinLinks, MaxLinks, len(links))
		}
	}
	in.Links = strings.Join(links, "\n")
	in.FurtherInfo = cleanText(in.FurtherInfo)
	checkText(v, "further_info", "verify.further_info", in.FurtherInfo, FurtherInfoMax, true)
	return in, v
}

var registrationRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ./:,()\-]*$`)

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// latestRequest is the business's newest request, nil when none.
func latestRequest(t models.Tenant, tx *gorm.DB) (*VerificationRequest, error) {
	var r VerificationRequest
	err := t.ScopedTx(tx).Order("id DESC").Limit(1).Find(&r).Error
	if err != nil || r.ID == 0 {
		return nil, err
	}
	return &r, nil
}

// RefileOpensAt is when a business whose latest request was refused may
// file again; zero when it may file now.
func (r *VerificationRequest) RefileOpensAt(now time.Time) time.Time {
	if r == nil || r.State != RequestRejected || r.RefileAfter == nil || !now.Before(*r.RefileAfter) {
		return time.Time{}
	}
	return *r.RefileAfter
}

// SubmitVerification files a badge request (owners only; the route
// enforces it). The profile must be complete; a refused business waits
// until the re-filing date; evidence is 5–10 supporting links or at
// least one document.
func SubmitVerification(ctx context.Context, t models.Tenant, actor *models.User, in VerificationInput, ip string) (*VerificationRequest, error) {
	docs, err := CurrentDocuments(ctx, t)
	if err != nil {
		return nil, models.Wrap("profiles.SubmitVerification", err)
	}
	in, v := in.normalize(len(docs))
	var req *VerificationRequest
	err = t.DB().Tx(ctx, func(tx *gorm.DB) error {
		b, p, err := lockProfile(t, tx)
		if err != nil {
			return err
		}
		switch b.VerificationState {
		case models.VerificationPending:
			return ErrRequestPending
		case models.VerificationVerified:
			return ErrAlreadyVerified
		}
		last, err := latestRequest(t, tx)
		if err != nil {
			return err
		}
		now := t.DB().Now()
		if opens := last.RefileOpensAt(now); !opens.IsZero() {
			return &RefileError{RejectedAt: *last.DecidedAt, OpensAt: opens}
		}
		if missing := (Checklist{Items: checklist(b.Name, p)}).Missing(); len(missing) > 0 {
			v.Add("checklist", "verify.incomplete", len(missing))
		}
		if err := v.Err(); err != nil {
			return err
		}
		kind := KindFirst
		if last != nil {
			kind = KindResubmission
		}
		req = &VerificationRequest{BusinessID: t.BusinessID(), Kind: kind, State: RequestPending, Revision: 1,
			DisplayName: b.Name, LegalName: p.LegalName, RegistrationNumber: in.RegistrationNumber, Website: in.Website,
			Country: in.Country, Links: in.Links, FurtherInfo: in.FurtherInfo, SubmittedByID: &actor.ID,
			SubmittedByEmail: actor.Email, SubmittedAt: now, UpdatedAt: now}
		ids := make([]int64, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		return fileRequest(t, tx, b, req, ids, actor, ip)
	})
	return req, models.Wrap("profiles.SubmitVerification", err)
}

// fileRequest stores a new pending request with its documents, moves the
// business to pending and audits it.
func fileRequest(t models.Tenant, tx *gorm.DB, b *models.Business, req *VerificationRequest, docIDs []int64, actor *models.User, ip string) error {
	if err := tx.Create(req).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrRequestPending
		}
		return err
	}
	for _, id := range docIDs {
		if err := tx.Create(&requestDocument{RequestID: req.ID, DocumentID: id}).Error; err != nil {
			return err
		}
	}
	res := tx.Model(&models.Business{}).Where("id = ? AND verification_state = ?", b.ID, b.VerificationState).
		Updates(map[string]any{"verification_state": models.VerificationPending, "updated_at": req.SubmittedAt})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return models.ErrConflict
	}
	action := "requested"
	if req.Kind == KindNameChange {
		action = "reverify_required"
	}
	return models.WriteAudit(tx, req.SubmittedAt, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(),
		Action: verificationAction + action, TargetType: "verification_request", TargetID: strconv.FormatInt(req.ID, 10),
		Detail: req.Kind + ": " + req.DisplayName + " / " + req.LegalName, Previous: b.VerificationState, IP: ip})
}

// namesChanged applies the rule that the reviewed names may not change
// silently: a verified business goes back to pending (badge removed) with
// a new request carrying the last approved evidence; a pending request
// gets the new names and a new revision, so an administrator deciding on
// the old names is stopped.
func namesChanged(t models.Tenant, tx *gorm.DB, b *models.Business, p *Profile, display, legal string, actor *models.User, ip string) (reverify, pendingUpdated bool, err error) {
	now := t.DB().Now()
	switch b.VerificationState {
	case models.VerificationVerified:
		req := &VerificationRequest{BusinessID: t.BusinessID(), Kind: KindNameChange, State: RequestPending, Revision: 1,
			DisplayName: display, LegalName: legal, Country: p.Country, Website: p.Website1, SubmittedByID: &actor.ID,
			SubmittedByEmail: actor.Email, SubmittedAt: now, UpdatedAt: now}
		var docIDs []int64
		var approved VerificationRequest
		if err := t.ScopedTx(tx).Where("state = ?", RequestApproved).Order("id DESC").Limit(1).Find(&approved).Error; err != nil {
			return false, false, err
		}
		if approved.ID != 0 {
			req.RegistrationNumber, req.Website, req.Country = approved.RegistrationNumber, approved.Website, approved.Country
			req.Links, req.FurtherInfo = approved.Links, approved.FurtherInfo
			if err := tx.Model(&requestDocument{}).Where("request_id = ?", approved.ID).Pluck("document_id", &docIDs).Error; err != nil {
				return false, false, err
			}
		}
		return true, false, fileRequest(t, tx, b, req, docIDs, actor, ip)
	case models.VerificationPending:
		res := t.ScopedTx(tx).Model(&VerificationRequest{}).Where("state = ?", RequestPending).
			Updates(map[string]any{"display_name": display, "legal_name": legal, "revision": gorm.Expr("revision + 1"), "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return false, false, res.Error
		}
		return false, true, models.WriteAudit(tx, now, models.AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.BusinessID(),
			Action: verificationAction + "request_updated", TargetType: "business", TargetID: strconv.FormatInt(t.BusinessID(), 10),
			Detail: "names now " + display + " / " + legal, IP: ip})
	}
	return false, false, nil
}

// VerificationRequests lists the business's requests, newest first.
func VerificationRequests(ctx context.Context, t models.Tenant) ([]VerificationRequest, error) {
	var out []VerificationRequest
	return out, t.Scoped(ctx).Order("id DESC").Find(&out).Error
}

// LatestRequest is the newest request, nil when none.
func LatestRequest(ctx context.Context, t models.Tenant) (*VerificationRequest, error) {
	return latestRequest(t, t.DB().WithContext(ctx))
}
