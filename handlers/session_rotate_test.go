package handlers_test

import (
	"net/http"
	"testing"
)

// A password change gives the session a new id: the user stays logged
// in, and a cookie copied before the change (a stolen or fixated one) no
// longer works.
func TestPasswordChangeRotatesSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/account")
	before := sessionCookie(c)
	if before == nil {
		t.Fatal("no session cookie")
	}
	if p := a.withCookie(before).getRaw("/account"); p.Status != http.StatusOK {
		t.Fatalf("copied cookie before the change: %d", p.Status)
	}
	const newPassword = "a much better passphrase"
	p := c.post("/account/password", vals("current", testPassword, "new", newPassword))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", p.Status, p.Text(".error"))
	}
	after := sessionCookie(c)
	if after == nil || after.Value == before.Value {
		t.Fatal("session cookie not rotated by the password change")
	}
	// Still logged in, with a working CSRF token for the next form.
	if p := c.getRaw("/account"); p.Status != http.StatusOK {
		t.Fatalf("after the change: %d", p.Status)
	}
	c.primeCSRF("/account")
	if p := c.post("/logout", nil); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Errorf("logout with the new session: %d %q", p.Status, p.Location)
	}
	// The cookie from before the change is dead.
	old := a.withCookie(before)
	if p := old.getRaw("/account"); p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Faccount" {
		t.Errorf("old cookie after the change: %d %q", p.Status, p.Location)
	}
	// The new password works.
	if p := a.client().login("anna@kraus.example", newPassword); p.Status != http.StatusSeeOther {
		t.Errorf("log in with the new password: %d", p.Status)
	}
}
