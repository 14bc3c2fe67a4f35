package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
)

func TestConcurrentAdminDecisions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ada := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	bob := secondAdmin(t, a, "bob@optline.example")
	completeProfile(t, owner)
	reqID := submitRequest(t, a, owner, "anna@kraus.example")
	ada.get(reviewPath(reqID))
	bob.get(reviewPath(reqID))
	var wg sync.WaitGroup
	res := make([]*page, 2)
	for i, c := range []*client{ada, bob} {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			if i == 0 {
				res[i] = c.post(reviewPath(reqID)+"/approve", vals("revision", "1"))
			} else {
				res[i] = c.post(reviewPath(reqID)+"/reject", vals("revision", "1", "reason", "No register extract"))
			}
		}(i, c)
	}
	wg.Wait()
	winners := 0
	for i, p := range res {
		if p.Status != http.StatusSeeOther {
			t.Fatalf("decision %d: %d", i, p.Status)
		}
		if p.Location == "/admin/verification" {
			winners++
			continue
		}
		loser := []*client{ada, bob}[i]
		page := loser.get(p.Location)
		winner := []string{"admin@example.com", "bob@optline.example"}[1-i]
		if got := page.Text(".flash-error"); !strings.Contains(got, "already") || !strings.Contains(got, winner) {
			t.Errorf("loser told %q", got)
		}
		if page.Has(`[data-testid="approve"]`) {
			t.Error("decided request still offers decisions")
		}
	}
	if winners != 1 {
		t.Fatalf("%d winners", winners)
	}
	ev, _ := a.db.AuditLog(context.Background(), models.AuditFilter{Action: "verification."})
	decisions := 0
	for _, e := range ev {
		if e.Action == "verification.approved" || e.Action == "verification.rejected" {
			decisions++
		}
	}
	if decisions != 1 {
		t.Errorf("%d decisions audited", decisions)
	}
}

func TestDecisionOnChangedRequestIsStopped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	completeProfile(t, owner)
	reqID := submitRequest(t, a, owner, "anna@kraus.example")
	admin.get(reviewPath(reqID))
	owner.primeCSRF("/profile")
	if p := owner.post("/profile", with(profileValues(), "display_name", "Kraus Backstube")); p.Status != http.StatusSeeOther {
		t.Fatalf("rename while pending: %d", p.Status)
	}
	p := admin.post(reviewPath(reqID)+"/approve", vals("revision", "1"))
	if p.Status != http.StatusSeeOther || p.Location != reviewPath(reqID) {
		t.Fatalf("stale approve: %d %s", p.Status, p.Location)
	}
	page := admin.get(p.Location)
	if page.Text(".flash-error") != msg("review.changed") || !strings.Contains(page.Text(`[data-testid="submitted-data"]`), "Kraus Backstube") {
		t.Errorf("flash %q", page.Text(".flash-error"))
	}
	if rev, _ := page.Doc.Find(`form.approve input[name="revision"]`).Attr("value"); rev != "2" {
		t.Errorf("revision %q", rev)
	}
}

func TestDemoQueueIsLivedIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	if _, err := demo.Load(context.Background(), a.db); err != nil {
		t.Fatal(err)
	}
	q := admin.get("/admin/verification")
	if q.Text(`[data-testid="count-pending"]`) != "1" || !strings.Contains(q.Text(`[data-testid="queue"]`), "Café Sonnenschein") {
		t.Fatalf("queue %q", q.Text(`[data-testid="queue"]`))
	}
	link, _ := q.Doc.Find(`[data-testid="queue"] a`).Attr("href")
	r := admin.get(link)
	if r.Status != 200 || !r.Has(`[data-testid="diff"]`) || !r.Has(`[data-testid="request-history"]`) {
		t.Errorf("demo review page %d", r.Status)
	}
}
