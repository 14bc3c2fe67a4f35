package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
)

// memberID is the membership id of the account at email.
func (a *app) memberID(email string) int64 {
	a.t.Helper()
	u, err := a.db.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatalf("user %s: %v", email, err)
	}
	m, err := a.db.MembershipOf(context.Background(), u.ID)
	if err != nil {
		a.t.Fatalf("membership of %s: %v", email, err)
	}
	return m.ID
}

// auditCount counts audit events of action.
func (a *app) auditCount(action string) int64 {
	a.t.Helper()
	var n int64
	if err := a.db.WithContext(context.Background()).Model(&models.AuditEvent{}).Where("action = ?", action).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *app) resetRows() int64 {
	a.t.Helper()
	var n int64
	if err := a.db.WithContext(context.Background()).Model(&models.PasswordReset{}).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

// makeStaffResetLink has owner make a reset link for the staff member at
// email from the team page's button, and returns the link's path.
func makeStaffResetLink(t *testing.T, owner *client, email string) (string, *page) {
	t.Helper()
	team := owner.get("/team")
	action := team.Attr(`[data-testid="member-`+email+`"] form[action$="/reset-link"]`, "action")
	if action == "" {
		t.Fatalf("no reset-link button for %s on the team page", email)
	}
	p := owner.postFollow(action, nil)
	link := p.Value(`[data-testid="reset-link"]`)
	if link == "" {
		t.Fatalf("no reset link shown (status %d): %s", p.Status, p.Text(".flash"))
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/reset/") {
		t.Fatalf("link %q", link)
	}
	return u.Path, p
}

// setPassword follows a reset link in a fresh browser and sets password.
func setPassword(t *testing.T, a *app, path, password string) *page {
	t.Helper()
	c := a.client()
	p := c.get(path)
	if p.Status != http.StatusOK || !p.Has(`input[name="password"]`) {
		t.Fatalf("reset page %s: status %d", path, p.Status)
	}
	if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	return c.post(path, vals("password", password))
}

func TestOwnerMakesResetLinkForStaff(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Alpha", "owner@alpha.example")
	staff := a.staff(owner, "staff@alpha.example")
	if p := staff.get("/account"); p.Status != http.StatusOK {
		t.Fatalf("staff account page %d", p.Status)
	}

	path, p := makeStaffResetLink(t, owner, "staff@alpha.example")
	box := p.Text(`[data-testid="reset-link-box"]`)
	if !strings.Contains(box, "staff@alpha.example") || !strings.Contains(box, "2026") {
		t.Errorf("link box does not name the address and expiry: %q", box)
	}
	if again := owner.get("/team"); again.Has(`[data-testid="reset-link"]`) {
		t.Error("the link is shown a second time")
	}
	token := strings.TrimPrefix(path, "/reset/")

	// Too short: the signup rules, nothing spent.
	c := a.client()
	c.primeCSRF(path)
	if p := c.post(path, vals("password", "short")); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("short password: status %d", p.Status)
	}
	// Without the CSRF token: 403, nothing changed.
	if p := c.post(path, vals("_csrf", "wrong", "password", "a brand new passphrase")); p.Status != http.StatusForbidden {
		t.Fatalf("no CSRF: status %d", p.Status)
	}

	rc := a.client()
	rc.primeCSRF(path)
	p = rc.post(path, vals("password", "a brand new passphrase"))
	if p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("reset: status %d to %q", p.Status, p.Location)
	}
	login := rc.get("/login")
	if login.Value(`#f-email`) != "staff@alpha.example" || !strings.Contains(login.Text(".flash-success"), "Log in as staff@alpha.example") {
		t.Errorf("log-in page after reset: email %q, flash %q", login.Value(`#f-email`), login.Text(".flash"))
	}

	// The old session is gone.
	if p := staff.getRaw("/account"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("old staff session still works: %d %q", p.Status, p.Location)
	}
	if p := a.client().login("staff@alpha.example", testPassword); p.Status != http.StatusUnauthorized {
		t.Errorf("old password: status %d", p.Status)
	}
	if p := a.client().login("staff@alpha.example", "a brand new passphrase"); p.Status != http.StatusSeeOther {
		t.Errorf("new password: status %d", p.Status)
	}
	// Used once: a clear page, and a second use changes nothing.
	again := a.client()
	if p := again.get(path); p.Status != http.StatusGone || !p.Has(`[data-testid="reset-invalid"]`) {
		t.Fatalf("reused link: status %d", p.Status)
	}
	again.primeCSRF("/login")
	if p := again.post(path, vals("password", "yet another passphrase")); p.Status != http.StatusGone {
		t.Fatalf("reused link POST: status %d", p.Status)
	}
	if p := a.client().login("staff@alpha.example", "a brand new passphrase"); p.Status != http.StatusSeeOther {
		t.Errorf("password changed by a reused link: status %d", p.Status)
	}
	if a.auditCount("user.reset_link_created") != 1 || a.auditCount("user.password_reset") != 1 {
		t.Errorf("audit: %d links, %d resets", a.auditCount("user.reset_link_created"), a.auditCount("user.password_reset"))
	}
	if strings.Contains(a.logs.String(), token) {
		t.Error("the token is in the log")
	}
	// The audit log says it in words.
	adm := a.admin()
	audit := adm.get("/admin/audit")
	if !strings.Contains(audit.Body, "Made a password-reset link for Staff staff@alpha.example") ||
		!strings.Contains(audit.Body, "through a reset link") {
		t.Error("audit sentences missing")
	}
}

func TestNewerResetLinkVoidsOlder(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Beta", "owner@beta.example")
	a.staff(owner, "staff@beta.example")
	first, _ := makeStaffResetLink(t, owner, "staff@beta.example")
	second, _ := makeStaffResetLink(t, owner, "staff@beta.example")
	if p := a.client().get(first); p.Status != http.StatusGone {
		t.Errorf("older link: status %d", p.Status)
	}
	if p := a.client().get(second); p.Status != http.StatusOK {
		t.Errorf("newer link: status %d", p.Status)
	}
}

func TestStaffCannotMakeResetLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Gamma", "owner@gamma.example")
	staff := a.staff(owner, "staff@gamma.example")
	a.staff(owner, "other@gamma.example")
	staff.primeCSRF("/team")
	if staff.get("/team").Has(`form[action$="/reset-link"]`) {
		t.Error("staff see reset-link buttons")
	}
	for _, email := range []string{"owner@gamma.example", "other@gamma.example", "staff@gamma.example"} {
		p := staff.post("/team/members/"+strconv.FormatInt(a.memberID(email), 10)+"/reset-link", nil)
		if p.Status != http.StatusForbidden {
			t.Errorf("staff making a link for %s: status %d", email, p.Status)
		}
	}
	if n := a.resetRows(); n != 0 {
		t.Errorf("%d resets made", n)
	}
	if a.auditCount("access.denied") < 3 {
		t.Error("refusals not audited")
	}
	// An owner's link is the administrator's to make, also for oneself.
	owner.primeCSRF("/team")
	p := owner.postFollow("/team/members/"+strconv.FormatInt(a.memberID("owner@gamma.example"), 10)+"/reset-link", nil)
	if !strings.Contains(p.Text(".flash-error"), "administrator") || a.resetRows() != 0 {
		t.Errorf("owner link: %q, %d resets", p.Text(".flash"), a.resetRows())
	}
}

func TestResetLinkForAnotherBusinessIs404(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ownerA := a.signup("Café Delta", "owner@delta.example")
	ownerB := a.signup("Café Epsilon", "owner@epsilon.example")
	a.staff(ownerB, "staff@epsilon.example")
	ownerA.primeCSRF("/team")
	for _, email := range []string{"staff@epsilon.example", "owner@epsilon.example"} {
		p := ownerA.post("/team/members/"+strconv.FormatInt(a.memberID(email), 10)+"/reset-link", nil)
		if p.Status != http.StatusNotFound {
			t.Errorf("owner of A making a link for B's %s: status %d", email, p.Status)
		}
	}
	if n := a.resetRows(); n != 0 {
		t.Errorf("%d resets made", n)
	}
}

func TestAdminMakesResetLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Zeta", "owner@zeta.example")
	adm := a.admin()
	list := adm.get("/admin/businesses")
	href := list.Attr(`a[href^="/admin/businesses/"]`, "href")
	if href == "" {
		t.Fatal("no link to the business's page")
	}
	page := adm.get(href)
	action := page.Attr(`[data-testid="member-owner@zeta.example"] form[action$="/reset-link"]`, "action")
	if action == "" {
		t.Fatalf("no reset-link button for the owner (status %d)", page.Status)
	}
	p := adm.postFollow(action, nil)
	link := p.Value(`[data-testid="reset-link"]`)
	if link == "" {
		t.Fatalf("no link shown (status %d)", p.Status)
	}
	u, _ := url.Parse(link)
	if p := setPassword(t, a, u.Path, "owner's fresh passphrase"); p.Status != http.StatusSeeOther {
		t.Fatalf("reset: status %d", p.Status)
	}
	if p := owner.getRaw("/team"); p.Status != http.StatusSeeOther {
		t.Errorf("owner's old session survived: %d", p.Status)
	}
	if p := a.client().login("owner@zeta.example", "owner's fresh passphrase"); p.Status != http.StatusSeeOther {
		t.Errorf("new password: status %d", p.Status)
	}
	// Members cannot use the administrator's route.
	owner2 := a.client()
	owner2.login("owner@zeta.example", "owner's fresh passphrase")
	owner2.primeCSRF("/team")
	if p := owner2.post(action, nil); p.Status != http.StatusForbidden {
		t.Errorf("owner on the admin route: status %d", p.Status)
	}
}

func TestExpiredResetLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Eta", "owner@eta.example")
	a.staff(owner, "staff@eta.example")
	path, _ := makeStaffResetLink(t, owner, "staff@eta.example")
	c := a.client()
	c.primeCSRF(path)
	a.clock.Advance(models.ResetLinkTTL + time.Minute)
	p := c.get(path)
	if p.Status != http.StatusGone || !strings.Contains(p.Text(`[data-testid="reset-invalid"]`), "expired") {
		t.Fatalf("expired link: status %d, %q", p.Status, p.Text("main"))
	}
	if !strings.Contains(p.Body, "/forgot") {
		t.Error("the page does not say what to do")
	}
	c.primeCSRF("/login") // the visitor's session timed out meanwhile
	if p := c.post(path, vals("password", "too late passphrase")); p.Status != http.StatusGone {
		t.Errorf("expired POST: status %d", p.Status)
	}
	if p := a.client().login("staff@eta.example", testPassword); p.Status != http.StatusSeeOther {
		t.Errorf("old password no longer works: %d", p.Status)
	}
	// The cleanup purges it a day after it expired.
	a.clock.Advance(25 * time.Hour)
	if n, err := a.db.PurgePasswordResets(context.Background()); err != nil || n != 1 {
		t.Errorf("purged %d (%v)", n, err)
	}
	if p := a.client().get(path); p.Status != http.StatusGone {
		t.Errorf("purged link: status %d", p.Status)
	}
}

func TestForgotWithoutMailSaysWhomToAsk(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	a.mail.off = true
	c := a.client()
	login := c.get("/login")
	if login.Attr(`[data-testid="forgot-link"]`, "href") != "/forgot" {
		t.Fatal("no Forgot password? link on the log-in page")
	}
	p := c.get("/forgot")
	if p.Has(`input[name="email"]`) {
		t.Error("the mail form is shown without SMTP")
	}
	text := p.Text("main")
	if !strings.Contains(text, "owner of your business") || !strings.Contains(text, "platform administrator") {
		t.Errorf("page does not say whom to ask: %q", text)
	}
	if p := c.post("/forgot", vals("email", "x@example.com")); p.Status != http.StatusSeeOther || p.Location != "/forgot" {
		t.Errorf("POST without SMTP: %d %q", p.Status, p.Location)
	}
}

func TestForgotIsThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t, trustLoopbackProxy)
	owner := a.signup("Café Theta", "owner@theta.example")
	_ = owner
	c := a.client()
	c.ip = "203.0.113.7"
	c.primeCSRF("/forgot")
	if p := c.post("/forgot", vals("_csrf", "nope", "email", "owner@theta.example")); p.Status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", p.Status)
	}
	jobsFor := func() int64 {
		var n int64
		if err := a.db.WithContext(context.Background()).Raw(`SELECT COUNT(*) FROM river_job WHERE kind = 'password_reset_mail'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 5; i++ {
		if p := c.post("/forgot", vals("email", "owner@theta.example")); p.Status != http.StatusSeeOther || p.Location != "/forgot/sent" {
			t.Fatalf("request %d: %d %q", i, p.Status, p.Location)
		}
	}
	if n := jobsFor(); n != models.ResetMailLimit {
		t.Errorf("%d mails queued for one address, want %d", n, models.ResetMailLimit)
	}
	for i := 5; i < models.ResetAddrLimit; i++ {
		c.post("/forgot", vals("email", "someone"+strconv.Itoa(i)+"@example.com"))
	}
	p := c.post("/forgot", vals("email", "owner@theta.example"))
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("request %d from one address: status %d", models.ResetAddrLimit+1, p.Status)
	}
	// Another address is not affected.
	d := a.client()
	d.ip = "198.51.100.9"
	d.primeCSRF("/forgot")
	if p := d.post("/forgot", vals("email", "owner@theta.example")); p.Status != http.StatusSeeOther {
		t.Errorf("other address: %d", p.Status)
	}
	// The counters go with the cleanup once their window has passed.
	var before, after int64
	a.db.WithContext(context.Background()).Model(&models.LoginThrottle{}).Where("key LIKE 'reset:%'").Count(&before)
	a.clock.Advance(models.ResetWindow + time.Minute)
	if _, err := a.db.PurgePasswordResets(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.db.WithContext(context.Background()).Model(&models.LoginThrottle{}).Where("key LIKE 'reset:%'").Count(&after)
	if before == 0 || after != 0 {
		t.Errorf("reset counters: %d before the cleanup, %d after", before, after)
	}
}

// smtpServer is a minimal SMTP server for tests: it accepts every mail
// and hands each message (headers and body) to msgs.
type smtpServer struct {
	ln   net.Listener
	msgs chan string
}
