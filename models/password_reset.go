package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PasswordReset is a one-time link to set a new password. Only the hash
// of its token is stored.
type PasswordReset struct {
	ID          int64
	UserID      int64
	TokenHash   string
	Via         string // ResetViaMail | ResetViaLink
	CreatedByID *int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
}

// How a reset was made, and how long its link works: an e-mailed link
// for an hour (it sits in a mailbox), a link made by an owner or an
// administrator for a day (it is handed over by other means).
const (
	ResetViaMail = "email"
	ResetViaLink = "link"
	ResetMailTTL = time.Hour
	ResetLinkTTL = 24 * time.Hour
)

// Reset-request policy (the "Forgot password?" form): per client address
// (IPv6 by its /64) ResetAddrLimit requests per ResetWindow, then 429;
// per typed address ResetMailLimit mails per ResetWindow, beyond which
// requests are answered as usual but send nothing (the last mail's link
// still works, and the answer reveals nothing).
const (
	ResetWindow    = time.Hour
	ResetAddrLimit = 20
	ResetMailLimit = 3
)

// Open reports whether the link can still be used at now.
func (r *PasswordReset) Open(now time.Time) bool {
	return r.UsedAt == nil && r.RevokedAt == nil && now.Before(r.ExpiresAt)
}

// ErrOwnerReset: an owner makes reset links for staff only; owners ask the
// platform administrator.
var ErrOwnerReset = errors.New("only an administrator makes reset links for owners")

// createReset revokes the user's open resets and makes a new one, in tx.
func (db *DB) createReset(tx *gorm.DB, userID int64, via string, by *int64, ttl time.Duration) (*PasswordReset, string, error) {
	now := db.Now()
	if err := tx.Model(&PasswordReset{}).Where("user_id = ? AND used_at IS NULL AND revoked_at IS NULL", userID).
		Update("revoked_at", now).Error; err != nil {
		return nil, "", err
	}
	token := NewToken()
	r := &PasswordReset{UserID: userID, TokenHash: HashToken(token), Via: via, CreatedByID: by, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := tx.Create(r).Error; err != nil {
		return nil, "", err
	}
	return r, token, nil
}

// ResetLinkForStaff makes a one-time reset link for a staff member of
// this business (membershipID), valid ResetLinkTTL. Another business's
// member is ErrNotFound; an owner (or oneself) is ErrOwnerReset.
func (t Tenant) ResetLinkForStaff(ctx context.Context, actor *User, membershipID int64, ip string) (*PasswordReset, *User, string, error) {
	var r *PasswordReset
	var u *User
	var token string
	err := t.db.Tx(ctx, func(tx *gorm.DB) error {
		m, err := t.member(tx, membershipID)
		if err != nil {
			return err
		}
		if m.Role != RoleStaff || m.UserID == actor.ID || m.User == nil {
			return ErrOwnerReset
		}
		u = m.User
		if r, token, err = t.db.createReset(tx, m.UserID, ResetViaLink, &actor.ID, ResetLinkTTL); err != nil {
			return err
		}
		return WriteAudit(tx, t.db.Now(), AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.businessID,
			Action: "user.reset_link_created", TargetType: "user", TargetID: Itoa(u.ID), Detail: u.Email, IP: ip})
	})
	if err != nil {
		return nil, nil, "", Wrap("Tenant.ResetLinkForStaff", err)
	}
	return r, u, token, nil
}

// ResetLinkByAdmin makes a one-time reset link for any user, valid
// ResetLinkTTL; actor must be an administrator.
func (db *DB) ResetLinkByAdmin(ctx context.Context, actor *User, userID int64, ip string) (*PasswordReset, *User, string, error) {
	if actor == nil || !actor.IsAdmin {
		return nil, nil, "", ErrForbidden
	}
	var r *PasswordReset
	var token string
	u, err := db.UserByID(ctx, userID)
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetLinkByAdmin", err)
	}
	var biz int64
	if m, err := db.MembershipOf(ctx, u.ID); err == nil {
		biz = m.BusinessID
	}
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if r, token, err = db.createReset(tx, u.ID, ResetViaLink, &actor.ID, ResetLinkTTL); err != nil {
			return err
		}
		return WriteAudit(tx, db.Now(), AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: biz,
			Action: "user.reset_link_created", TargetType: "user", TargetID: Itoa(u.ID), Detail: u.Email, IP: ip})
	})
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetLinkByAdmin", err)
	}
	return r, u, token, nil
}

// ResetLinkFromConsole makes a one-time reset link (valid ResetLinkTTL)
// for the account at email, for the operator at the server's console
// (portal -reset-link): the way back for an administrator who forgot the
// password of a portal without mail.
func (db *DB) ResetLinkFromConsole(ctx context.Context, email string) (*PasswordReset, *User, string, error) {
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetLinkFromConsole", err)
	}
	var biz int64
	if m, err := db.MembershipOf(ctx, u.ID); err == nil {
		biz = m.BusinessID
	}
	var r *PasswordReset
	var token string
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if r, token, err = db.createReset(tx, u.ID, ResetViaLink, nil, ResetLinkTTL); err != nil {
			return err
		}
		return WriteAudit(tx, db.Now(), AuditEntry{ActorEmail: "console", BusinessID: biz,
			Action: "user.reset_link_created", TargetType: "user", TargetID: Itoa(u.ID), Detail: u.Email})
	})
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetLinkFromConsole", err)
	}
	return r, u, token, nil
}

// ResetForMail makes the reset an e-mail carries (valid ResetMailTTL) for
// the account at email; ErrNotFound when there is none or it is
// suspended. The mail job calls it, so the token exists only in memory
// and in the mail (never in the job's stored arguments), and records the
// mail with ResetMailed once it went out.
func (db *DB) ResetForMail(ctx context.Context, email string) (*PasswordReset, *User, string, error) {
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetForMail", err)
	}
	if u.SuspendedAt != nil {
		return nil, nil, "", ErrNotFound
	}
	var r *PasswordReset
	var token string
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		r, token, err = db.createReset(tx, u.ID, ResetViaMail, nil, ResetMailTTL)
		return err
	})
	if err != nil {
		return nil, nil, "", Wrap("DB.ResetForMail", err)
	}
	return r, u, token, nil
}

// ResetMailed records in the audit log that the mail of a reset went out.
func (db *DB) ResetMailed(ctx context.Context, u *User) error {
	var biz int64
	if m, err := db.MembershipOf(ctx, u.ID); err == nil {
		biz = m.BusinessID
	}
	return db.Audit(ctx, AuditEntry{BusinessID: biz, Action: "user.reset_mailed", TargetType: "user", TargetID: Itoa(u.ID), Detail: u.Email})
}

// PasswordResetByToken finds an open reset and its user; an unknown,
// used, revoked or expired token is ErrNotFound.
func (db *DB) PasswordResetByToken(ctx context.Context, token string) (*PasswordReset, *User, error) {
	if token == "" {
		return nil, nil, ErrNotFound
	}
	var r PasswordReset
	err := db.WithContext(ctx).First(&r, "token_hash = ?", HashToken(token)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !r.Open(db.Now())) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, Wrap("DB.PasswordResetByToken", err)
	}
	u, err := db.UserByID(ctx, r.UserID)
	if err != nil {
		return nil, nil, Wrap("DB.PasswordResetByToken", err)
	}
	return &r, u, nil
}

// ResetPassword sets the password of the reset's user (the rules and
// hashing of every password), spends the link and ends every session of
// the user, in one transaction: a link works once, and whoever was
// logged in as that user is logged out.
func (db *DB) ResetPassword(ctx context.Context, token, password, ip string) (*User, error) {
	if err := CheckPasswordRules("password", password); err != nil {
		return nil, Wrap("DB.ResetPassword", err)
	}
	if _, _, err := db.PasswordResetByToken(ctx, token); err != nil {
		return nil, Wrap("DB.ResetPassword", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, Wrap("DB.ResetPassword", err)
	}
	var u User
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var r PasswordReset
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&r, "token_hash = ?", HashToken(token)).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := db.Now()
		if !r.Open(now) {
			return ErrNotFound
		}
		res := tx.Model(&PasswordReset{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", r.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		if err := tx.First(&u, "id = ?", r.UserID).Error; err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"password_hash": hash, "password_changed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return err
		}
		var biz int64
		var m Membership
		if err := tx.Where("user_id = ?", u.ID).Limit(1).Find(&m).Error; err != nil {
			return err
		}
		biz = m.BusinessID
		return WriteAudit(tx, now, AuditEntry{ActorID: u.ID, ActorEmail: u.Email, BusinessID: biz,
			Action: "user.password_reset", TargetType: "user", TargetID: Itoa(u.ID), Detail: r.Via, IP: ip})
	})
	if err != nil {
		return nil, Wrap("DB.ResetPassword", err)
	}
	return &u, nil
}

// ReserveResetRequest counts one "Forgot password?" request for email from
// addr. It fails with a ThrottleError when the address has made
// ResetAddrLimit requests within ResetWindow; send is false when email
// already got ResetMailLimit mails within it (the request is answered as
// usual, but no mail goes). Whether the account exists plays no part.
func (db *DB) ReserveResetRequest(ctx context.Context, email, addr string) (send bool, err error) {
	acct, ip, _ := loginKeys(email, addr)
	acct, ip = "reset:"+acct, "reset:"+ip
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		rows := make([]LoginThrottle, 2)
		for i, k := range []string{acct, ip} {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&LoginThrottle{Key: k, WindowStart: now}).Error; err != nil {
				return err
			}
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&rows[i], "key = ?", k).Error; err != nil {
				return err
			}
			if !now.Before(rows[i].WindowStart.Add(ResetWindow)) {
				rows[i].Failures, rows[i].WindowStart = 0, now
			}
		}
		if rows[1].Failures >= ResetAddrLimit {
			wait := rows[1].WindowStart.Add(ResetWindow).Sub(now)
			return &ThrottleError{RetryAfterSeconds: int((wait + time.Second - 1) / time.Second)}
		}
		send = rows[0].Failures < ResetMailLimit
		for i := range rows {
			if i == 0 && !send {
				continue
			}
			rows[i].Failures++
			if err := tx.Model(&LoginThrottle{}).Where("key = ?", rows[i].Key).
				Updates(map[string]any{"failures": rows[i].Failures, "window_start": rows[i].WindowStart}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return send, Wrap("DB.ReserveResetRequest", err)
}

// PurgePasswordResets removes resets that expired, were used or were
// revoked more than a day ago, and returns how many; and the request
// counters whose window has passed (every typed address leaves one).
func (db *DB) PurgePasswordResets(ctx context.Context) (int64, error) {
	now := db.Now()
	cutoff := now.Add(-24 * time.Hour)
	r := db.WithContext(ctx).Where("expires_at < ? OR used_at < ? OR revoked_at < ?", cutoff, cutoff, cutoff).Delete(&PasswordReset{})
	if r.Error != nil {
		return 0, r.Error
	}
	err := db.WithContext(ctx).Where("key LIKE ? AND window_start < ?", "reset:%", now.Add(-ResetWindow)).Delete(&LoginThrottle{}).Error
	return r.RowsAffected, Wrap("DB.PurgePasswordResets", err)
}

// BusinessMembers lists a business's members with their users, owners
// first, for an administrator (who has no Tenant of their own).
func (db *DB) BusinessMembers(ctx context.Context, businessID int64) ([]Membership, error) {
	if businessID <= 0 {
		return nil, ErrNotFound
	}
	var out []Membership
	err := db.WithContext(ctx).Preload("User").Where("business_id = ?", businessID).
		Order("CASE role WHEN 'owner' THEN 0 ELSE 1 END, id").Find(&out).Error
	return out, Wrap("DB.BusinessMembers", err)
}
