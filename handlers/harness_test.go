package handlers_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/handlers"
	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// app is the whole portal, built as main builds it, behind a real HTTP
// test server, with an injectable clock.
type app struct {
	t     testing.TB
	db    *models.DB
	srv   *web.Server
	queue *jobs.Queue
	// webhooks is the platform's webhook intake; templateEvents records
	// the template events it hands on.
	webhooks       *webhook.Engine
	templateEvents *recordedTemplateEvents
	ts             *httptest.Server
	clock          *dbtest.Clock
	mail           *fakeMailer
	logs           *logBuffer
	// console is what the portal printed for the operator's terminal.
	console *logBuffer
	// imports is the import job's engine (tests tune or hook it).
	imports *contactimport.Engine
	// channel plays the messaging platform (see testChannel).
	channel *testChannel
	// campaigns is the campaign sender; invoicing the month-end.
	campaigns *sending.Engine
	invoicing *invoicing.Engine
}

// testChannel is a test-only, deterministic stand-in for the messaging
// platform: it takes every template submission, answering PENDING with a
// fresh platform id (or err), and sends nothing. The handler tests use it
// rather than channel/sandbox, whose verdicts come later and at random
// through the webhook intake; models/templates tests the real sandbox.
type testChannel struct {
	// real, when set, answers instead (the sandbox, for the journey that
	// watches a template get approved).
	real   channel.Provider
	mu     sync.Mutex
	n      int
	status string // the answer to submissions ("" is PENDING)
	err    error  // when set, every submission fails with it
	got    []channel.Template
}

func (p *testChannel) Name() string { return "sandbox" }

func (p *testChannel) SubmitTemplate(ctx context.Context, s channel.Sender, t channel.Template) (channel.Submitted, error) {
	if p.real != nil {
		return p.real.SubmitTemplate(ctx, s, t)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return channel.Submitted{}, p.err
	}
	p.n++
	p.got = append(p.got, t)
	st := p.status
	if st == "" {
		st = "PENDING"
	}
	return channel.Submitted{ExternalID: "77000" + strconv.Itoa(p.n), Status: st}, nil
}

func (p *testChannel) Send(ctx context.Context, s channel.Sender, m channel.Message) (channel.Sent, error) {
	if p.real != nil {
		return p.real.Send(ctx, s, m)
	}
	return channel.Sent{}, &channel.Error{Title: "the test channel sends nothing"}
}

// logBuffer collects everything the portal logs during a test.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// fakeMailer records mails; off plays a portal without SMTP.
type fakeMailer struct {
	sent []string
	off  bool
}

func (m *fakeMailer) Enabled() bool { return !m.off }
func (m *fakeMailer) Send(to, subject, body string) error {
	m.sent = append(m.sent, to+"\n"+subject+"\n"+body)
	return nil
}

type appOption func(*web.Config)

func newApp(t testing.TB, opts ...appOption) *app {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	cfg, err := web.LoadConfig(nil, func(k string) string {
		switch k {
		case "PORTAL_DATA_DIR":
			return t.TempDir()
		case "SESSION_SECRET":
			return "test-secret-test-secret-test-secret-0123"
		case "WHATSAPP_VERIFY_TOKEN":
			return testVerifyToken
		case "WHATSAPP_APP_SECRET":
			return testAppSecret
		}
		return ""
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	// The listener comes first so links the portal builds (invitations)
	// point at this test server.
	ts := httptest.NewUnstartedServer(nil)
	cfg.BaseURL, _ = url.Parse("http://" + ts.Listener.Addr().String())
	for _, o := range opts {
		o(&cfg)
	}
	a := &app{t: t, db: db, clock: clock, mail: &fakeMailer{}, logs: &logBuffer{}, console: &logBuffer{}, channel: &testChannel{}}
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// A failing test shows what the portal logged meanwhile.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("portal log:\n%s", a.logs.String())
		}
	})
	var mailer web.Mailer = a.mail
	if cfg.SMTP.Host != "" { // a test's own SMTP server: the real mailer
		mailer = web.NewMailer(cfg.SMTP, log)
	}
	a.srv = web.New(cfg, db, log, web.Options{Now: clock.Now, Mailer: mailer, Console: a.console})
	files := blobstore.InDataDir(cfg.DataDir)
	a.queue = jobs.New(db, dbtest.Quiet, jobs.Config{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax, Poll: 100 * time.Millisecond})
	a.imports = contactimport.New(contactimport.DepsFor(db, files, a.queue, log), contactimport.Options{})
	resets := jobs.NewResetMail(db, mailer, cfg.BaseURL, log, a.queue)
	a.templateEvents = &recordedTemplateEvents{}
	a.webhooks = webhook.New(webhook.Config{VerifyToken: cfg.Channel.VerifyToken, AppSecret: cfg.Channel.AppSecret},
		webhook.Deps{DB: db, Queue: a.queue, Templates: a.templateEvents, Log: log}, webhook.Options{})
	a.campaigns = sending.New(sending.Deps{DB: db, Queue: a.queue, Provider: a.channel, Log: log, Now: clock.Now}, sending.Options{})
	a.invoicing = invoicing.New(invoicing.Deps{DB: db, Queue: a.queue, Log: log, Now: clock.Now})
	a.queue.Add(a.imports, resets, a.webhooks, a.campaigns, a.invoicing)
	a.queue.Resume(a.campaigns)
	handlers.Register(a.srv, handlers.Deps{Files: files, Imports: a.imports, ResetMails: resets, Channel: a.channel, Webhooks: a.webhooks,
		Campaigns: a.campaigns, Invoicing: a.invoicing})
	ts.Config.Handler = a.srv.Echo
	ts.Start()
	a.ts = ts
	t.Cleanup(a.ts.Close)
	return a
}

// startJobs runs the job queue for the rest of the test.
func (a *app) startJobs() {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.queue.Start(ctx); err != nil {
		a.t.Fatalf("start jobs: %v", err)
	}
	a.t.Cleanup(func() {
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = a.queue.Stop(stopCtx)
		cancel()
	})
}

// client is a browser-like HTTP client with a cookie jar that remembers
// the CSRF token of the last page it read.
type client struct {
	t    testing.TB
	a    *app
	http *http.Client
	csrf string
	ip   string
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: a.t, a: a}
	c.http = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c
}

// page is one response.
type page struct {
	Status   int
	Body     string
	Header   http.Header
	Doc      *goquery.Document
	Location string
}

// Text returns the trimmed text of the first element matching sel.
func (p *page) Text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }

// Has reports whether sel matches.
// Attr is attribute name of the first element matching sel.
func (p *page) Attr(sel, name string) string { return p.Doc.Find(sel).First().AttrOr(name, "") }

// Value is the value attribute of the first element matching sel.
func (p *page) Value(sel string) string { return p.Doc.Find(sel).First().AttrOr("value", "") }

func (p *page) Has(sel string) bool { return p.Doc.Find(sel).Length() > 0 }

func (c *client) do(req *http.Request, follow bool) *page {
	c.t.Helper()
	if c.ip != "" {
		req.Header.Set("X-Forwarded-For", c.ip)
	}
	for i := 0; ; i++ {
		resp, err := c.http.Do(req)
		if err != nil {
			c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p := &page{Status: resp.StatusCode, Body: string(b), Header: resp.Header, Location: resp.Header.Get("Location")}
		p.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader(p.Body))
		if tok, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok {
			c.csrf = tok
		}
		if !follow || p.Location == "" || resp.StatusCode < 300 || resp.StatusCode >= 400 || i > 10 {
			return p
		}
		u, _ := req.URL.Parse(p.Location)
		req, _ = http.NewRequest(http.MethodGet, u.String(), nil)
	}
}

func (c *client) url(path string) string { return c.a.ts.URL + path }

// get fetches a page, following redirects.
func (c *client) get(path string) *page {
	req, _ := http.NewRequest(http.MethodGet, c.url(path), nil)
	return c.do(req, true)
}

// getRaw fetches without following redirects.
func (c *client) getRaw(path string) *page {
	req, _ := http.NewRequest(http.MethodGet, c.url(path), nil)
	return c.do(req, false)
}

// post submits a form with the current CSRF token, without following the
// redirect (check Status and Location, then get the next page).
func (c *client) post(path string, vals url.Values) *page {
	c.t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	if vals.Get("_csrf") == "" && c.csrf != "" {
		vals.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.url(path), strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, false)
}

// postFollow submits and follows the redirect.
func (c *client) postFollow(path string, vals url.Values) *page {
	c.t.Helper()
	p := c.post(path, vals)
	if p.Location != "" {
		return c.get(p.Location)
	}
	return p
}

// primeCSRF loads a page so the client holds a token.
func (c *client) primeCSRF(path string) {
	c.t.Helper()
	if p := c.get(path); c.csrf == "" {
		c.t.Fatalf("no CSRF token on %s (status %d)", path, p.Status)
	}
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

const testPassword = "correct horse battery"

// admin creates the platform administrator directly and logs a client in.
func (a *app) admin() *client {
	a.t.Helper()
	a.ensureAdmin()
	c := a.client()
	c.login("admin@example.com", testPassword)
	return c
}

// ensureAdmin makes sure set-up is done so sign-up works.
func (a *app) ensureAdmin() {
	a.t.Helper()
	if ok, _ := a.db.HasAdmin(context.Background()); !ok {
		if _, err := a.db.CreateAdmin(context.Background(), models.NewUserInput{Name: "Ada Admin", Email: "admin@example.com", Password: testPassword}); err != nil {
			a.t.Fatalf("create admin: %v", err)
		}
	}
}

// signup registers a business through the sign-up form and returns the
// owner's logged-in client.
func (a *app) signup(business, email string) *client {
	a.t.Helper()
	a.ensureAdmin()
	c := a.client()
	c.primeCSRF("/signup")
	p := c.post("/signup", vals("business_name", business, "name", "Owner of "+business, "email", email, "password", testPassword))
	if p.Status != http.StatusSeeOther {
		a.t.Fatalf("signup %s: status %d: %s", business, p.Status, p.Doc.Find(".error").Text())
	}
	return c
}

// staff invites email as staff into owner's business and returns the
// new member's logged-in client.
func (a *app) staff(owner *client, email string) *client {
	a.t.Helper()
	owner.primeCSRF("/team")
	p := owner.postFollow("/team/invitations", vals("email", email, "role", "staff"))
	link, ok := p.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	if !ok {
		a.t.Fatalf("no invitation link (status %d)", p.Status)
	}
	u, _ := url.Parse(link)
	c := a.client()
	c.primeCSRF(u.Path)
	if p := c.post(u.Path, vals("name", "Staff "+email, "password", testPassword)); p.Status != http.StatusSeeOther {
		a.t.Fatalf("accept invitation: status %d", p.Status)
	}
	return c
}

// login logs the client in through the form.
func (c *client) login(email, password string) *page {
	c.t.Helper()
	c.primeCSRF("/login")
	return c.post("/login", vals("email", email, "password", password))
}
