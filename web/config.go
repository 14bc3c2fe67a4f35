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
	"regexp"
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
	// HashConcurrency bounds the password hashes (64 MiB each) computed at
	// once; 0 is twice the CPU cores.
	HashConcurrency int
	// SendRate is the campaign messages per second per sender number
	// (PORTAL_SEND_RATE, 1…1000; the platform's default tier is 80).
	SendRate int
	Demo     bool
	SMTP     SMTPConfig
	Channel  ChannelConfig
}

// Messaging providers (PORTAL_CHANNEL).
const (
	ChannelSandbox  = "sandbox"
	ChannelCloudAPI = "cloudapi"
)

// ChannelConfig is the messaging provider of the deployment and the
// platform-wide WhatsApp Cloud API settings. The secrets (AppSecret,
// VerifyToken, AccessToken) are never logged; String hides them.
type ChannelConfig struct {
	Provider    string // sandbox | cloudapi
	AppSecret   string // signs the platform's webhook POSTs (X-Hub-Signature-256)
	VerifyToken string // answers the webhook set-up GET (hub.verify_token)
	AccessToken string // Bearer token of the Cloud API calls
	APIBaseURL  string
	APIVersion  string
	// The sandbox's shares of held, failed and STOP-answered sends, 0…1.
	SandboxHeld, SandboxFailed, SandboxStop float64
}

// String shows the channel settings with the secrets left out.
func (c ChannelConfig) String() string {
	set := func(v string) string {
		if v == "" {
			return "unset"
		}
		return "set"
	}
	return fmt.Sprintf("provider=%s api=%s/%s access_token=%s app_secret=%s verify_token=%s",
		c.Provider, c.APIBaseURL, c.APIVersion, set(c.AccessToken), set(c.AppSecret), set(c.VerifyToken))
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
	{"PORTAL_SEND_RATE", "send-rate", "80", "campaign messages per second per sender number (1…1000; the platform allows 80 by default, up to 1,000 when it raised the number)"},
	{"PORTAL_SESSION_MAX", "session-max", "12h", "log out this long after log-in, however active"},
	{"PORTAL_MAX_UPLOAD_BYTES", "max-upload-bytes", "104857600", "largest accepted upload (contact files); 100 MB"},
	{"PORTAL_HASH_CONCURRENCY", "hash-concurrency", "0", "password hashes (64 MiB each) computed at once; 0 is twice the CPU cores"},
	{"PORTAL_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"PORTAL_LOG_FORMAT", "log-format", "text", "text or json"},
	{"PORTAL_DEMO", "demo", "false", "load a demo business with staff, contacts and history at start (once)"},
	{"SMTP_HOST", "smtp-host", "(none)", "mail server for invitations and password resets; without it links are shown to copy"},
	{"SMTP_PORT", "smtp-port", "587", "mail server port (STARTTLS)"},
	{"SMTP_USERNAME", "smtp-username", "(none)", "mail server user"},
	{"SMTP_PASSWORD", "smtp-password", "(none)", "mail server password"},
	{"SMTP_FROM", "smtp-from", "(none)", "sender address of invitation and password-reset mails"},
	{"PORTAL_CHANNEL", "channel", "sandbox", "messaging provider: sandbox (no account needed; answers and emits events like the platform) or cloudapi (the WhatsApp Cloud API)"},
	{"WHATSAPP_ACCESS_TOKEN", "whatsapp-access-token", "(none)", "Cloud API access token (a system user's token); required with cloudapi; secret"},
	{"WHATSAPP_APP_SECRET", "whatsapp-app-secret", "(none)", "the Meta app's secret, which signs webhook POSTs; required with cloudapi; secret"},
	{"WHATSAPP_VERIFY_TOKEN", "whatsapp-verify-token", "(none)", "the token the webhook set-up GET must carry; required with cloudapi; secret"},
	{"WHATSAPP_API_BASE_URL", "whatsapp-api-base-url", "https://graph.facebook.com", "base URL of the Cloud API (Graph API)"},
	{"WHATSAPP_API_VERSION", "whatsapp-api-version", "v24.0", "Graph API version of the Cloud API calls"},
	{"SANDBOX_FAILED_PERCENT", "sandbox-failed-percent", "5", "sandbox: percent of sends that fail (131026, 131049, 131050, 131047)"},
	{"SANDBOX_HELD_PERCENT", "sandbox-held-percent", "2", "sandbox: percent of sends answered held_for_quality_assessment"},
	{"SANDBOX_STOP_PERCENT", "sandbox-stop-percent", "1", "sandbox: percent of delivered sends the recipient answers with STOP"},
}

// secretSettings never show their value as a flag default in -help.
var secretSettings = map[string]bool{"WHATSAPP_ACCESS_TOKEN": true, "WHATSAPP_APP_SECRET": true, "WHATSAPP_VERIFY_TOKEN": true}

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
		if secretSettings[s.Env] {
			// The flag's default stays empty, so -help never prints the
			// secret; the environment fills it in after parsing.
			vals[s.Env] = fs.String(s.Flag, "", s.Help+" (env "+s.Env+")")
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
	for k := range secretSettings {
		if *vals[k] == "" {
			*vals[k] = getenv(k)
		}
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
	if n, err := strconv.Atoi(get("PORTAL_HASH_CONCURRENCY")); err != nil || n < 0 || n > 1024 {
		errs = append(errs, fmt.Errorf("PORTAL_HASH_CONCURRENCY %q: want a number from 0 (twice the CPU cores) to 1024", get("PORTAL_HASH_CONCURRENCY")))
	} else {
		cfg.HashConcurrency = n
	}
	if n, err := strconv.Atoi(get("PORTAL_SEND_RATE")); err != nil || n < 1 || n > 1000 {
		errs = append(errs, fmt.Errorf("PORTAL_SEND_RATE %q: want messages per second per sender number, 1 to 1000", get("PORTAL_SEND_RATE")))
	} else {
		cfg.SendRate = n
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
	if cfg.SMTP.Host != "" && cfg.SMTP.From == "" {
		errs = append(errs, errors.New("SMTP_FROM is required when SMTP_HOST is set"))
	}
	cfg.Channel, err = loadChannel(get)
	if err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

var apiVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

func loadChannel(get func(string) string) (ChannelConfig, error) {
	c := ChannelConfig{Provider: get("PORTAL_CHANNEL"), AccessToken: get("WHATSAPP_ACCESS_TOKEN"), AppSecret: get("WHATSAPP_APP_SECRET"),
		VerifyToken: get("WHATSAPP_VERIFY_TOKEN"), APIBaseURL: strings.TrimRight(get("WHATSAPP_API_BASE_URL"), "/"), APIVersion: get("WHATSAPP_API_VERSION")}
	var errs []error
	if u, err := url.Parse(c.APIBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("WHATSAPP_API_BASE_URL %q: want https://host", c.APIBaseURL))
	}
	if !apiVersion.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("WHATSAPP_API_VERSION %q: want a Graph API version like v24.0", c.APIVersion))
	}
	pct := func(k string) float64 {
		f, err := strconv.ParseFloat(get(k), 64)
		if err != nil || f < 0 || f > 100 {
			errs = append(errs, fmt.Errorf("%s %q: want a percentage from 0 to 100", k, get(k)))
			return 0
		}
		return f / 100
	}
	c.SandboxFailed, c.SandboxHeld, c.SandboxStop = pct("SANDBOX_FAILED_PERCENT"), pct("SANDBOX_HELD_PERCENT"), pct("SANDBOX_STOP_PERCENT")
	switch c.Provider {
	case ChannelSandbox:
	case ChannelCloudAPI:
		var missing []string
		for _, k := range []string{"WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"} {
			if get(k) == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("PORTAL_CHANNEL=cloudapi needs %s: the Cloud API cannot send without the access token, and the platform's webhooks cannot be verified without the app secret and verify token (or use PORTAL_CHANNEL=sandbox)", strings.Join(missing, ", ")))
		}
	default:
		errs = append(errs, fmt.Errorf("PORTAL_CHANNEL %q: want sandbox or cloudapi", c.Provider))
	}
	return c, errors.Join(errs...)
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
