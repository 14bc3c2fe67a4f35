package models

import (
	"context"
	"time"
)

// Principal is who a request acts as: the user, and for business members
// their membership and business (both nil for administrators). It is read
// in one query, with the session row when there is one, because every page
// request needs it.
type Principal struct {
	User       *User
	Membership *Membership
	Business   *Business
}

// principalRow is the flat result of the joined query; the membership and
// business columns are NULL for users without a membership, and the user's
// columns NULL for a session without a user (or whose user is gone).
type principalRow struct {
	SID         *string    `gorm:"column:s_id"`
	SUserID     *int64     `gorm:"column:s_user_id"`
	SData       *string    `gorm:"column:s_data"`
	SCreatedAt  *time.Time `gorm:"column:s_created_at"`
	SLastSeenAt *time.Time `gorm:"column:s_last_seen_at"`
	SIP         *string    `gorm:"column:s_ip"`
	SUserAgent  *string    `gorm:"column:s_user_agent"`

	UID                *int64     `gorm:"column:u_id"`
	UEmail             *string    `gorm:"column:u_email"`
	UName              *string    `gorm:"column:u_name"`
	UPasswordHash      *string    `gorm:"column:u_password_hash"`
	UIsAdmin           *bool      `gorm:"column:u_is_admin"`
	ULocale            *string    `gorm:"column:u_locale"`
	USuspendedAt       *time.Time `gorm:"column:u_suspended_at"`
	UPasswordChangedAt *time.Time `gorm:"column:u_password_changed_at"`
	ULastLoginAt       *time.Time `gorm:"column:u_last_login_at"`
	UCreatedAt         *time.Time `gorm:"column:u_created_at"`
	UUpdatedAt         *time.Time `gorm:"column:u_updated_at"`

	MID         *int64     `gorm:"column:m_id"`
	MBusinessID *int64     `gorm:"column:m_business_id"`
	MUserID     *int64     `gorm:"column:m_user_id"`
	MRole       *string    `gorm:"column:m_role"`
	MCreatedAt  *time.Time `gorm:"column:m_created_at"`

	BID                *int64     `gorm:"column:b_id"`
	BName              *string    `gorm:"column:b_name"`
	BStatus            *string    `gorm:"column:b_status"`
	BSuspendedAt       *time.Time `gorm:"column:b_suspended_at"`
	BSuspendedReason   *string    `gorm:"column:b_suspended_reason"`
	BVerificationState *string    `gorm:"column:b_verification_state"`
	BCreatedAt         *time.Time `gorm:"column:b_created_at"`
	BUpdatedAt         *time.Time `gorm:"column:b_updated_at"`
}

const principalColumns = `u.id AS u_id, u.email AS u_email, u.name AS u_name, u.password_hash AS u_password_hash,
	u.is_admin AS u_is_admin, u.locale AS u_locale, u.suspended_at AS u_suspended_at,
	u.password_changed_at AS u_password_changed_at, u.last_login_at AS u_last_login_at,
	u.created_at AS u_created_at, u.updated_at AS u_updated_at,
	m.id AS m_id, m.business_id AS m_business_id, m.user_id AS m_user_id, m.role AS m_role, m.created_at AS m_created_at,
	b.id AS b_id, b.name AS b_name, b.status AS b_status, b.suspended_at AS b_suspended_at,
	b.suspended_reason AS b_suspended_reason, b.verification_state AS b_verification_state,
	b.created_at AS b_created_at, b.updated_at AS b_updated_at`

const principalJoins = ` LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN businesses b ON b.id = m.business_id`

// PrincipalOf loads a user with their membership and business in one
// query; ErrNotFound when the user does not exist.
func (db *DB) PrincipalOf(ctx context.Context, userID int64) (*Principal, error) {
	rows, err := db.principalRows(ctx, false, `SELECT `+principalColumns+` FROM users u`+principalJoins+` WHERE u.id = ? LIMIT 1`, userID)
	if err != nil {
		return nil, Wrap("DB.PrincipalOf", err)
	}
	if len(rows) == 0 || rows[0].UID == nil {
		return nil, ErrNotFound
	}
	return rows[0].principal(), nil
}

// SessionWithPrincipal loads a session row and, when it belongs to a user
// who still exists, that user's principal, in one query. The principal is
// nil for a session without a user.
func (db *DB) SessionWithPrincipal(ctx context.Context, id string) (*Session, *Principal, error) {
	rows, err := db.principalRows(ctx, true, `SELECT s.id AS s_id, s.user_id AS s_user_id, s.data AS s_data, s.created_at AS s_created_at,
	s.last_seen_at AS s_last_seen_at, s.ip AS s_ip, s.user_agent AS s_user_agent, `+principalColumns+`
FROM sessions s LEFT JOIN users u ON u.id = s.user_id`+principalJoins+` WHERE s.id = ? LIMIT 1`, id)
	if err != nil {
		return nil, nil, Wrap("DB.SessionWithPrincipal", err)
	}
	if len(rows) == 0 || rows[0].SID == nil {
		return nil, nil, ErrNotFound
	}
	r := rows[0]
	s := &Session{ID: *r.SID, UserID: r.SUserID, Data: deref(r.SData), CreatedAt: deref(r.SCreatedAt),
		LastSeenAt: deref(r.SLastSeenAt), IP: deref(r.SIP), UserAgent: deref(r.SUserAgent)}
	if r.UID == nil {
		return s, nil, nil
	}
	return s, r.principal(), nil
}

// principalRows runs q (principalColumns, after the session's columns
// when withSession). Every page request runs it, so on PostgreSQL it goes
// through pgx and scans the columns in order, without GORM's reflection;
// SQLite reads it through GORM, which knows its time format.
func (db *DB) principalRows(ctx context.Context, withSession bool, q string, args ...any) ([]principalRow, error) {
	var rows []principalRow
	if db.Dialect != Postgres {
		err := db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error
		return rows, err
	}
	q, args = DollarArgs(q, args)
	pr, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	for pr.Next() {
		var r principalRow
		var dest []any
		if withSession {
			dest = []any{&r.SID, &r.SUserID, &r.SData, &r.SCreatedAt, &r.SLastSeenAt, &r.SIP, &r.SUserAgent}
		}
		dest = append(dest, &r.UID, &r.UEmail, &r.UName, &r.UPasswordHash, &r.UIsAdmin, &r.ULocale, &r.USuspendedAt,
			&r.UPasswordChangedAt, &r.ULastLoginAt, &r.UCreatedAt, &r.UUpdatedAt,
			&r.MID, &r.MBusinessID, &r.MUserID, &r.MRole, &r.MCreatedAt,
			&r.BID, &r.BName, &r.BStatus, &r.BSuspendedAt, &r.BSuspendedReason, &r.BVerificationState, &r.BCreatedAt, &r.BUpdatedAt)
		if err := pr.Scan(dest...); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, pr.Err()
}

func (r *principalRow) principal() *Principal {
	p := &Principal{User: &User{ID: *r.UID, Email: deref(r.UEmail), Name: deref(r.UName), PasswordHash: deref(r.UPasswordHash),
		IsAdmin: deref(r.UIsAdmin), Locale: deref(r.ULocale), SuspendedAt: r.USuspendedAt, PasswordChangedAt: deref(r.UPasswordChangedAt),
		LastLoginAt: r.ULastLoginAt, CreatedAt: deref(r.UCreatedAt), UpdatedAt: deref(r.UUpdatedAt)}}
	if r.MID != nil {
		p.Membership = &Membership{ID: *r.MID, BusinessID: deref(r.MBusinessID), UserID: deref(r.MUserID), Role: Role(deref(r.MRole)),
			CreatedAt: deref(r.MCreatedAt)}
	}
	if r.BID != nil {
		p.Business = &Business{ID: *r.BID, Name: deref(r.BName), Status: deref(r.BStatus), SuspendedAt: r.BSuspendedAt,
			SuspendedReason: deref(r.BSuspendedReason), VerificationState: deref(r.BVerificationState),
			CreatedAt: deref(r.BCreatedAt), UpdatedAt: deref(r.BUpdatedAt)}
	}
	return p
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
