package handlers_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/optline/optline/handlers"
	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

// TestSafeNext: known open-redirect bypasses fall back to "/"; same-site
// paths are kept as they are.
func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%255Cevil.example", "/"},
		{"/%25252F/evil.example", "/"},
		{"https://evil.example", "/"},
		{"HTTPS://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/%0d%0aSet-Cookie:x", "/"},
		{"/\r\nSet-Cookie:x", "/"},
		{" /x", "/"},
		{"/x ", "/"},
		{"/x%00", "/"},
		{"/x%7f", "/"},
		{"//%2F%2Fevil", "/"},
		{"/.//evil", "/"},
		{"/./%2F/evil", "/"},
		{"/a/..//evil", "/"},
		{"/a/../b", "/"},
		{"/a/%2e%2e//evil", "/"},
		{"/x//y", "/x//y"},
		{"/%2e/%2fevil", "/"},
		{"/\u3000/evil.example", "/"},
		{"/%E3%80%80/evil.example", "/"},
		{"/\u2028/evil", "/"},
		{"/x%zz", "/"},
		{"", "/"},
		{"contacts", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
		{"/contacts?tag=a&page=2", "/contacts?tag=a&page=2"},
		{"/imports/3", "/imports/3"},
		{"/contacts?q=anna%20m%C3%BCller", "/contacts?q=anna%20m%C3%BCller"},
		{"/contacts/", "/contacts/"},
		{"/", "/"},
	} {
		if got := handlers.SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestLoginNextCannotLeaveTheSite: /login?next=/%09/evil.example, through
// the form and the router, lands on a local path.
func TestLoginNextCannotLeaveTheSite(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Next Hardening", "nexthard@example.com").post("/logout", nil)
	c := a.client()
	p := c.get("/login?next=/%09/evil.example")
	next := p.Value(`input[name="next"]`)
	if next != "/" {
		t.Errorf("form carries next=%q", next)
	}
	for _, n := range []string{next, "/\t/evil.example", "/%09/evil.example"} {
		c := a.client()
		c.primeCSRF("/login")
		p := c.post("/login", vals("email", "nexthard@example.com", "password", testPassword, "next", n))
		if p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Errorf("next=%q: %d to %q", n, p.Status, p.Location)
		}
	}
	c = a.client()
	c.primeCSRF("/login?next=/contacts?tag=a%26page=2")
	p = c.post("/login", vals("email", "nexthard@example.com", "password", testPassword, "next", "/contacts?tag=a&page=2"))
	if p.Location != "/contacts?tag=a&page=2" {
		t.Errorf("local next lost: %q", p.Location)
	}
}

// trustLoopbackProxy makes the test server believe X-Forwarded-For, so a
// test can log in from several addresses.
func trustLoopbackProxy(cfg *web.Config) {
	for _, s := range []string{"127.0.0.0/8", "::1/128"} {
		_, n, _ := net.ParseCIDR(s)
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
}

// TestParallelWrongPasswordsAreThrottled: forty parallel wrong passwords
// for one account from one address: at most the limit get 401, the rest
// 429 with Retry-After.
func TestParallelWrongPasswordsAreThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Parallel Ltd", "parallel@example.com").post("/logout", nil)
	c := a.client()
	c.primeCSRF("/login")
	form := vals("email", "parallel@example.com", "password", "wrong password", "_csrf", c.csrf).Encode()
	statuses := make([]int, 40)
	retry := make([]string, 40)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, c.url("/login"), strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.http.Do(req)
			if err != nil {
				t.Errorf("post: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i], retry[i] = resp.StatusCode, resp.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	n401, n429 := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			n401++
		case http.StatusTooManyRequests:
			n429++
			if retry[i] == "" {
				t.Errorf("429 without Retry-After")
			}
		default:
			t.Errorf("status %d", s)
		}
	}
	if n401 > models.LoginPairLimit || n401+n429 != 40 {
		t.Fatalf("%d got 401 and %d got 429; at most %d may be evaluated", n401, n429, models.LoginPairLimit)
	}
}

// TestStrangerCannotLockOutOwner: a stranger's wrong guesses from address
// A spend A's budget, not the owner's: the owner logs in from address B.
func TestStrangerCannotLockOutOwner(t *testing.T) {
	t.Parallel()
	a := newApp(t, trustLoopbackProxy)
	a.signup("Owner Ltd", "owner-b@example.com").post("/logout", nil)
	stranger := a.client()
	stranger.ip = "203.0.113.66"
	var last *page
	for i := 0; i < models.LoginPairLimit+2; i++ {
		last = stranger.login("owner-b@example.com", "guess "+itoa(int64(i)))
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("stranger not refused: %d", last.Status)
	}
	if p := stranger.login("owner-b@example.com", testPassword); p.Status != http.StatusTooManyRequests {
		t.Fatalf("stranger's address got in with the right password while refused: %d", p.Status)
	}
	owner := a.client()
	owner.ip = "192.0.2.10"
	if p := owner.login("owner-b@example.com", testPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("owner locked out by a stranger: %d %q", p.Status, p.Text(`[data-testid="login-error"]`))
	}
}

// TestBusyHashingRefusalsSayWhenToComeBack: while every hashing slot is
// taken, a sign-up waits models.HashWait and is refused with 429 and a
// Retry-After, like a busy log-in. (Not parallel: it holds the process's
// hashing slots.)
func TestBusyHashingRefusalsSayWhenToComeBack(t *testing.T) {
	a := newApp(t)
	a.ensureAdmin()
	models.SetHashConcurrency(1)
	defer models.SetHashConcurrency(0)
	release, err := models.CurrentHashLimiter().Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c := a.client()
	c.primeCSRF("/signup")
	p := c.post("/signup", vals("business_name", "Busy GmbH", "name", "B", "email", "busy@example.com", "password", testPassword))
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("sign-up while hashing is busy: %d, Retry-After %q", p.Status, p.Header.Get("Retry-After"))
	}
}
