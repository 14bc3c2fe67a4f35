package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/models"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var listenRe = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// start runs the portal as main does, on SQLite in dir, and returns its
// address, its output and a stop function that waits for a clean exit.
func start(t *testing.T, dir string, extra ...string) (string, *syncBuf, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuf{}
	env := map[string]string{"PORTAL_DATA_DIR": dir, "PORTAL_ADDR": "127.0.0.1:0"}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, extra, func(k string) string { return env[k] }, out) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRe.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, func() error { cancel(); return <-errc }
		}
		select {
		case err := <-errc:
			t.Fatalf("portal exited: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("portal did not start:\n%s", out.String())
	return "", nil, nil
}

func TestPortalStartsServesAndShutsDownCleanly(t *testing.T) {
	dir := t.TempDir()
	addr, out, stop := start(t, dir, "-demo")
	if !strings.Contains(out.String(), "/setup?token=") {
		t.Errorf("no setup link printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Demo business loaded") {
		t.Errorf("demo not loaded:\n%s", out.String())
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := checkHealth(context.Background(), addr); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, f := range []string{"optline.db", "session.key"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	if strings.Contains(out.String(), "password_hash") {
		t.Error("log mentions password hashes")
	}

	// A second start on the same data folder keeps the demo rows and does
	// not load them twice.
	_, out2, stop2 := start(t, dir, "-demo")
	if strings.Contains(out2.String(), "Demo business loaded") {
		t.Error("demo loaded twice")
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		if k == "PORTAL_LOG_FORMAT" {
			return "xml"
		}
		return ""
	}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "PORTAL_LOG_FORMAT") {
		t.Fatalf("err = %v", err)
	}
}

// portal -reset-link prints a one-time link for an account and exits: an
// administrator who forgot the password of a portal without mail.
func TestResetLinkFromTheConsole(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		return map[string]string{"PORTAL_DATA_DIR": dir, "PORTAL_ADDR": "127.0.0.1:0"}[k]
	}
	ctx := context.Background()
	if err := run(ctx, []string{"-reset-link", "admin@example.com"}, env, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("unknown address: %v", err)
	}
	db, err := models.Open(ctx, "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAdmin(ctx, models.NewUserInput{Name: "Ada", Email: "admin@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := &bytes.Buffer{}
	if err := run(ctx, []string{"-reset-link", "admin@example.com"}, env, out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`http://127\.0\.0\.1:0/reset/[A-Za-z0-9_-]{43}`).MatchString(out.String()) {
		t.Fatalf("no link printed:\n%s", out.String())
	}
}
