package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mailer sends plain-text mail. Without SMTP settings it is disabled and
// callers show links to copy instead.
type Mailer interface {
	Enabled() bool
	Send(to, subject, body string) error
}

// NewMailer returns an SMTP mailer, or a disabled one without a host.
func NewMailer(cfg SMTPConfig, log *slog.Logger) Mailer {
	if cfg.Host == "" {
		return noMailer{}
	}
	return &smtpMailer{cfg: cfg, log: log}
}

type noMailer struct{}

func (noMailer) Enabled() bool             { return false }
func (noMailer) Send(_, _, _ string) error { return fmt.Errorf("mail is not configured") }

type smtpMailer struct {
	cfg SMTPConfig
	log *slog.Logger
}

func (m *smtpMailer) Enabled() bool { return true }

func (m *smtpMailer) Send(to, subject, body string) error {
	if strings.ContainsAny(to+subject, "\r\n") {
		return fmt.Errorf("mail header contains a line break")
	}
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	var auth smtp.Auth
	if m.cfg.Username != "" {
		auth = smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)
	}
	msg := "From: " + m.cfg.From + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if err := smtp.SendMail(addr, auth, m.cfg.From, []string{to}, []byte(msg)); err != nil {
		return fmt.Errorf("send mail via %s: %w", m.cfg.Host, err)
	}
	return nil
}
