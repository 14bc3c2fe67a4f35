package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

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
	budget sessionBudget // new anonymous sessions per address
}

// NewAnonymousAllowed reports whether r's address may start another
// anonymous session now (see sessionBudget).
func (s *SessionStore) NewAnonymousAllowed(r *http.Request) bool {
	return !s.budget.exhausted(RealIPFrom(r), s.now())
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
	var token string
	if err := s.codec.Decode(name, c.Value, &token); err != nil || token == "" {
		return sess, nil
	}
	id := models.HashToken(token)
	row, principal, err := s.db.SessionWithPrincipal(r.Context(), id)
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	now := s.now()
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
	token, _ := sess.Values[keyToken].(string)
	if sess.ID == "" || token == "" {
		if _, user := sess.Values[keyUserID]; !user {
			s.budget.spend(RealIPFrom(r), s.now())
		}
		token = models.NewToken()
		sess.ID = models.HashToken(token)
		sess.Values[keyToken] = token
		sess.Values[keyCreated] = s.now()
	}
	created, _ := sess.Values[keyCreated].(time.Time)
	if created.IsZero() {
		created = s.now()
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
	b, _ := json.Marshal(data)
	row := &models.Session{ID: sess.ID, UserID: uid, Data: string(b), CreatedAt: created, LastSeenAt: s.now(),
		IP: truncate(RealIPFrom(r), 64), UserAgent: truncate(r.UserAgent(), 200)}
	if err := s.db.SaveSession(r.Context(), row); err != nil {
		return err
	}
	encoded, err := s.codec.Encode(s.name, token)
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
