package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
)

// SessionStore is a gorilla/sessions store whose sessions live in the
// database. The cookie carries only a random token, signed with the
// session secret; the row is keyed by the token's hash. Logging out,
// changing a password, removing a member or suspending a business deletes
// rows, which ends those sessions at once.
type SessionStore struct {
	db     *models.DB
	codec  securecookie.Codec
	name   string
	secure bool
	idle   time.Duration
	max    time.Duration
	now    func() time.Time
}

// cookieValue is what the session cookie carries. A member's session is a
// database row and the cookie holds its token (only the token's hash is
// stored). A visitor who is not logged in has no row: the cookie carries
// the few values such a session holds (the CSRF token, flashes) and when
// they were last saved, signed with the session secret. So fetching the
// log-in page without its cookie, over and over, writes nothing.
type cookieValue struct {
	Token string
	Data  map[string]string
	Seen  int64 // Unix seconds; for the idle time-out of an anonymous session
}

// Session value keys. Values are strings.
const (
	keyUserID = "uid"
	keyCSRF   = "csrf"
	keyFlash  = "flash"
	// internal bookkeeping, not persisted in data
	keyToken   = "_token"
	keyCreated = "_created"
	keySeen    = "_seen"
	// keyPrincipal holds the *models.Principal read with the session row
	// (never saved: only string values are).
	keyPrincipal = "_principal"
)

// NewSessionStore builds the store.
func NewSessionStore(db *models.DB, cfg Config, now func() time.Time) *SessionStore {
	name := "optline_session"
	if cfg.Secure() {
		// __Host- pins the cookie to this host, path / and HTTPS.
		name = "__Host-optline_session"
	}
	codec := securecookie.New(cfg.SessionSecret, nil)
	codec.MaxAge(0)
	return &SessionStore{db: db, codec: codec, name: name, secure: cfg.Secure(), idle: cfg.SessionIdle, max: cfg.SessionMax, now: now}
}

// CookieName is the session cookie's name.
func (s *SessionStore) CookieName() string { return s.name }

// Get implements sessions.Store.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New implements sessions.Store: it loads the session named by the cookie,
// or returns a fresh one (IsNew) when there is none, it is unknown, or it
// has timed out.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var cv cookieValue
	if err := s.codec.Decode(name, c.Value, &cv); err != nil {
		// A token alone: a cookie set before anonymous sessions moved
		// into the cookie.
		if err := s.codec.Decode(name, c.Value, &cv.Token); err != nil {
			return sess, nil
		}
	}
	now := s.now()
	if cv.Token == "" {
		seen := time.Unix(cv.Seen, 0)
		if cv.Data == nil || now.Sub(seen) > s.idle {
			return sess, nil
		}
		for k, v := range cv.Data {
			sess.Values[k] = v
		}
		sess.IsNew = false
		if now.Sub(seen) > time.Minute { // refresh the idle clock at most once a minute
			markDirty(sess)
		}
		return sess, nil
	}
	token := cv.Token
	id := models.HashToken(token)
	row, principal, err := s.db.SessionWithPrincipal(r.Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if now.Sub(row.LastSeenAt) > s.idle || now.Sub(row.CreatedAt) > s.max {
		_ = s.db.DeleteSession(r.Context(), id)
		return sess, nil
	}
	var data map[string]string
	_ = json.Unmarshal([]byte(row.Data), &data)
	for k, v := range data {
		sess.Values[k] = v
	}
	if row.UserID != nil {
		sess.Values[keyUserID] = strconv.FormatInt(*row.UserID, 10)
		if principal != nil {
			sess.Values[keyPrincipal] = principal
		}
	}
	sess.ID = id
	sess.Values[keyToken] = token
	sess.Values[keyCreated] = row.CreatedAt
	sess.Values[keySeen] = row.LastSeenAt
	sess.IsNew = false
	// Refresh the idle clock at most once a minute.
	if now.Sub(row.LastSeenAt) > time.Minute {
		if err := s.db.TouchSession(r.Context(), id, now); err != nil {
			return sess, err
		}
	}
	return sess, nil
}

// Save implements sessions.Store. MaxAge < 0 deletes the session.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.db.DeleteSession(r.Context(), sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, s.cookie("", -1))
		return nil
	}
	data := map[string]string{}
	var uid *int64
	for k, v := range sess.Values {
		ks, _ := k.(string)
		vs, ok := v.(string)
		if !ok || ks == "" || ks[0] == '_' {
			continue
		}
		if ks == keyUserID {
			if n, err := strconv.ParseInt(vs, 10, 64); err == nil && n > 0 {
				uid = &n
			}
			continue
		}
		data[ks] = vs
	}
	if uid == nil && sess.ID == "" { // a visitor: everything in the cookie
		return s.setCookie(w, sess, cookieValue{Data: data, Seen: s.now().Unix()})
	}
	token, _ := sess.Values[keyToken].(string)
	if sess.ID == "" || token == "" {
		token = models.NewToken()
		sess.ID = models.HashToken(token)
		sess.Values[keyToken] = token
		sess.Values[keyCreated] = s.now()
	}
	created, _ := sess.Values[keyCreated].(time.Time)
	if created.IsZero() {
		created = s.now()
	}
	b, _ := json.Marshal(data)
	row := &models.Session{ID: sess.ID, UserID: uid, Data: string(b), CreatedAt: created, LastSeenAt: s.now(),
		IP: truncate(RealIPFrom(r), 64), UserAgent: truncate(r.UserAgent(), 200)}
	if err := s.db.SaveSession(r.Context(), row); err != nil {
		return err
	}
	return s.setCookie(w, sess, cookieValue{Token: token})
}

func (s *SessionStore) setCookie(w http.ResponseWriter, sess *sessions.Session, cv cookieValue) error {
	encoded, err := s.codec.Encode(s.name, cv)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(encoded, 0))
	sess.IsNew = false
	return nil
}

// Renew gives the session a new identifier (after log-in), dropping the
// old row so the cookie from before no longer works.
func (s *SessionStore) Renew(r *http.Request, sess *sessions.Session) error {
	if sess.ID != "" {
		if err := s.db.DeleteSession(r.Context(), sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	delete(sess.Values, keyToken)
	delete(sess.Values, keyCreated)
	sess.Values[keyCSRF] = models.NewToken()
	return nil
}

// RotateSession gives the logged-in user's session a new identifier and
// CSRF token, keeping them logged in with the same values (flashes
// included): the old row is deleted, so the cookie from before the call
// no longer works. Call it after a password change (and any other change
// of privilege), as LogIn does at log-in; the new cookie is set with the
// response.
func (s *Server) RotateSession(c echo.Context) error {
	sess := Session(c)
	if err := s.Sessions.Renew(c.Request(), sess); err != nil {
		return err
	}
	markDirty(sess)
	return nil
}

func (s *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

func (s *SessionStore) cookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: s.name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
	if maxAge < 0 {
		c.Expires = time.Unix(1, 0)
	}
	return c
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
