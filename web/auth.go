package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
)

func newCSRF() string { return models.NewToken() }

// LogIn binds the session to user under a new identifier, so a cookie
// planted before log-in is worthless after it.
func (s *Server) LogIn(c echo.Context, u *models.User) error {
	sess := Session(c)
	if err := s.Sessions.Renew(c.Request(), sess); err != nil {
		return err
	}
	sess.Values[keyUserID] = strconv.FormatInt(u.ID, 10)
	markDirty(sess)
	return nil
}

// LogOut ends the session (its row is deleted).
func (s *Server) LogOut(c echo.Context) error {
	sess := Session(c)
	if sess.ID != "" {
		if err := s.DB.DeleteSession(c.Request().Context(), sess.ID); err != nil {
			return err
		}
	}
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.ID = ""
	sess.Options.MaxAge = -1
	markDirty(sess)
	return nil
}

// SessionID is the current session's row id (its token hash).
func SessionID(c echo.Context) string { return Session(c).ID }

// Routes registers handlers that share an access level.
type Routes struct {
	s     *Server
	level access
}

type access int

const (
	accessPublic access = iota
	accessMember
	accessOwner
	accessAdmin
	accessAny // any logged-in user: administrators and members
)

// Public routes work without logging in (log-in, sign-up, invitations).
func (s *Server) Public() Routes { return Routes{s, accessPublic} }

// LoggedIn routes need any logged-in user.
func (s *Server) LoggedIn() Routes { return Routes{s, accessAny} }

// Member routes need a member of a business (owner or staff).
func (s *Server) Member() Routes { return Routes{s, accessMember} }

// Owner routes need a business owner.
func (s *Server) Owner() Routes { return Routes{s, accessOwner} }

// Admin routes need a platform administrator.
func (s *Server) Admin() Routes { return Routes{s, accessAdmin} }

// GET registers a GET route.
func (r Routes) GET(path string, h echo.HandlerFunc) { r.add(http.MethodGet, path, h) }

// POST registers a POST route.
func (r Routes) POST(path string, h echo.HandlerFunc) { r.add(http.MethodPost, path, h) }

func (r Routes) add(method, path string, h echo.HandlerFunc) {
	if r.level == accessPublic {
		r.s.public[path] = true
	}
	r.s.Echo.Add(method, path, h, r.s.require(r.level))
}

// require enforces an access level. Wrong role: 403 with an audit entry;
// an administrator opening a business page goes to the admin area.
func (s *Server) require(level access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := ActorFrom(c.Request().Context())
			if level == accessPublic || (level == accessAny && a.User != nil) {
				return next(c)
			}
			if a.User == nil {
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			ok := false
			switch level {
			case accessMember:
				ok = a.Membership != nil
				if !ok && a.IsAdmin() && c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/admin")
				}
			case accessOwner:
				ok = a.IsOwner()
			case accessAdmin:
				ok = a.IsAdmin()
			}
			if !ok {
				return s.Deny(c)
			}
			return next(c)
		}
	}
}

// Deny answers a member whose role does not allow the action: an audit
// entry and 403. The route guard uses it; so do handlers whose rule
// depends on the record (a staff member may edit a profile only when the
// owner allows it).
func (s *Server) Deny(c echo.Context) error {
	a := ActorFrom(c.Request().Context())
	_ = s.DB.Audit(c.Request().Context(), models.AuditEntry{ActorID: a.User.ID, ActorEmail: a.User.Email,
		BusinessID: a.BusinessID(), Action: "access.denied", TargetType: "route", TargetID: c.Request().Method + " " + c.Path(), IP: c.RealIP()})
	return echo.NewHTTPError(http.StatusForbidden)
}

// Forget makes the request's session a visitor's again under a new id,
// keeping its flashes: after a password reset, whoever this browser was
// logged in as, the user logs in again with the new password.
func (s *Server) Forget(c echo.Context) error {
	sess := Session(c)
	if err := s.Sessions.Renew(c.Request(), sess); err != nil {
		return err
	}
	delete(sess.Values, keyUserID)
	markDirty(sess)
	return nil
}
