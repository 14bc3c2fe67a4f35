package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

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
