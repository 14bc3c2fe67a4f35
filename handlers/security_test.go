package handlers_test

import (
	"context"
	"net"
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

func TestStaffCannotReachOwnerOrAdminRoutes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Roles GmbH", "owner@roles.example")
	staff := a.staff(owner, "staff@roles.example")
	staff.primeCSRF("/team")
	if p := staff.post("/team/invitations", vals("email", "z@roles.example", "role", "owner")); p.Status != http.StatusForbidden {
		t.Fatalf("staff invited: %d", p.Status)
	}
	if p := staff.getRaw("/admin"); p.Status != http.StatusForbidden {
		t.Fatalf("staff on admin: %d", p.Status)
	}
	if p := owner.getRaw("/admin/audit"); p.Status != http.StatusForbidden {
		t.Fatalf("owner on admin: %d", p.Status)
	}
	evs, _ := a.db.AuditLog(context.Background(), models.AuditFilter{Action: "access.denied"})
	if len(evs) != 3 {
		t.Fatalf("want 3 access.denied audit entries, got %d", len(evs))
	}
	// The team page hides owner-only controls from staff.
	if p := staff.get("/team"); p.Has(`form[action="/team/invitations"]`) {
		t.Error("staff sees the invite form")
	}
}

func TestTenantIsolationTeam(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ownerA := a.signup("Alpha", "owner@alpha.example")
	a.staff(ownerA, "staff@alpha.example")
	ownerA.primeCSRF("/team")
	ownerA.post("/team/invitations", vals("email", "pending@alpha.example", "role", "staff"))
	ownerB := a.signup("Beta", "owner@beta.example")

	ctx := context.Background()
	u, _ := a.db.UserByEmail(ctx, "staff@alpha.example")
	ms, _ := a.db.MembershipOf(ctx, u.ID)
	tn, _ := a.db.Tenant(ms.BusinessID)
	invs, _ := tn.PendingInvitations(ctx)
	if len(invs) != 1 {
		t.Fatalf("invitations %d", len(invs))
	}
	ownerB.primeCSRF("/team")
	for _, path := range []string{
		"/team/members/" + itoa(ms.ID) + "/remove",
		"/team/members/" + itoa(ms.ID) + "/role",
		"/team/invitations/" + itoa(invs[0].ID) + "/revoke",
	} {
		if p := ownerB.post(path, vals("role", "owner")); p.Status != http.StatusNotFound {
			t.Errorf("B on %s: %d", path, p.Status)
		}
	}
	if _, err := a.db.MembershipOf(ctx, u.ID); err != nil {
		t.Fatal("B removed A's member")
	}
	if invs, _ := tn.PendingInvitations(ctx); len(invs) != 1 {
		t.Fatal("B revoked A's invitation")
	}
	if p := ownerB.get("/team"); strings.Contains(p.Body, "alpha.example") {
		t.Fatal("B's team page shows A's people")
	}
}

func TestLastOwnerCannotBeRemovedOrDemoted(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Solo", "solo@example.com")
	u, _ := a.db.UserByEmail(context.Background(), "solo@example.com")
	ms, _ := a.db.MembershipOf(context.Background(), u.ID)
	owner.primeCSRF("/team")
	p := owner.postFollow("/team/members/"+itoa(ms.ID)+"/role", vals("role", "staff"))
	if !strings.Contains(p.Text(".flash-error"), "at least one owner") {
		t.Fatalf("demote last owner: %q", p.Text("main"))
	}
}

func TestInvitationWorksOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Once", "owner@once.example")
	owner.primeCSRF("/team")
	p := owner.postFollow("/team/invitations", vals("email", "new@once.example", "role", "staff"))
	link, _ := p.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	if len(a.mail.sent) != 1 || !strings.Contains(a.mail.sent[0], link) {
		t.Fatalf("invitation mail not sent with the link: %v", a.mail.sent)
	}
	u, _ := url.Parse(link)
	c := a.client()
	c.primeCSRF(u.Path)
	if p := c.post(u.Path, vals("name", "", "password", "short")); p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-name"]`) == "" {
		t.Fatalf("invalid accept: %d", p.Status)
	}
	if p := c.post(u.Path, vals("name", "Nina", "password", testPassword)); p.Status != http.StatusSeeOther {
		t.Fatalf("accept: %d", p.Status)
	}
	if p := a.client().getRaw(u.Path); p.Status != http.StatusNotFound {
		t.Fatalf("used link still open: %d", p.Status)
	}
	a.clock.Advance(8 * 24 * time.Hour)
	owner.login("owner@once.example", testPassword)
	owner.primeCSRF("/team")
	p = owner.postFollow("/team/invitations", vals("email", "late@once.example", "role", "staff"))
	late, _ := p.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	a.clock.Advance(7*24*time.Hour + time.Minute)
	lu, _ := url.Parse(late)
	if p := a.client().getRaw(lu.Path); p.Status != http.StatusNotFound {
		t.Fatalf("expired link still open: %d", p.Status)
	}
}

func TestSetupNeedsConsoleToken(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	if p := c.getRaw("/team"); p.Status != http.StatusSeeOther || p.Location != "/setup" {
		t.Fatalf("before setup: %d %s", p.Status, p.Location)
	}
	p := c.get("/setup")
	if !p.Has(`[data-testid="setup-token-needed"]`) || p.Has("#f-email") {
		t.Fatal("setup form shown without the token")
	}
	if p := c.post("/setup", vals("token", "guess", "name", "Eve", "email", "eve@example.com", "password", testPassword)); p.Status != http.StatusForbidden {
		t.Fatalf("wrong token: %d", p.Status)
	}
	c.get("/setup?token=" + a.srv.SetupToken)
	if p := c.post("/setup", vals("token", a.srv.SetupToken, "name", "Ada", "email", "bad", "password", testPassword)); p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-email"]`) == "" {
		t.Fatalf("invalid setup: %d", p.Status)
	}
	p = c.postFollow("/setup", vals("token", a.srv.SetupToken, "name", "Ada", "email", "ada@example.com", "password", testPassword, "demo", "1"))
	if !strings.Contains(p.Text("main"), "Demo data loaded") || !strings.Contains(p.Text("h1"), "Administration") {
		t.Fatalf("after setup: %q", p.Text("main"))
	}
	// The demo logins are printed on the console too (where the set-up
	// link was), not only on the page that is gone after one view.
	if out := a.console.String(); !strings.Contains(out, "owner@demo.optline.invalid") || !strings.Contains(out, "password") {
		t.Errorf("console after a demo set-up: %q", out)
	}
	if strings.Contains(a.logs.String(), "owner@demo.optline.invalid (owner)") {
		t.Error("demo logins written to the log")
	}
	if p := a.client().getRaw("/setup?token=" + a.srv.SetupToken); p.Status != http.StatusSeeOther {
		t.Fatalf("setup reachable twice: %d", p.Status)
	}
	// The demo owner can log in with the shown password.
	if p := c.get("/admin/businesses"); !strings.Contains(p.Text("main"), "Café Sonnenschein") {
		t.Fatal("demo business missing from the admin list")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	if p := c.getRaw("/healthz"); p.Status != http.StatusOK {
		t.Fatalf("healthz %d", p.Status)
	}
	if p := c.getRaw("/readyz"); p.Status != http.StatusOK {
		t.Fatalf("readyz %d", p.Status)
	}
	a.db.Close()
	if p := c.getRaw("/readyz"); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with closed DB %d", p.Status)
	}
}

func TestUnsafeNextIgnored(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Next", "next@example.com").post("/logout", nil)
	c := a.client()
	c.primeCSRF("/login")
	p := c.post("/login", vals("email", "next@example.com", "password", testPassword, "next", "//evil.example/x"))
	if p.Location != "/" {
		t.Fatalf("redirected to %q", p.Location)
	}
}

func itoa(n int64) string { return strconvFormat(n) }

func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Logs GmbH", "logs@example.com")
	ck := sessionCookie(owner)
	owner.primeCSRF("/team")
	p := owner.postFollow("/team/invitations", vals("email", "secret-invitee@example.com", "role", "staff"))
	link, _ := p.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	token := link[strings.LastIndex(link, "/")+1:]
	a.client().get("/invite/" + token)
	c := a.client()
	c.login("logs@example.com", "the wrong password")
	logs := a.logs.String()
	if !strings.Contains(logs, "route=/invite/:token") {
		t.Fatalf("request log missing: %s", logs)
	}
	for _, secret := range []string{testPassword, "the wrong password", token, ck.Value, owner.csrf} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
}

func TestClientAddressFromTrustedProxyOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *web.Config) {
		_, n, _ := net.ParseCIDR("127.0.0.1/32")
		c.TrustedProxies = append(c.TrustedProxies, n)
	})
	a.signup("Proxy", "proxy@example.com").post("/logout", nil)
	c := a.client()
	c.ip = "198.51.100.7"
	c.login("proxy@example.com", "wrong password")
	if !strings.Contains(a.logs.String(), "ip=198.51.100.7") {
		t.Fatalf("trusted proxy's X-Forwarded-For not used: %s", a.logs.String())
	}

	b := newApp(t)
	b.signup("NoProxy", "noproxy@example.com").post("/logout", nil)
	d := b.client()
	d.ip = "198.51.100.7"
	d.login("noproxy@example.com", "wrong password")
	if strings.Contains(b.logs.String(), "198.51.100.7") {
		t.Fatal("untrusted X-Forwarded-For believed")
	}
}

// TestVisitorsStoreNoSessionRows: a visitor who is not logged in keeps
// their session (CSRF token, flashes) in the signed cookie, so fetching the
// log-in page without its cookie over and over writes nothing; the cookie's
// form still works, a tampered cookie is a new session, and an idle one
// times out like a stored one.
func TestVisitorsStoreNoSessionRows(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Laden", "owner@laden.example")
	rows := func() (n int64) {
		a.db.Gorm.Raw(`SELECT COUNT(*) FROM sessions WHERE user_id IS NULL`).Scan(&n)
		return n
	}
	before := rows()
	for i := 0; i < 200; i++ {
		resp, err := http.Get(a.ts.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) == 0 {
			t.Fatalf("visitor %d: %d, %d cookies", i, resp.StatusCode, len(resp.Cookies()))
		}
	}
	if got := rows(); got != before || got != 0 {
		t.Errorf("anonymous session rows: %d before, %d after 200 visits", before, got)
	}

	v := a.client()
	v.primeCSRF("/login")
	if p := v.post("/login", vals("email", "owner@laden.example", "password", testPassword)); p.Status != http.StatusSeeOther {
		t.Errorf("log-in with the cookie's CSRF token: %d", p.Status)
	}

	idle := a.client()
	idle.primeCSRF("/login")
	a.clock.Advance(31 * time.Minute)
	if p := idle.post("/login", vals("email", "owner@laden.example", "password", testPassword)); p.Status != http.StatusForbidden {
		t.Errorf("log-in with a visitor session idle for 31 minutes: %d, want 403", p.Status)
	}

	tampered := a.client()
	tampered.primeCSRF("/login")
	u, _ := url.Parse(a.ts.URL)
	for _, ck := range tampered.http.Jar.Cookies(u) {
		ck.Value = "x" + ck.Value
		tampered.http.Jar.SetCookies(u, []*http.Cookie{ck})
	}
	if p := tampered.post("/login", vals("email", "owner@laden.example", "password", testPassword)); p.Status != http.StatusForbidden {
		t.Errorf("log-in with a tampered visitor cookie: %d, want 403", p.Status)
	}
}
