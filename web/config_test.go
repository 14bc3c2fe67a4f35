package web

import (
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
		"PORTAL_SESSION_IDLE": "forever", "PORTAL_LOG_FORMAT": "xml", "SMTP_HOST": "mail.example.com"}))
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"PORTAL_BASE_URL", "SESSION_SECRET", "PORTAL_TRUSTED_PROXIES", "PORTAL_SESSION_IDLE", "PORTAL_LOG_FORMAT", "SMTP_FROM"} {
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
