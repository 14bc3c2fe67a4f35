package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || cfg.DatabaseURL != "" || cfg.BaseURL.String() != "http://127.0.0.1:8080" {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.Secure() || cfg.SessionIdle != 30*time.Minute || cfg.SessionMax != 12*time.Hour || cfg.MaxUploadBytes != 100<<20 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigFlagsOverrideEnv(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig([]string{"-addr", "0.0.0.0:9000", "-demo"}, env(map[string]string{
		"PORTAL_ADDR": "127.0.0.1:1", "PORTAL_BASE_URL": "https://portal.example.com/", "PORTAL_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || !cfg.Demo || !cfg.Secure() || len(cfg.TrustedProxies) != 2 || cfg.BaseURL.String() != "https://portal.example.com" {
		t.Fatalf("%+v", cfg)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(nil, env(map[string]string{"PORTAL_BASE_URL": "ftp://x", "SESSION_SECRET": "short", "PORTAL_TRUSTED_PROXIES": "nope",
		"PORTAL_SESSION_IDLE": "forever", "PORTAL_LOG_FORMAT": "xml", "SMTP_HOST": "mail.example.com", "PORTAL_HASH_CONCURRENCY": "-3"}))
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"PORTAL_BASE_URL", "SESSION_SECRET", "PORTAL_TRUSTED_PROXIES", "PORTAL_SESSION_IDLE", "PORTAL_LOG_FORMAT", "SMTP_FROM", "PORTAL_HASH_CONCURRENCY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestSessionSecretGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := Config{DataDir: dir}
	if err := c1.EnsureSessionSecret(); err != nil {
		t.Fatal(err)
	}
	c2 := Config{DataDir: dir}
	if err := c2.EnsureSessionSecret(); err != nil {
		t.Fatal(err)
	}
	if len(c1.SessionSecret) < 32 || string(c1.SessionSecret) != string(c2.SessionSecret) {
		t.Fatal("secret not kept across starts")
	}
	st, err := os.Stat(filepath.Join(dir, "session.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("session.key: %v %v", err, st.Mode())
	}
}

// TestREADMEDocumentsEverySetting keeps the configuration table honest.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		if !strings.Contains(string(b), "`"+s.Env+"`") {
			t.Errorf("README lacks %s", s.Env)
		}
	}
}

func TestChannelConfig(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Channel
	if c.Provider != ChannelSandbox || c.APIBaseURL != "https://graph.facebook.com" || c.APIVersion != "v24.0" ||
		c.SandboxFailed != 0.05 || c.SandboxHeld != 0.02 || c.SandboxStop != 0.01 {
		t.Fatalf("defaults: %+v", c)
	}
	// cloudapi without its secrets refuses to start, naming each.
	_, err = LoadConfig([]string{"-channel", "cloudapi"}, env(map[string]string{"WHATSAPP_ACCESS_TOKEN": "tok"}))
	if err == nil || !strings.Contains(err.Error(), "WHATSAPP_APP_SECRET") || !strings.Contains(err.Error(), "WHATSAPP_VERIFY_TOKEN") || strings.Contains(err.Error(), "WHATSAPP_ACCESS_TOKEN,") {
		t.Fatalf("cloudapi without secrets: %v", err)
	}
	secrets := map[string]string{"PORTAL_CHANNEL": "cloudapi", "WHATSAPP_ACCESS_TOKEN": "tok-SECRET-1", "WHATSAPP_APP_SECRET": "app-SECRET-2",
		"WHATSAPP_VERIFY_TOKEN": "verify-SECRET-3", "WHATSAPP_API_VERSION": "v23.0", "SANDBOX_FAILED_PERCENT": "0"}
	cfg, err = LoadConfig(nil, env(secrets))
	if err != nil {
		t.Fatal(err)
	}
	c = cfg.Channel
	if c.Provider != ChannelCloudAPI || c.AccessToken != "tok-SECRET-1" || c.AppSecret != "app-SECRET-2" || c.VerifyToken != "verify-SECRET-3" || c.APIVersion != "v23.0" || c.SandboxFailed != 0 {
		t.Fatalf("%+v", c)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "SECRET") {
		t.Fatalf("secrets shown: %s", s)
	}
	// A flag overrides the environment's secret; -help never prints one.
	cfg, err = LoadConfig([]string{"-whatsapp-access-token", "flag-tok"}, env(secrets))
	if err != nil || cfg.Channel.AccessToken != "flag-tok" {
		t.Fatalf("flag token: %v %v", cfg.Channel.AccessToken, err)
	}
	_, err = LoadConfig(nil, env(map[string]string{"PORTAL_CHANNEL": "twilio", "WHATSAPP_API_VERSION": "21", "SANDBOX_STOP_PERCENT": "200", "WHATSAPP_API_BASE_URL": "graph"}))
	for _, want := range []string{"PORTAL_CHANNEL", "WHATSAPP_API_VERSION", "SANDBOX_STOP_PERCENT", "WHATSAPP_API_BASE_URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}
