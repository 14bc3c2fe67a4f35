package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

func sessionCookie(c *client) *http.Cookie {
	u, _ := url.Parse(c.a.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "optline_session") {
			return ck
		}
	}
	return nil
}

// withCookie returns a fresh client that carries only the given cookie.
func (a *app) withCookie(ck *http.Cookie) *client {
	c := a.client()
	u, _ := url.Parse(a.ts.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	return c
}

func TestLoginRotatesSessionAndOldCookieDies(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Rot GmbH", "rot@example.com").post("/logout", nil)
	c := a.client()
	c.primeCSRF("/login")
	before := sessionCookie(c)
	if before == nil {
		t.Fatal("no anonymous session cookie before login")
	}
	if p := c.post("/login", vals("email", "rot@example.com", "password", testPassword)); p.Status != http.StatusSeeOther {
		t.Fatalf("login status %d", p.Status)
	}
	after := sessionCookie(c)
	if after == nil || after.Value == before.Value {
		t.Fatal("session cookie did not change at login")
	}
	if p := a.withCookie(before).getRaw("/team"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("pre-login cookie still works: %d %s", p.Status, p.Location)
	}
	if p := a.withCookie(after).getRaw("/team"); p.Status != http.StatusOK {
		t.Fatalf("new cookie refused: %d", p.Status)
	}
}

func TestLogoutKillsReplayedCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Replay AG", "replay@example.com")
	ck := sessionCookie(c)
	c.get("/")
	if p := c.post("/logout", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("logout: %d %s", p.Status, p.Location)
	}
	if p := a.withCookie(ck).getRaw("/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("replayed cookie after logout: %d %s", p.Status, p.Location)
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Idle KG", "idle@example.com")
	a.clock.Advance(29 * time.Minute)
	if p := c.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatalf("29 idle minutes should keep the session: %d", p.Status)
	}
	a.clock.Advance(31 * time.Minute)
	if p := c.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Fatalf("31 idle minutes should end the session: %d", p.Status)
	}

	c2 := a.client()
	c2.login("idle@example.com", testPassword)
	for i := 0; i < 35; i++ { // 35 × 20 min = 11h40m of steady activity
		a.clock.Advance(20 * time.Minute)
		if p := c2.getRaw("/team"); p.Status != http.StatusOK {
			t.Fatalf("active session ended early after %d steps: %d", i, p.Status)
		}
	}
	a.clock.Advance(25 * time.Minute) // past 12 h since log-in
	if p := c2.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Fatalf("absolute time-out not enforced: %d", p.Status)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c1 := a.signup("Pass OHG", "pass@example.com")
	c2 := a.client()
	c2.login("pass@example.com", testPassword)
	c1.primeCSRF("/account")
	p := c1.postFollow("/account/password", vals("current", testPassword, "new", "another long passphrase"))
	if !strings.Contains(p.Text(".flash-success"), "Password changed") {
		t.Fatalf("no confirmation: %q", p.Text("main"))
	}
	if p := c1.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatalf("own session ended: %d", p.Status)
	}
	if p := c2.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Fatalf("other session survived password change: %d", p.Status)
	}
	c3 := a.client()
	if p := c3.login("pass@example.com", testPassword); p.Status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", p.Status)
	}
}

func TestPasswordChangeErrors(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Err GmbH", "err@example.com")
	c.primeCSRF("/account")
	p := c.post("/account/password", vals("current", "wrong one!", "new", "short"))
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	if got := p.Text(`[data-testid="error-current"]`); got != "This is not your current password." {
		t.Errorf("current error %q", got)
	}
	if got := p.Text(`[data-testid="error-new"]`); got != "Use at least 8 characters." {
		t.Errorf("new error %q", got)
	}
}

func TestMemberRemovalAndSuspensionEndSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Team SE", "owner@team.example")
	staff := a.staff(owner, "staff@team.example")
	if p := staff.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatalf("staff cannot see team: %d", p.Status)
	}
	m, _ := a.db.UserByEmail(context.Background(), "staff@team.example")
	ms, _ := a.db.MembershipOf(context.Background(), m.ID)
	owner.primeCSRF("/team")
	if p := owner.post("/team/members/"+itoa(ms.ID)+"/remove", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.Status)
	}
	if p := staff.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Fatalf("removed member still logged in: %d", p.Status)
	}

	admin := a.admin()
	u, _ := a.db.UserByEmail(context.Background(), "owner@team.example")
	om, _ := a.db.MembershipOf(context.Background(), u.ID)
	admin.primeCSRF("/admin/businesses")
	if p := admin.post("/admin/businesses/"+itoa(om.BusinessID)+"/suspend", vals("reason", "")); p.Status != http.StatusSeeOther {
		t.Fatalf("suspend without reason: %d", p.Status)
	}
	if p := owner.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatal("suspension without a reason must not happen")
	}
	p := admin.postFollow("/admin/businesses/"+itoa(om.BusinessID)+"/suspend", vals("reason", "Spam complaints"))
	if !strings.Contains(p.Text(".flash-success"), "suspended") {
		t.Fatalf("no suspension confirmation: %q", p.Text("main"))
	}
	if p := owner.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Fatalf("suspended business owner still logged in: %d", p.Status)
	}
	c := a.client()
	if p := c.login("owner@team.example", testPassword); p.Status != http.StatusForbidden || !strings.Contains(p.Text(`[data-testid="login-error"]`), "suspended") {
		t.Fatalf("suspended login: %d %q", p.Status, p.Text("main"))
	}
	evs, _ := a.db.AuditLog(context.Background(), models.AuditFilter{Action: "business.suspended"})
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "Spam complaints") {
		t.Fatalf("audit: %+v", evs)
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Brute Ltd", "brute@example.com").post("/logout", nil)
	c := a.client()
	var last *page
	got429 := 0
	for i := 0; i < 20; i++ {
		c.ip = "203.0.113." + itoa(int64(i+1)) // spoofed; no proxy is trusted
		last = c.login("brute@example.com", "wrong password "+itoa(int64(i)))
		if last.Status == http.StatusTooManyRequests {
			got429++
		}
		a.clock.Advance(time.Second)
	}
	if got429 == 0 {
		t.Fatal("twenty wrong passwords were never refused")
	}
	if !strings.Contains(last.Text(`[data-testid="login-error"]`), "Too many failed attempts") || last.Header.Get("Retry-After") == "" {
		t.Fatalf("last answer: %d %q", last.Status, last.Text("main"))
	}
	// Even the right password is refused while locked.
	if p := c.login("brute@example.com", testPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("locked account accepted a login: %d", p.Status)
	}
	a.clock.Advance(16 * time.Minute)
	if p := c.login("brute@example.com", testPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("lock did not expire: %d", p.Status)
	}
}

func TestLoginErrorDoesNotRevealWhichPartWasWrong(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Leak GmbH", "leak@example.com").post("/logout", nil)
	c := a.client()
	p1 := c.login("leak@example.com", "wrong password")
	p2 := c.login("nobody@example.com", "wrong password")
	if p1.Status != p2.Status || p1.Text(`[data-testid="login-error"]`) != p2.Text(`[data-testid="login-error"]`) {
		t.Fatalf("different answers: %d %q vs %d %q", p1.Status, p1.Text(`[data-testid="login-error"]`), p2.Status, p2.Text(`[data-testid="login-error"]`))
	}
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	p := a.client().getRaw("/login")
	sc := p.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "optline_session=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, "Secure") {
		t.Fatalf("http cookie: %s", sc)
	}
	if p.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain http")
	}

	s := newApp(t, func(c *web.Config) { c.BaseURL, _ = url.Parse("https://portal.example.com") })
	s.ensureAdmin()
	p = s.client().getRaw("/login")
	sc = p.Header.Get("Set-Cookie")
	if !strings.HasPrefix(sc, "__Host-optline_session=") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "Path=/") || strings.Contains(sc, "Domain=") {
		t.Fatalf("https cookie: %s", sc)
	}
	if !strings.Contains(p.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS over https")
	}
}

func TestPasswordLengthRules(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	cases := []struct {
		pw     string
		status int
		msg    string
	}{
		{"seven77", http.StatusUnprocessableEntity, "Use at least 8 characters."},
		{strings.Repeat("ä", 32) + strings.Repeat("ß", 32), http.StatusSeeOther, ""},
		{strings.Repeat("x", 1000), http.StatusUnprocessableEntity, "Use at most 128 characters."},
	}
	for i, tc := range cases {
		c := a.client()
		c.primeCSRF("/signup")
		p := c.post("/signup", vals("business_name", "Len "+itoa(int64(i)), "name", "N", "email", "len"+itoa(int64(i))+"@example.com", "password", tc.pw))
		if p.Status != tc.status {
			t.Fatalf("case %d: status %d", i, p.Status)
		}
		if tc.msg != "" {
			if got := p.Text(`[data-testid="error-password"]`); got != tc.msg {
				t.Errorf("case %d: %q", i, got)
			}
			if p.Doc.Find(`#f-password`).AttrOr("value", "") != "" {
				t.Errorf("case %d: password echoed back into the form", i)
			}
			if got := p.Doc.Find(`#f-email`).AttrOr("value", ""); got == "" {
				t.Errorf("case %d: typed email lost", i)
			}
		}
	}
}

func TestCSRFRequired(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Csrf GmbH", "csrf@example.com")
	owner.get("/team")
	for _, site := range []string{"", "cross-site"} {
		req, _ := http.NewRequest(http.MethodPost, owner.url("/team/invitations"), strings.NewReader(vals("email", "x"+site+"@example.com", "role", "staff").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		p := owner.do(req, false)
		if p.Status != http.StatusForbidden {
			t.Fatalf("POST without token (Sec-Fetch-Site %q): %d", site, p.Status)
		}
		if !strings.Contains(p.Text("h1"), "Form expired") {
			t.Errorf("403 page: %q", p.Text("h1"))
		}
	}
	// Wrong token too.
	if p := owner.post("/team/invitations", vals("_csrf", "forged", "email", "y@example.com", "role", "staff")); p.Status != http.StatusForbidden {
		t.Fatalf("forged token: %d", p.Status)
	}
	if p := owner.get("/team"); p.Has(`[data-testid^="invitation-"]`) {
		t.Fatal("an invitation was created without a valid CSRF token")
	}
	// Log-out is a POST too: without the token it does nothing.
	req, _ := http.NewRequest(http.MethodPost, owner.url("/logout"), nil)
	if p := owner.do(req, false); p.Status != http.StatusForbidden {
		t.Fatalf("logout without token: %d", p.Status)
	}
	if p := owner.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatal("session ended by a token-less logout")
	}
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Head AG", "head@example.com")
	for _, path := range []string{"/", "/team", "/account", "/nope"} {
		p := owner.getRaw(path)
		csp := p.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self' 'nonce-", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows unsafe-inline", path)
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("Referrer-Policy") == "" || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, p.Header.Get("Cache-Control"))
		}
	}
	// The script tag carries the nonce of its response.
	p := owner.getRaw("/")
	nonce, _ := p.Doc.Find("script").Attr("nonce")
	if nonce == "" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") {
		t.Errorf("script nonce %q not in CSP", nonce)
	}
	st := owner.getRaw("/static/bundle.css")
	if st.Status != http.StatusOK || !strings.Contains(st.Header.Get("Cache-Control"), "max-age") || st.Header.Get("ETag") == "" {
		t.Errorf("static: %d %v", st.Status, st.Header)
	}
}

func TestExtraFormFieldsIgnored(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	c := a.client()
	c.primeCSRF("/signup")
	c.post("/signup", vals("business_name", "Mass Assign", "name", "M", "email", "mass@example.com", "password", testPassword,
		"is_admin", "true", "role", "admin", "business_id", "1", "verified", "true", "status", "verified"))
	u, err := a.db.UserByEmail(context.Background(), "mass@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.IsAdmin {
		t.Fatal("sign-up made an administrator")
	}
	m, _ := a.db.MembershipOf(context.Background(), u.ID)
	b, _ := a.db.BusinessByID(context.Background(), m.BusinessID)
	if b.VerificationState != models.VerificationUnverified || m.Role != models.RoleOwner {
		t.Fatalf("state %s role %s", b.VerificationState, m.Role)
	}
}

func TestPanicGivesPlain500AndServerLives(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.srv.Echo.GET("/boom", func(echo.Context) error { panic("secret SQL: SELECT password_hash") })
	c := a.signup("Panic Inc", "panic@example.com")
	p := c.getRaw("/boom")
	if p.Status != http.StatusInternalServerError {
		t.Fatalf("status %d", p.Status)
	}
	if strings.Contains(p.Body, "SELECT") || strings.Contains(p.Body, "goroutine") {
		t.Fatal("internals leaked into the 500 page")
	}
	if !strings.Contains(p.Text("h1"), "Something went wrong") {
		t.Errorf("500 page: %q", p.Text("h1"))
	}
	if p := c.getRaw("/team"); p.Status != http.StatusOK {
		t.Fatalf("server unhealthy after panic: %d", p.Status)
	}
}
