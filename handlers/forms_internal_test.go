package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

type testForm struct {
	Email    string `form:"email"`
	Password string `form:"password,raw"`
	Agree    bool   `form:"agree"`
	consentForm
	Untagged string
}

// A typed form trims what was typed except raw fields (passwords keep
// their spaces), reads check boxes, fills embedded parts, and renders
// back exactly what the page showed.
func TestBindFormTrimsExceptRawAndRendersBack(t *testing.T) {
	body := url.Values{"email": {"  ada@example.com "}, "password": {"  secret pw  "}, "agree": {"1"},
		"consent_source": {" shop "}, "Untagged": {"x"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := echo.New().NewContext(req, httptest.NewRecorder())
	var in testForm
	f := bindForm(c, &in)
	if in.Email != "ada@example.com" || in.Password != "  secret pw  " || !in.Agree || in.Source != "shop" || in.Untagged != "" {
		t.Fatalf("bound %+v", in)
	}
	if f.Value("email") != "ada@example.com" || f.Value("password") != "  secret pw  " || f.Value("consent_source") != "shop" {
		t.Fatalf("rendered back %v", f.Values)
	}
	if v := formView(in); v.Value("agree") != "1" || v.Value("consent_source") != "shop" {
		t.Fatalf("formView %v", v.Values)
	}
}
