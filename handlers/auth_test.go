package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestSignupLandsOnDashboard(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	p := c.get("/")
	if p.Status != http.StatusOK {
		t.Fatalf("dashboard status %d", p.Status)
	}
	if got := p.Text("h1"); got != "Bäckerei Kraus" {
		t.Errorf("h1 = %q", got)
	}
	if got := p.Text(`[data-testid="verification-state"]`); got != "Not verified" {
		t.Errorf("verification = %q", got)
	}
	if !strings.Contains(p.Text(".flash-success"), "registered") {
		t.Errorf("no welcome flash: %q", p.Text(".flash"))
	}
}
