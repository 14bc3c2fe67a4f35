package web

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// A mail server that accepts the connection and never answers makes Send
// fail within the time limit instead of hanging its caller.
func TestMailerGivesUpOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent: no greeting
		}
	}()
	old := mailTimeout
	mailTimeout = 300 * time.Millisecond
	defer func() { mailTimeout = old }()
	m := NewMailer(SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "portal@example.com"}, slog.Default())
	start := time.Now()
	err = m.Send("someone@example.com", "Hello", "body")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Send: %v after %s", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("error does not name the server: %v", err)
	}
}

// Header values with line breaks are refused (no header injection).
func TestMailerRefusesHeaderInjection(t *testing.T) {
	m := NewMailer(SMTPConfig{Host: "127.0.0.1", Port: 1, From: "portal@example.com"}, slog.Default())
	if err := m.Send("a@example.com\r\nBcc: b@example.com", "Hi", "x"); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("Send with CRLF in the address: %v", err)
	}
}
