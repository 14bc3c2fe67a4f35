package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// cardForm is the new card form as the page fills it, with changes.
func cardForm(p *page, set map[string]string) url.Values {
	v := url.Values{}
	p.Doc.Find(`[data-testid="card-form"] input, [data-testid="card-form"] select, [data-testid="card-form"] textarea`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" || name == "more" {
			return
		}
		switch goquery.NodeName(s) {
		case "select":
			v.Set(name, s.Find("option[selected]").AttrOr("value", ""))
		case "textarea":
			v.Set(name, s.Text())
		default:
			v.Set(name, s.AttrOr("value", ""))
		}
	})
	for k, val := range set {
		v.Set(k, val)
	}
	return v
}

func TestRateCardHistoryAndForm(t *testing.T) {
	t.Parallel()
	a := newApp(t) // 2 March 2026
	admin := a.admin()
	p := admin.get("/admin/rate-cards")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	if !p.Has(`[data-testid="card-example"]`) || !p.Has(`[data-testid="card-current"]`) {
		t.Errorf("the example card is not labelled and marked current")
	}
	if got := p.Value(`#f-r0_marketing_price`); got != "0.1131" {
		t.Errorf("form starts from the current card: default marketing %q", got)
	}
	rows, _ := strconv.Atoi(p.Value(`input[name="rows"]`))
	if rows < 5 { // default, DE, 3 blank
		t.Fatalf("rows %d", rows)
	}

	// Every bad field gets its own message; nothing typed is lost.
	bad := cardForm(p, map[string]string{
		"name": "Spring prices", "effective_from": "2026-03-01",
		"r0_utility_price": "abc", "r0_service_cost": "-1",
		"r2_country": "DE", "r2_marketing_price": "0.2",
		"r3_country": "", "r3_utility_price": "0.05",
		"r4_country": "AT", "r4_marketing_price": "0.1234567",
	})
	got := admin.post("/admin/rate-cards", bad)
	if got.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", got.Status)
	}
	wantErr := map[string]string{
		"effective_from":     "2026-03-03",
		"r0_utility_price":   "number",
		"r0_service_cost":    "negative",
		"r2_country":         "has a row already",
		"r3_country":         "Choose the country",
		"r4_marketing_price": "six decimals",
	}
	// The kept rows are renumbered densely: r3 (no country) and r4 follow r2.
	for field, w := range wantErr {
		msg := got.Text(`[data-testid="error-` + field + `"]`)
		if !strings.Contains(msg, w) {
			t.Errorf("%s: message %q, want %q", field, msg, w)
		}
	}
	for field, w := range map[string]string{"f-name": "Spring prices", "f-r0_utility_price": "abc", "f-r4_marketing_price": "0.1234567", "f-r3_utility_price": "0.05"} {
		if v := got.Value("#" + field); v != w {
			t.Errorf("%s kept %q, want %q", field, v, w)
		}
	}
	if sel := got.Doc.Find(`#f-r4_country option[selected]`).AttrOr("value", ""); sel != "AT" {
		t.Errorf("country kept %q", sel)
	}

	// More rows, without script: the form again with five more blank rows.
	more := cardForm(p, map[string]string{"name": "Spring prices", "r0_marketing_price": "0.1200", "more": "1"})
	m := admin.post("/admin/rate-cards", more)
	if m.Status != http.StatusOK {
		t.Fatalf("more rows: status %d", m.Status)
	}
	if n, _ := strconv.Atoi(m.Value(`input[name="rows"]`)); n != 2+3+5 {
		t.Errorf("rows after more: %d", n)
	}
	if m.Value("#f-r0_marketing_price") != "0.1200" || m.Value("#f-name") != "Spring prices" {
		t.Errorf("more rows lost what was typed")
	}
	if m.Has(`[data-testid^="error-"]`) {
		t.Errorf("more rows validated the form")
	}

	// A valid card from 1 April: saved, listed as scheduled, margin shown.
	ok := cardForm(p, map[string]string{"name": "Spring prices", "effective_from": "2026-04-01",
		"r2_country": "AT", "r2_marketing_price": "0.1500", "r2_marketing_cost": "0.1200"})
	res := admin.post("/admin/rate-cards", ok)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("save: status %d: %s", res.Status, res.Doc.Find(".error").Text())
	}
	h := admin.get("/admin/rate-cards")
	if !strings.Contains(h.Text(".flash-success"), "2026-04-01") {
		t.Errorf("flash %q", h.Text(".flash-success"))
	}
	sched := h.Doc.Find(`[data-testid="card-scheduled"]`).Closest("details")
	if sched.Length() != 1 || !strings.Contains(sched.Text(), "Spring prices") {
		t.Fatalf("new card not in the history as scheduled")
	}
	at := sched.Find(`[data-testid="price-row-AT"]`)
	if !strings.Contains(at.Text(), "0.0300 (20.0") {
		t.Errorf("margin of AT marketing: %q", strings.Join(strings.Fields(at.Text()), " "))
	}

	// Never backwards: a card before the newest one is refused.
	back := admin.post("/admin/rate-cards", cardForm(h, map[string]string{"name": "Late", "effective_from": "2026-03-20"}))
	if back.Status != http.StatusUnprocessableEntity || !strings.Contains(back.Text(`[data-testid="error-effective_from"]`), "2026-04-02") {
		t.Errorf("backwards card: status %d, %q", back.Status, back.Text(`[data-testid="error-effective_from"]`))
	}

	// Staff never reach it.
	owner := a.signup("Kiosk", "owner@kiosk.example")
	if p := owner.getRaw("/admin/rate-cards"); p.Status == http.StatusOK {
		t.Errorf("rate cards open to an owner")
	}
}
