// Package web is Optline's HTTP server: configuration, the echo instance,
// middleware (sessions, actor, CSRF, security headers, logging, recovery),
// rendering and error pages. Routes live in package handlers.
package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the portal. Each comes from an environment
// variable; a command-line flag of the same meaning overrides it.
type Config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string
	BaseURL        *url.URL
	TrustedProxies []*net.IPNet
	SessionSecret  []byte
	LogLevel       slog.Level
	LogFormat      string // text | json
	SessionIdle    time.Duration
	SessionMax     time.Duration
	MaxUploadBytes int64
	Demo           bool
	SMTP           SMTPConfig
	// WhatsAppVerifyToken is the token the platform's webhook set-up sends
	// (hub.verify_token); WhatsAppAppSecret keys the signature of every
	// webhook POST. Without the secret, POSTs from outside are refused and
	// only the sandbox's in-process events come in.
	WhatsAppVerifyToken string
	WhatsAppAppSecret   string
}

// SMTPConfig is optional: without a host, invitation links are shown to
// the owner to copy instead of e-mailed, and "Forgot password?" says whom
// to ask for a reset link.
type SMTPConfig struct {
	Host, Username, Password, From string
	Port                           int
}

// Secure reports whether the public URL is HTTPS (secure cookies, HSTS).
func (c Config) Secure() bool { return c.BaseURL != nil && c.BaseURL.Scheme == "https" }

// Setting documents one configuration item; the README table is checked
// against this list by a test.
type Setting struct {
	Env, Flag, Default, Help string
}

// Settings lists every configuration item.
var Settings = []Setting{
	{"PORTAL_ADDR", "addr", "127.0.0.1:8080", "address to listen on"},
	{"PORTAL_DATA_DIR", "data-dir", "./data", "folder for the SQLite file, uploads and the generated session secret"},
	{"DATABASE_URL", "database-url", "(SQLite file in the data folder)", "postgres://… to use PostgreSQL; sqlite:PATH for another SQLite file"},
	{"PORTAL_BASE_URL", "base-url", "(http:// + PORTAL_ADDR)", "public URL; https:// turns on Secure __Host- cookies and HSTS"},
	{"PORTAL_TRUSTED_PROXIES", "trusted-proxies", "(none)", "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed"},
	{"SESSION_SECRET", "session-secret", "(generated once into DATA_DIR/session.key)", "at least 32 characters; signs session cookies"},
	{"PORTAL_SESSION_IDLE", "session-idle", "30m", "log out after this long without a request"},
	{"PORTAL_SESSION_MAX", "session-max", "12h", "log out this long after log-in, however active"},
	{"PORTAL_MAX_UPLOAD_BYTES", "max-upload-bytes", "104857600", "largest accepted upload (contact files); 100 MB"},
	{"PORTAL_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"PORTAL_LOG_FORMAT", "log-format", "text", "text or json"},
	{"PORTAL_DEMO", "demo", "false", "load a demo business with staff, contacts and history at start (once)"},
	{"SMTP_HOST", "smtp-host", "(none)", "mail server for invitations and password resets; without it links are shown to copy"},
	{"SMTP_PORT", "smtp-port", "587", "mail server port (STARTTLS)"},
	{"SMTP_USERNAME", "smtp-username", "(none)", "mail server user"},
	{"SMTP_PASSWORD", "smtp-password", "(none)", "mail server password"},
	{"SMTP_FROM", "smtp-from", "(none)", "sender address of invitation and password-reset mails"},
	{"WHATSAPP_VERIFY_TOKEN", "whatsapp-verify-token", "(none)", "the verify token of the platform's webhook set-up (GET /webhooks/whatsapp)"},
	{"WHATSAPP_APP_SECRET", "whatsapp-app-secret", "(none)", "the app secret that signs webhook POSTs (X-Hub-Signature-256); without it only in-process sandbox events come in"},
}

// LoadConfig reads settings from getenv, then from args (flags override).
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, s := range Settings {
		def := getenv(s.Env)
		if def == "" && !strings.HasPrefix(s.Default, "(") {
			def = s.Default
		}
		if s.Flag == "demo" {
			vals[s.Env] = new(string)
			*vals[s.Env] = def
			fs.Func("demo", s.Help+" (env "+s.Env+")", func(v string) error { *vals["PORTAL_DEMO"] = v; return nil })
			continue
		}
		vals[s.Env] = fs.String(s.Flag, def, s.Help+" (env "+s.Env+")")
	}
	// -demo may be given without a value.
	for i, a := range args {
		if a == "-demo" || a == "--demo" {
			args[i] = a + "=true"
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	get := func(k string) string { return strings.TrimSpace(*vals[k]) }
	var cfg Config
	var errs []error
	cfg.Addr = get("PORTAL_ADDR")
	cfg.DataDir = get("PORTAL_DATA_DIR")
	cfg.DatabaseURL = get("DATABASE_URL")
	base := get("PORTAL_BASE_URL")
	if base == "" {
		base = "http://" + cfg.Addr
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PORTAL_BASE_URL %q: want http://host or https://host", base))
	} else {
		cfg.BaseURL = u
	}
	for _, p := range strings.Split(get("PORTAL_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTAL_TRUSTED_PROXIES: %q is not an IP or CIDR", p))
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	if s := get("SESSION_SECRET"); s != "" {
		if len(s) < 32 {
			errs = append(errs, errors.New("SESSION_SECRET must be at least 32 characters"))
		}
		cfg.SessionSecret = []byte(s)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(get("PORTAL_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("PORTAL_LOG_LEVEL: %w", err))
	}
	cfg.LogFormat = get("PORTAL_LOG_FORMAT")
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("PORTAL_LOG_FORMAT %q: want text or json", cfg.LogFormat))
	}
	dur := func(k string) time.Duration {
		d, err := time.ParseDuration(get(k))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: want a duration like 30m or 12h", k, get(k)))
		}
		return d
	}
	cfg.SessionIdle = dur("PORTAL_SESSION_IDLE")
	cfg.SessionMax = dur("PORTAL_SESSION_MAX")
	if n, err := strconv.ParseInt(get("PORTAL_MAX_UPLOAD_BYTES"), 10, 64); err != nil || n < 1024 {
		errs = append(errs, fmt.Errorf("PORTAL_MAX_UPLOAD_BYTES %q: want a number of bytes ≥ 1024", get("PORTAL_MAX_UPLOAD_BYTES")))
	} else {
		cfg.MaxUploadBytes = n
	}
	if d := get("PORTAL_DEMO"); d != "" {
		b, err := strconv.ParseBool(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("PORTAL_DEMO %q: want true or false", d))
		}
		cfg.Demo = b
	}
	cfg.SMTP = SMTPConfig{Host: get("SMTP_HOST"), Username: get("SMTP_USERNAME"), Password: get("SMTP_PASSWORD"), From: get("SMTP_FROM")}
	if p, err := strconv.Atoi(get("SMTP_PORT")); err == nil {
		cfg.SMTP.Port = p
	} else {
		errs = append(errs, fmt.Errorf("SMTP_PORT %q: want a number", get("SMTP_PORT")))
	}
	cfg.WhatsAppVerifyToken = get("WHATSAPP_VERIFY_TOKEN")
	cfg.WhatsAppAppSecret = get("WHATSAPP_APP_SECRET")
	if cfg.SMTP.Host != "" && cfg.SMTP.From == "" {
		errs = append(errs, errors.New("SMTP_FROM is required when SMTP_HOST is set"))
	}
	return cfg, errors.Join(errs...)
}

// EnsureSessionSecret loads DATA_DIR/session.key or creates it once, when
// SESSION_SECRET was not given.
func (c *Config) EnsureSessionSecret() error {
	if len(c.SessionSecret) > 0 {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(c.DataDir, "session.key")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		c.SessionSecret = []byte(strings.TrimSpace(string(b)))
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	c.SessionSecret = []byte(secret)
	return nil
}
