package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Invitation lets someone join a business through a one-time link.
type Invitation struct {
	ID          int64
	BusinessID  int64
	Email       string
	Role        Role
	TokenHash   string
	InvitedByID *int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  *time.Time
	RevokedAt   *time.Time
}

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Open reports whether the invitation can still be accepted at now.
func (i *Invitation) Open(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// Members lists the business's members with their users, owners first.
func (t Tenant) Members(ctx context.Context) ([]Membership, error) {
	var out []Membership
	err := t.Scoped(ctx).Preload("User").Order("CASE role WHEN 'owner' THEN 0 ELSE 1 END, id").Find(&out).Error
	return out, Wrap("Tenant.Members", err)
}

// PendingInvitations lists open invitations, newest first.
func (t Tenant) PendingInvitations(ctx context.Context) ([]Invitation, error) {
	var out []Invitation
	err := t.Scoped(ctx).Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", t.db.Now()).
		Order("id DESC").Find(&out).Error
	return out, Wrap("Tenant.PendingInvitations", err)
}

// Invite creates an invitation and returns it with its one-time token
// (only its hash is stored).
func (t Tenant) Invite(ctx context.Context, actor *User, email string, role Role, ip string) (*Invitation, string, error) {
	v := &ValidationError{}
	v.Merge(CheckEmail("email", email))
	if !role.Valid() {
		v.Add("role", "role.invalid")
	}
	if err := v.Err(); err != nil {
		return nil, "", Wrap("Tenant.Invite", err)
	}
	email = NormalizeEmail(email)
	if u, err := t.db.UserByEmail(ctx, email); err == nil {
		if _, err := t.db.MembershipOf(ctx, u.ID); err == nil || u.IsAdmin {
			return nil, "", Invalid("email", "invite.already_member")
		}
	}
	token := NewToken()
	now := t.db.Now()
	inv := &Invitation{BusinessID: t.businessID, Email: email, Role: role, TokenHash: HashToken(token),
		InvitedByID: &actor.ID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err := t.db.Tx(ctx, func(tx *gorm.DB) error {
		// A newer invitation to the same address replaces older ones.
		if err := t.ScopedTx(tx).Model(&Invitation{}).Where("email = ? AND accepted_at IS NULL AND revoked_at IS NULL", email).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := tx.Create(inv).Error; err != nil {
			return err
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.businessID,
			Action: "member.invited", TargetType: "invitation", TargetID: Itoa(inv.ID), Detail: email + " as " + string(role), IP: ip})
	})
	if err != nil {
		return nil, "", Wrap("Tenant.Invite", err)
	}
	return inv, token, nil
}

// RevokeInvitation withdraws an open invitation of this business.
func (t Tenant) RevokeInvitation(ctx context.Context, actor *User, id int64, ip string) error {
	var inv Invitation
	if err := t.First(ctx, &inv, id); err != nil {
		return Wrap("Tenant.RevokeInvitation", err)
	}
	if !inv.Open(t.db.Now()) {
		return ErrConflict
	}
	return t.db.Tx(ctx, func(tx *gorm.DB) error {
		now := t.db.Now()
		if err := t.ScopedTx(tx).Model(&Invitation{}).Where("id = ?", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.businessID,
			Action: "member.invitation_revoked", TargetType: "invitation", TargetID: Itoa(id), Detail: inv.Email, IP: ip})
	})
}

// InvitationByToken finds an open invitation by its token.
func (db *DB) InvitationByToken(ctx context.Context, token string) (*Invitation, *Business, error) {
	var inv Invitation
	err := db.WithContext(ctx).First(&inv, "token_hash = ?", HashToken(token)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !inv.Open(db.Now())) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, Wrap("DB.InvitationByToken", err)
	}
	b, err := db.BusinessByID(ctx, inv.BusinessID)
	if err != nil {
		return nil, nil, Wrap("DB.InvitationByToken", err)
	}
	return &inv, b, nil
}

// AcceptInvitation creates the invitee's account and membership. The
// invitation is consumed in the same transaction, so a link works once.
func (db *DB) AcceptInvitation(ctx context.Context, token string, in NewUserInput) (*User, error) {
	v := &ValidationError{}
	v.Merge(CheckName("name", in.Name, 100))
	v.Merge(CheckPasswordRules("password", in.Password))
	if err := v.Err(); err != nil {
		return nil, Wrap("DB.AcceptInvitation", err)
	}
	var u *User
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var inv Invitation
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&inv, "token_hash = ?", HashToken(token)).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := db.Now()
		if !inv.Open(now) {
			return ErrNotFound
		}
		res := tx.Model(&Invitation{}).Where("id = ? AND accepted_at IS NULL", inv.ID).Update("accepted_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		in.Email = inv.Email
		if u, err = db.NewUserTx(tx, in, false); err != nil {
			return err
		}
		if err := tx.Create(&Membership{BusinessID: inv.BusinessID, UserID: u.ID, Role: inv.Role, CreatedAt: now}).Error; err != nil {
			return err
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: u.ID, ActorEmail: u.Email, BusinessID: inv.BusinessID,
			Action: "member.joined", TargetType: "user", TargetID: Itoa(u.ID), Detail: string(inv.Role)})
	})
	return u, Wrap("DB.AcceptInvitation", err)
}

// member loads one membership of this business by id.
func (t Tenant) member(tx *gorm.DB, id int64) (*Membership, error) {
	var m Membership
	err := t.ScopedTx(tx).Preload("User").First(&m, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &m, err
}

// ErrLastOwner stops a business from losing its last owner.
var ErrLastOwner = errors.New("a business needs at least one owner")

// keepsAnOwner fails with ErrLastOwner when m is the business's only
// owner, so demoting or removing m would leave it without one.
func (t Tenant) keepsAnOwner(tx *gorm.DB, m *Membership) error {
	if m.Role != RoleOwner {
		return nil
	}
	var n int64
	if err := t.ScopedTx(tx).Model(&Membership{}).Where("role = ? AND id <> ?", RoleOwner, m.ID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return ErrLastOwner
	}
	return nil
}

// SetRole changes a member's role; the last owner cannot be demoted.
func (t Tenant) SetRole(ctx context.Context, actor *User, membershipID int64, role Role, ip string) error {
	if !role.Valid() {
		return Invalid("role", "role.invalid")
	}
	return t.db.Tx(ctx, func(tx *gorm.DB) error {
		m, err := t.member(tx, membershipID)
		if err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		if err := t.keepsAnOwner(tx, m); err != nil {
			return err
		}
		if err := t.ScopedTx(tx).Model(&Membership{}).Where("id = ?", m.ID).Update("role", role).Error; err != nil {
			return err
		}
		return WriteAudit(tx, t.db.Now(), AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.businessID,
			Action: "member.role_changed", TargetType: "user", TargetID: Itoa(m.UserID), Detail: m.User.Email + " to " + string(role), Previous: string(m.Role), IP: ip})
	})
}

// RemoveMember removes a member and their account, ending their sessions
// at once. Owners cannot remove the last owner.
func (t Tenant) RemoveMember(ctx context.Context, actor *User, membershipID int64, ip string) error {
	return t.db.Tx(ctx, func(tx *gorm.DB) error {
		m, err := t.member(tx, membershipID)
		if err != nil {
			return err
		}
		if err := t.keepsAnOwner(tx, m); err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", m.UserID).Delete(&Session{}).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", m.ID).Delete(&Membership{}).Error; err != nil {
			return err
		}
		// The account existed only for this business; remove it so the
		// address can be invited elsewhere. The audit log keeps the email.
		if err := tx.Where("id = ? AND is_admin = ?", m.UserID, false).Delete(&User{}).Error; err != nil {
			return err
		}
		return WriteAudit(tx, t.db.Now(), AuditEntry{ActorID: actor.ID, ActorEmail: actor.Email, BusinessID: t.businessID,
			Action: "member.removed", TargetType: "user", TargetID: Itoa(m.UserID), Detail: m.User.Email, Previous: string(m.Role), IP: ip})
	})
}
