package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
)

// recoverMiddleware turns a panic into a plain 500 page, logged once with
// its stack; the process keeps serving.
func (s *Server) recoverMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				buf := make([]byte, 8<<10)
				buf = buf[:runtime.Stack(buf, false)]
				s.Log.Error("panic in handler", "method", c.Request().Method, "route", c.Path(), "panic", fmt.Sprint(r), "stack", string(buf))
				err = errPanic
			}
		}()
		return next(c)
	}
}

var errPanic = errors.New("internal error")

// logMiddleware logs one line per request: method, route pattern, status,
// duration, client address. Never query strings (tokens), bodies or
// cookies.
func (s *Server) logMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		ip := c.RealIP()
		setCtx(c, realIPCtx, ip)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case c.Request().URL.Path == "/healthz" || c.Request().URL.Path == "/readyz" || status == http.StatusNotModified:
			level = slog.LevelDebug
		case c.Request().URL.Path == WebhookPath && status == http.StatusOK:
			// The platform posts thousands a second at peak; refusals
			// (401, 413) stay at info.
			level = slog.LevelDebug
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		attrs := []slog.Attr{slog.String("method", c.Request().Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("took", time.Since(start)), slog.String("ip", ip)}
		if a := ActorFrom(c.Request().Context()); a.User != nil {
			attrs = append(attrs, slog.Int64("user", a.User.ID))
		}
		if err != nil && status >= 500 {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.Log.LogAttrs(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// headersMiddleware sets the security headers on every response and a
// fresh CSP nonce for the page's own scripts.
func (s *Server) headersMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := base64.StdEncoding.EncodeToString(b)
		setCtx(c, nonceKey, nonce)
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' data: blob:; "+
			"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.Config.Secure() {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// pageMiddleware gives every page request its session, locale, CSRF
// check, first-run gate and actor, and denies anything not explicitly
// public to visitors who are not logged in.
func (s *Server) pageMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !isPagePath(r.URL.Path) {
			return next(c)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		sess, err := s.Sessions.Get(r, s.Sessions.CookieName())
		if err != nil {
			return err
		}
		setCtx(c, sessionKey, sess)
		// The session is written just before the response's first byte, so
		// handlers change it freely and only changed sessions hit the DB.
		c.Response().Before(func() {
			if sessionDirty(sess) {
				if err := s.Sessions.Save(c.Request(), c.Response().Writer, sess); err != nil {
					s.Log.Error("save session", "error", err)
				}
			}
		})

		actor := &Actor{}
		if uid, _ := strconv.ParseInt(stringValue(sess, keyUserID), 10, 64); uid > 0 {
			actor, err = s.loadActor(c, sess, uid)
			if err != nil {
				return err
			}
			if actor.User == nil { // user gone or suspended: log out
				if err := s.Sessions.Renew(r, sess); err != nil {
					return err
				}
				delete(sess.Values, keyUserID)
				markDirty(sess)
			}
		}
		setCtx(c, actorKey, actor)
		loc := i18n.Match(r.Header.Get("Accept-Language"))
		if actor.User != nil {
			loc = i18n.Get(actor.User.Locale)
		} else if l := stringValue(sess, "locale"); l != "" {
			loc = i18n.Get(l)
		}
		setCtx(c, localeKey, loc)

		if unsafeMethod(r.Method) {
			if err := s.checkCSRF(c, sess); err != nil {
				return err
			}
		}
		if !s.setupDone(r.Context()) && c.Path() != "/setup" {
			return c.Redirect(http.StatusSeeOther, "/setup")
		}
		if actor.User == nil && !s.public[c.Path()] {
			if r.Method == http.MethodGet && c.Path() != "" {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
			}
			if c.Path() != "" && c.Path() != "/*" {
				return c.Redirect(http.StatusSeeOther, "/login")
			}
		}
		return next(c)
	}
}

// loadActor gives the actor of user uid: the principal read with the
// session row when it is that user's, else one query. A user who is gone
// or suspended, or a member of a suspended business, is no actor (logged
// out); administrators have no membership.
func (s *Server) loadActor(c echo.Context, sess *sessions.Session, uid int64) (*Actor, error) {
	p, _ := sess.Values[keyPrincipal].(*models.Principal)
	delete(sess.Values, keyPrincipal)
	if p == nil || p.User == nil || p.User.ID != uid {
		var err error
		p, err = s.DB.PrincipalOf(c.Request().Context(), uid)
		if errors.Is(err, models.ErrNotFound) {
			return &Actor{}, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if p.User.SuspendedAt != nil {
		return &Actor{}, nil
	}
	if p.Membership == nil {
		return &Actor{User: p.User}, nil
	}
	if p.Business == nil {
		return nil, fmt.Errorf("business %d of membership %d: %w", p.Membership.BusinessID, p.Membership.ID, models.ErrNotFound)
	}
	if p.Business.Suspended() {
		return &Actor{}, nil
	}
	return &Actor{User: p.User, Membership: p.Membership, Business: p.Business}, nil
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// checkCSRF compares the request's token (form field _csrf or header
// X-CSRF-Token) with the session's, in constant time. The token is
// required whatever Sec-Fetch-Site says.
//
// An upload (multipart body to an upload route) carries it in its first
// part, the hidden _csrf field that the form puts before the file: it is
// read here, before any byte of the file, and only then does the handler
// get the body (MultipartReader). There is no query-string token.
func (s *Server) checkCSRF(c echo.Context, sess *sessions.Session) error {
	forbidden := echo.NewHTTPError(http.StatusForbidden, "csrf")
	want := stringValue(sess, keyCSRF)
	if want == "" {
		return forbidden
	}
	r := c.Request()
	st := uploadFrom(c)
	if got := r.Header.Get("X-CSRF-Token"); got != "" {
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return forbidden
		}
		if st != nil {
			st.csrfDone = true
		}
		return nil
	}
	if st != nil {
		return st.checkCSRF(want)
	}
	if isMultipart(r) { // refused by limitMiddleware already; never parsed
		return forbidden
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("_csrf")), []byte(want)) != 1 {
		return forbidden
	}
	return nil
}
