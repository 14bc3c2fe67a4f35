package web

import (
	"context"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
)

// Actor is who is making the request: the user, and for business members
// their membership and business. Anonymous requests have a nil User.
type Actor struct {
	User       *models.User
	Membership *models.Membership
	Business   *models.Business
}

// IsAdmin reports whether the actor is a platform administrator.
func (a *Actor) IsAdmin() bool { return a != nil && a.User != nil && a.User.IsAdmin }

// IsOwner reports whether the actor owns their business.
func (a *Actor) IsOwner() bool {
	return a != nil && a.Membership != nil && a.Membership.Role == models.RoleOwner
}

// BusinessID is the actor's business, 0 for administrators and visitors.
func (a *Actor) BusinessID() int64 {
	if a == nil || a.Membership == nil {
		return 0
	}
	return a.Membership.BusinessID
}

type ctxKey int

const (
	actorKey ctxKey = iota
	sessionKey
	localeKey
	nonceKey
	realIPCtx
	uploadKey
)

// ActorFrom returns the request's actor (never nil).
func ActorFrom(ctx context.Context) *Actor {
	if a, ok := ctx.Value(actorKey).(*Actor); ok {
		return a
	}
	return &Actor{}
}

// LocaleFrom returns the request's locale.
func LocaleFrom(ctx context.Context) *i18n.Locale {
	if l, ok := ctx.Value(localeKey).(*i18n.Locale); ok {
		return l
	}
	return i18n.Default
}

// NonceFrom returns the request's CSP nonce.
func NonceFrom(ctx context.Context) string {
	s, _ := ctx.Value(nonceKey).(string)
	return s
}

func sessionFrom(ctx context.Context) *sessions.Session {
	s, _ := ctx.Value(sessionKey).(*sessions.Session)
	return s
}

func setCtx(c echo.Context, key ctxKey, v any) {
	r := c.Request()
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), key, v)))
}

// Tenant returns the scoped store for the actor's business. It fails with
// ErrNoTenant for actors without one, so no handler can query unscoped.
func (s *Server) Tenant(c echo.Context) (models.Tenant, error) {
	return s.DB.Tenant(ActorFrom(c.Request().Context()).BusinessID())
}
