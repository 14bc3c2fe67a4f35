package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/static"
)

// Server is the HTTP side of the portal.
type Server struct {
	Echo     *echo.Echo
	DB       *models.DB
	Config   Config
	Log      *slog.Logger
	Sessions *SessionStore
	Now      func() time.Time
	// SetupToken guards the first-run page; printed to the console.
	SetupToken string
	Mailer     Mailer
	// Console is where what only the operator may see is printed (the
	// set-up link, demo logins): the terminal, never the log.
	Console io.Writer

	hasAdmin atomic.Bool
	public   map[string]bool
	uploads  map[string]int64 // upload route -> body limit
	// rawBodies are the routes taking a raw body over SmallBodyBytes (the
	// platform's webhook) -> body limit.
	rawBodies map[string]int64
}

// Options are the parts a caller may replace (tests inject a clock).
type Options struct {
	Now     func() time.Time
	Mailer  Mailer
	Console io.Writer // default os.Stdout
}

// New builds the server and its middleware chain.
func New(cfg Config, db *models.DB, log *slog.Logger, opt Options) *Server {
	if opt.Now == nil {
		opt.Now = func() time.Time { return time.Now().UTC() }
	}
	if opt.Mailer == nil {
		opt.Mailer = NewMailer(cfg.SMTP, log)
	}
	if opt.Console == nil {
		opt.Console = os.Stdout
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Echo: e, DB: db, Config: cfg, Log: log, Now: opt.Now, Mailer: opt.Mailer, Console: opt.Console,
		Sessions: NewSessionStore(db, cfg, opt.Now), public: map[string]bool{}, uploads: map[string]int64{}, rawBodies: map[string]int64{}, SetupToken: models.NewToken()}
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.recoverMiddleware, s.logMiddleware, s.headersMiddleware)
	// Body limits, multipart refusal and the NUL/UTF-8 rule: before
	// sessions and CSRF, which parse the form.
	e.Use(s.limitMiddleware)
	e.Use(s.pageMiddleware)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		if err := db.Ping(c.Request().Context()); err != nil {
			return c.String(http.StatusServiceUnavailable, "database unreachable\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	e.GET("/static/*", static.Handler())
	return s
}

func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// RealIPFrom is the client address as the server determined it.
func RealIPFrom(r *http.Request) string {
	if ip, ok := r.Context().Value(realIPCtx).(string); ok {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// MarkSetupDone records that an administrator exists (after setup).
func (s *Server) MarkSetupDone() { s.hasAdmin.Store(true) }

func (s *Server) setupDone(ctx context.Context) bool {
	if s.hasAdmin.Load() {
		return true
	}
	ok, err := s.DB.HasAdmin(ctx)
	if err == nil && ok {
		s.hasAdmin.Store(true)
	}
	return ok
}

// Start serves until ctx ends, then shuts down gracefully.
func (s *Server) Start(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Minute,
		WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// WebhookPath is the platform's webhook address.
const WebhookPath = "/webhooks/whatsapp"

// isPagePath reports whether path gets sessions, CSRF and the login gate.
func isPagePath(p string) bool {
	switch {
	// The platform's webhook is server to server: no session cookie, no
	// CSRF token (its POSTs are authenticated by their signature).
	case strings.HasPrefix(p, "/static/"), p == WebhookPath, p == "/healthz", p == "/readyz", p == "/favicon.ico":
		return false
	}
	return true
}

// PrintDemoLogins tells the operator, on the console, how to log in to the
// demo business (the set-up page shows it once too; the console keeps it).
func PrintDemoLogins(w io.Writer, owner, staff, password string) {
	fmt.Fprintf(w, "\nDemo business loaded. Log in as %s (owner) or %s (staff) with password %s\n\n", owner, staff, password)
}
