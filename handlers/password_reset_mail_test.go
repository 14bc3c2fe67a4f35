package handlers_test

import (
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, msgs: make(chan string, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch cmd {
		case "EHLO":
			_ = tp.PrintfLine("250-test\r\n250 8BITMIME")
		case "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.msgs <- string(b)
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

var resetLinkInMail = regexp.MustCompile(`https?://\S+/reset/[A-Za-z0-9_-]+`)

func TestForgotPasswordByMail(t *testing.T) {
	t.Parallel()
	smtpd := startSMTP(t)
	a := newApp(t, func(cfg *web.Config) {
		cfg.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: smtpd.port(), From: "portal@optline.example"}
	})
	owner := a.signup("Café Iota", "owner@iota.example")
	a.startJobs()

	c := a.client()
	c.primeCSRF("/forgot")
	unknown := c.post("/forgot", vals("email", "nobody@iota.example"))
	known := c.post("/forgot", vals("email", "Owner@Iota.example"))
	if unknown.Status != known.Status || unknown.Location != known.Location || known.Location != "/forgot/sent" {
		t.Fatalf("answers differ: %d %q vs %d %q", unknown.Status, unknown.Location, known.Status, known.Location)
	}
	sent := c.get("/forgot/sent")
	if !strings.Contains(sent.Text(`[data-testid="forgot-sent"]`), "If an account exists for that address") {
		t.Errorf("sent page: %q", sent.Text("main"))
	}

	var msg string
	select {
	case msg = <-smtpd.msgs:
	case <-time.After(15 * time.Second):
		t.Fatal("no mail arrived")
	}
	if !strings.Contains(msg, "To: owner@iota.example") {
		t.Fatalf("mail to the wrong address:\n%s", msg)
	}
	link := resetLinkInMail.FindString(msg)
	if link == "" {
		t.Fatalf("no link in the mail:\n%s", msg)
	}
	// The unknown address got nothing (its job ran alongside).
	select {
	case m := <-smtpd.msgs:
		t.Fatalf("a second mail went out:\n%s", m)
	case <-time.After(time.Second):
	}
	u, _ := url.Parse(link)
	if u.Host != strings.TrimPrefix(a.ts.URL, "http://") {
		t.Errorf("link points at %s", u.Host)
	}
	if p := setPassword(t, a, u.Path, "mailed new passphrase"); p.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", p.Status)
	}
	if p := owner.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Errorf("old session survived: %d", p.Status)
	}
	if p := a.client().login("owner@iota.example", "mailed new passphrase"); p.Status != http.StatusSeeOther {
		t.Errorf("new password: %d", p.Status)
	}
	if p := a.client().get(u.Path); p.Status != http.StatusGone {
		t.Errorf("mailed link reused: %d", p.Status)
	}
	if a.auditCount("user.reset_mailed") != 1 {
		t.Errorf("%d reset_mailed events", a.auditCount("user.reset_mailed"))
	}
	if strings.Contains(a.logs.String(), strings.TrimPrefix(u.Path, "/reset/")) {
		t.Error("token in the log")
	}
	// The e-mailed link lasts an hour.
	c2 := a.client()
	c2.primeCSRF("/forgot")
	c2.post("/forgot", vals("email", "owner@iota.example"))
	select {
	case msg = <-smtpd.msgs:
	case <-time.After(15 * time.Second):
		t.Fatal("no second mail")
	}
	u, _ = url.Parse(resetLinkInMail.FindString(msg))
	a.clock.Advance(models.ResetMailTTL + time.Minute)
	if p := a.client().get(u.Path); p.Status != http.StatusGone {
		t.Errorf("mailed link after an hour: %d", p.Status)
	}
}

// A mail server that accepts connections and never answers does not hold
// up the "Forgot password?" answer: the mail goes from a job.
func TestForgotAnswersAtOnceWhenMailServerStalls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // never greets
		}
	}()
	a := newApp(t, func(cfg *web.Config) {
		cfg.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "portal@optline.example"}
	})
	a.signup("Café Kappa", "owner@kappa.example")
	a.startJobs()
	// Runs before the queue stops: the stalled send fails at once.
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	c := a.client()
	c.primeCSRF("/forgot")
	start := time.Now()
	p := c.post("/forgot", vals("email", "owner@kappa.example"))
	if took := time.Since(start); p.Status != http.StatusSeeOther || took > 2*time.Second {
		t.Fatalf("answer: %d after %s", p.Status, took)
	}
	select {
	case conn := <-accepted:
		// The job is talking to the stalled server; the answer came first.
		conn.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the job never tried the mail server")
	}
}

func TestResetPagesAccessible(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Mu", "owner@mu.example")
	a.staff(owner, "staff@mu.example")
	anon := a.client()
	checkA11y(t, "/forgot", anon.get("/forgot"))
	checkA11y(t, "/forgot/sent", anon.get("/forgot/sent"))
	path, team := makeStaffResetLink(t, owner, "staff@mu.example")
	checkA11y(t, "/team with a reset link", team)
	checkA11y(t, "/reset/…", anon.get(path))
	checkA11y(t, "/reset/unknown", anon.get("/reset/unknown"))
	a.mail.off = true
	checkA11y(t, "/forgot without mail", anon.get("/forgot"))
	adm := a.admin()
	list := adm.get("/admin/businesses")
	href := list.Attr(`a[href^="/admin/businesses/"]`, "href")
	checkA11y(t, href, adm.get(href))
}

// Two browsers sending the same link at once: one sets the password, the
// other is told the link no longer works.
func TestResetLinkWorksOnceUnderRace(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Nu", "owner@nu.example")
	a.staff(owner, "staff@nu.example")
	path, _ := makeStaffResetLink(t, owner, "staff@nu.example")
	c1, c2 := a.client(), a.client()
	c1.primeCSRF(path)
	c2.primeCSRF(path)
	res := make(chan int, 2)
	for i, c := range []*client{c1, c2} {
		go func() { res <- c.post(path, vals("password", "racing passphrase "+strconv.Itoa(i))).Status }()
	}
	got := map[int]int{<-res: 1}
	got[<-res]++
	if got[http.StatusSeeOther] != 1 || got[http.StatusGone] != 1 {
		t.Fatalf("statuses %v, want one 303 and one 410", got)
	}
	if n := a.auditCount("user.password_reset"); n != 1 {
		t.Errorf("%d resets audited", n)
	}
}
