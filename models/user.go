package models

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// User is a person who logs in: a platform administrator or a member of a
// business.
type User struct {
	ID                int64
	Email             string
	Name              string
	PasswordHash      string `gorm:"column:password_hash"`
	IsAdmin           bool
	Locale            string
	SuspendedAt       *time.Time
	PasswordChangedAt time.Time
	LastLoginAt       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Role of a member within one business.
type Role string

const (
	RoleOwner Role = "owner"
	RoleStaff Role = "staff"
)

// Valid reports whether r is a known business role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleStaff }

// Membership ties a user to the one business they work for.
type Membership struct {
	ID         int64
	BusinessID int64
	UserID     int64
	Role       Role
	CreatedAt  time.Time
	User       *User `gorm:"foreignKey:UserID"`
}

// NormalizeEmail lowercases and trims an address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckEmail validates an address for field.
func CheckEmail(field, s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return Invalid(field, "field.required")
	}
	if len(s) > 254 {
		return Invalid(field, "field.too_long", 254)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return Invalid(field, "email.invalid")
	}
	return nil
}

// CheckName validates a person's or business's name for field.
func CheckName(field, s string, max int) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Invalid(field, "field.required")
	case !utf8.ValidString(s):
		return Invalid(field, "field.invalid_text")
	case utf8.RuneCountInString(s) > max:
		return Invalid(field, "field.too_long", max)
	case HasControlChars(s):
		return Invalid(field, "field.control_chars")
	}
	return nil
}

// HasControlChars finds NUL and other C0 controls and the bidi override
// characters that can disguise text.
func HasControlChars(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return true
		}
	}
	return false
}

// UserByID loads a user.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := db.WithContext(ctx).First(&u, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, Wrap("DB.UserByID", err)
}

// UserByEmail loads a user by address.
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := db.WithContext(ctx).First(&u, "email = ?", NormalizeEmail(email)).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, Wrap("DB.UserByEmail", err)
}

// MembershipOf returns the user's membership, or ErrNotFound for users who
// belong to no business (administrators).
func (db *DB) MembershipOf(ctx context.Context, userID int64) (*Membership, error) {
	var m Membership
	err := db.WithContext(ctx).First(&m, "user_id = ?", userID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &m, Wrap("DB.MembershipOf", err)
}

// HasAdmin reports whether the platform administrator exists yet.
func (db *DB) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Model(&User{}).Where("is_admin = ?", true).Count(&n).Error
	return n > 0, Wrap("DB.HasAdmin", err)
}

// NewUserInput is what creating any account needs.
type NewUserInput struct {
	Name     string
	Email    string
	Password string
	Locale   string
}

func (in NewUserInput) validate(v *ValidationError) {
	v.Merge(CheckName("name", in.Name, 100))
	v.Merge(CheckEmail("email", in.Email))
	v.Merge(CheckPasswordRules("password", in.Password))
}

// NewUserTx creates a user inside tx after checking in's rules (sign-up,
// set-up, invitations and the demo loader share it).
func (db *DB) NewUserTx(tx *gorm.DB, in NewUserInput, admin bool) (*User, error) {
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, Wrap("DB.NewUserTx", err)
	}
	now := db.Now()
	loc := in.Locale
	if loc == "" {
		loc = "en"
	}
	u := &User{Email: NormalizeEmail(in.Email), Name: strings.TrimSpace(in.Name), PasswordHash: hash, IsAdmin: admin,
		Locale: loc, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Invalid("email", "email.taken")
		}
		return nil, Wrap("DB.NewUserTx", err)
	}
	return u, nil
}

// CreateAdmin creates the platform administrator on first run. It fails
// with ErrConflict once an administrator exists, so the setup page cannot
// be used twice.
func (db *DB) CreateAdmin(ctx context.Context, in NewUserInput) (*User, error) {
	v := &ValidationError{}
	in.validate(v)
	if err := v.Err(); err != nil {
		return nil, Wrap("DB.CreateAdmin", err)
	}
	var u *User
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("is_admin = ?", true).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrConflict
		}
		var err error
		u, err = db.NewUserTx(tx, in, true)
		if err != nil {
			return err
		}
		return WriteAudit(tx, db.Now(), AuditEntry{ActorID: u.ID, ActorEmail: u.Email, Action: "admin.created", TargetType: "user", TargetID: Itoa(u.ID)})
	})
	return u, Wrap("DB.CreateAdmin", err)
}

// ChangePassword sets a new password after checking the current one, and
// ends every other session of the user (keepSessionID stays).
func (db *DB) ChangePassword(ctx context.Context, userID int64, current, next, keepSessionID string) error {
	u, err := db.UserByID(ctx, userID)
	if err != nil {
		return Wrap("DB.ChangePassword", err)
	}
	v := &ValidationError{}
	if !passwordMatches(current, u.PasswordHash) {
		v.Add("current", "password.current_wrong")
	}
	v.Merge(CheckPasswordRules("new", next))
	if err := v.Err(); err != nil {
		return Wrap("DB.ChangePassword", err)
	}
	hash, err := HashPassword(next)
	if err != nil {
		return Wrap("DB.ChangePassword", err)
	}
	return db.Tx(ctx, func(tx *gorm.DB) error {
		now := db.Now()
		if err := tx.Model(&User{}).Where("id = ?", userID).
			Updates(map[string]any{"password_hash": hash, "password_changed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ? AND id <> ?", userID, keepSessionID).Delete(&Session{}).Error; err != nil {
			return err
		}
		return WriteAudit(tx, now, AuditEntry{ActorID: u.ID, ActorEmail: u.Email, Action: "user.password_changed", TargetType: "user", TargetID: Itoa(u.ID)})
	})
}
