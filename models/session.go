package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Session is a server-side login session. Its id is the SHA-256 of the
// token in the cookie, so a copy of the table does not log anyone in.
type Session struct {
	ID         string
	UserID     *int64
	Data       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string
	UserAgent  string
}

// SessionByID loads a session row.
func (db *DB) SessionByID(ctx context.Context, id string) (*Session, error) {
	var s Session
	err := db.WithContext(ctx).First(&s, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &s, Wrap("DB.SessionByID", err)
}

// SaveSession inserts or updates a session row.
func (db *DB) SaveSession(ctx context.Context, s *Session) error {
	return db.WithContext(ctx).Save(s).Error
}

// TouchSession moves a session's last-seen time (idle time-out).
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.WithContext(ctx).Model(&Session{}).Where("id = ?", id).Update("last_seen_at", at).Error
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return db.WithContext(ctx).Where("id = ?", id).Delete(&Session{}).Error
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	return db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{}).Error
}

// PurgeExpired removes sessions idle since idleBefore or created before
// createdBefore, and invitations that expired more than a week ago. It
// returns how many rows went.
func (db *DB) PurgeExpired(ctx context.Context, idleBefore, createdBefore time.Time) (sessions, invitations int64, err error) {
	r := db.WithContext(ctx).Where("last_seen_at < ? OR created_at < ?", idleBefore, createdBefore).Delete(&Session{})
	if r.Error != nil {
		return 0, 0, r.Error
	}
	r2 := db.WithContext(ctx).Where("accepted_at IS NULL AND expires_at < ?", db.Now().Add(-7*24*time.Hour)).Delete(&Invitation{})
	return r.RowsAffected, r2.RowsAffected, r2.Error
}
