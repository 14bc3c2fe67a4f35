// Command portal runs the Optline admin portal.
//
//	go run ./cmd/portal            # SQLite in ./data, http://127.0.0.1:8080
//	DATABASE_URL=postgres://… go run ./cmd/portal
//	go run ./cmd/portal -reset-link admin@example.com   # print a password-reset link
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/handlers"
	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
	"github.com/optline/optline/models/templates"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "optline:", err)
		os.Exit(1)
	}
}

// run is main with its inputs passed in: config -> open DB -> migrate ->
// build server -> start workers -> serve -> shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	healthcheck := false
	if len(args) > 0 && (args[0] == "-healthcheck" || args[0] == "--healthcheck") {
		healthcheck, args = true, args[1:]
	}
	resetFor := ""
	if len(args) > 0 && (args[0] == "-reset-link" || args[0] == "--reset-link") {
		if len(args) < 2 {
			return fmt.Errorf("-reset-link needs the e-mail address of the account")
		}
		resetFor, args = args[1], args[2:]
	}
	cfg, err := web.LoadConfig(args, getenv)
	if err != nil {
		return err
	}
	if healthcheck {
		return checkHealth(ctx, cfg.Addr)
	}
	log := newLogger(cfg, stdout)
	slog.SetDefault(log)
	models.SetHashConcurrency(cfg.HashConcurrency)
	if err := cfg.EnsureSessionSecret(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, log); err != nil {
		return err
	}
	if resetFor != "" {
		return printResetLink(ctx, db, cfg, resetFor, stdout)
	}
	files := blobstore.InDataDir(cfg.DataDir)
	mailer := web.NewMailer(cfg.SMTP, log)
	queue := jobs.New(db, log, jobs.Config{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax, Files: files})
	imports := contactimport.New(contactimport.DepsFor(db, files, queue, log), contactimport.Options{})
	resets := jobs.NewResetMail(db, mailer, cfg.BaseURL, log, queue)
	// The platform's webhook intake; the sandbox provider delivers its
	// events to it in-process (channel.Events), the real platform by POST.
	// Template events go to the templates domain.
	intake := webhook.New(webhook.Config{VerifyToken: cfg.Channel.VerifyToken, AppSecret: cfg.Channel.AppSecret},
		webhook.Deps{DB: db, Queue: queue, Templates: templates.Events{DB: db}, Log: log}, webhook.Options{})
	invoices := invoicing.New(invoicing.Deps{DB: db, Queue: queue, Log: log})
	queue.Add(imports, resets, intake, invoices)
	// A restarted portal takes up the imports its predecessor was working
	// within seconds, not when River rescues their jobs.
	queue.Resume(imports)
	// The messaging provider; the sandbox's events go to the webhook
	// intake in-process. Closed before the database (defers run last
	// first).
	provider, closeProvider, err := newProvider(cfg.Channel, db, intake, log)
	if err != nil {
		return err
	}
	defer closeProvider()
	log.Info("messaging provider", "channel", provider.Name(), "settings", cfg.Channel.String())
	srv := web.New(cfg, db, log, web.Options{Console: stdout, Mailer: mailer})
	// The campaign sender needs the provider, made above.
	campaigns := sending.New(sending.Deps{DB: db, Queue: queue, Provider: provider, Log: log}, sending.Options{Rate: cfg.SendRate})
	queue.Add(campaigns)
	// A restarted portal also takes up the campaigns it was sending.
	queue.Resume(campaigns)
	handlers.Register(srv, handlers.Deps{Files: files, Imports: imports, ResetMails: resets, Channel: provider, Webhooks: intake,
		Campaigns: campaigns, Invoicing: invoices})

	if cfg.Demo {
		creds, err := demo.Load(ctx, db)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		if creds.Loaded {
			web.PrintDemoLogins(stdout, creds.OwnerEmail, creds.StaffEmail, creds.Password)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if hasAdmin, err := db.HasAdmin(ctx); err != nil {
		return err
	} else if !hasAdmin {
		// Printed, not logged: the token must not end up in log storage.
		fmt.Fprintf(stdout, "\nFirst run: create the administrator at\n  %s/setup?token=%s\n\n", cfg.BaseURL, srv.SetupToken)
	}
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	log.Info("portal listening", "addr", ln.Addr().String(), "url", cfg.BaseURL.String(), "database", string(db.Dialect))
	serveErr := srv.Start(ctx, ln)
	log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := queue.Stop(stopCtx); err != nil {
		log.Warn("job queue stop", "error", err)
	}
	return serveErr
}

// printResetLink prints a one-time password-reset link for the account at
// email to the console (never the log): how an administrator who forgot
// the password gets back in when the portal sends no mail.
func printResetLink(ctx context.Context, db *models.DB, cfg web.Config, email string, stdout io.Writer) error {
	r, u, token, err := db.ResetLinkFromConsole(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("no account has the address %q", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nPassword-reset link for %s (works once, until %s):\n  %s/reset/%s\n\n",
		u.Email, r.ExpiresAt.Format("2006-01-02 15:04 MST"), cfg.BaseURL, token)
	return nil
}

func newLogger(cfg web.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// checkHealth asks a running portal for /healthz; the container
// HEALTHCHECK uses it because the image has no shell or curl.
func checkHealth(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}
