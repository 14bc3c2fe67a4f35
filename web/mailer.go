package web

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"mime"
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
	msg := "From: " + m.cfg.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if err := sendMail(addr, m.cfg.Host, auth, m.cfg.From, to, []byte(msg)); err != nil {
		return fmt.Errorf("send mail via %s: %w", m.cfg.Host, err)
	}
	return nil
}

// Mail time limits: a server that does not answer, or answers slowly,
// fails the send instead of holding its caller (smtp.SendMail has no
// time-out at all).
var (
	mailDialTimeout = 10 * time.Second
	mailTimeout     = 30 * time.Second
)

// sendMail is smtp.SendMail with time limits: STARTTLS when the server
// offers it, then authentication when configured.
func sendMail(addr, host string, auth smtp.Auth, from, to string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, mailDialTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(mailTimeout)); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("server does not offer AUTH")
		}
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
