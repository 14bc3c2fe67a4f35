package handlers_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// checkA11y is a basic automated accessibility check of one page: the
// document language, landmarks, exactly one h1, a label for every form
// control, alt text on images, and names on buttons and links.
func checkA11y(t *testing.T, name string, p *page) {
	t.Helper()
	d := p.Doc
	if lang, _ := d.Find("html").Attr("lang"); lang == "" {
		t.Errorf("%s: <html> has no lang", name)
	}
	for _, sel := range []string{"header", "main#main", "a.skip[href='#main']"} {
		if d.Find(sel).Length() == 0 {
			t.Errorf("%s: missing %s", name, sel)
		}
	}
	if n := d.Find("h1").Length(); n != 1 {
		t.Errorf("%s: %d h1 elements", name, n)
	}
	d.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		typ, _ := s.Attr("type")
		if typ == "hidden" || typ == "submit" || typ == "button" {
			return
		}
		id, _ := s.Attr("id")
		_, aria := s.Attr("aria-label")
		_, labelledby := s.Attr("aria-labelledby")
		wrapped := s.ParentsFiltered("label").Length() > 0
		if !aria && !labelledby && !wrapped && (id == "" || d.Find(`label[for="`+id+`"]`).Length() == 0) {
			html, _ := goquery.OuterHtml(s)
			t.Errorf("%s: control without a label: %s", name, html)
		}
	})
	d.Find("img").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("alt"); !ok {
			t.Errorf("%s: img without alt", name)
		}
	})
	d.Find("button, a[href]").Each(func(_ int, s *goquery.Selection) {
		_, aria := s.Attr("aria-label")
		_, title := s.Attr("title")
		if strings.TrimSpace(s.Text()) == "" && !aria && !title && s.Find("img[alt]").Length() == 0 {
			html, _ := goquery.OuterHtml(s)
			t.Errorf("%s: button or link without a name: %s", name, html)
		}
	})
	ids := map[string]bool{}
	d.Find("[id]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if ids[id] {
			t.Errorf("%s: duplicate id %q", name, id)
		}
		ids[id] = true
	})
}

func TestFoundationPagesAccessible(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	anon := a.client()
	for _, path := range []string{"/login", "/signup"} {
		checkA11y(t, path, anon.get(path))
	}
	owner := a.signup("A11y GmbH", "owner@a11y.example")
	owner.primeCSRF("/team")
	owner.post("/team/invitations", vals("email", "x@a11y.example", "role", "staff"))
	for _, path := range []string{"/", "/team", "/account", "/does-not-exist"} {
		checkA11y(t, path, owner.get(path))
	}
	admin := a.admin()
	for _, path := range []string{"/admin", "/admin/businesses", "/admin/audit"} {
		checkA11y(t, path, admin.get(path))
	}
}
