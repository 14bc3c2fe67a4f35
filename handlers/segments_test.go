package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

func TestSegmentFormErrorsCountAndCRUD(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	ids := seedContacts(t, tn, 6) // "even" on 0, 2, 4
	if err := contacts.OptOut(context.Background(), tn, ids[2], contacts.OptOutManual, "user:1"); err != nil {
		t.Fatal(err)
	}
	c.primeCSRF("/segments/new")
	if p := c.get("/segments/new"); p.Text(`[data-testid="segment-live-count"]`) != "5 contacts can receive messages in this segment." {
		t.Errorf("count of an empty rule: %q", p.Text(`[data-testid="segment-live-count"]`))
	}
	errCases := []struct {
		form        map[string]string
		field, want string
	}{
		{map[string]string{"name": ""}, "name", "This field is required."},
		{map[string]string{"name": strings.Repeat("s", 101)}, "name", "at most 100 characters"},
		{map[string]string{"name": "X", "all_tags": "even", "none_tags": "EVEN"}, "none_tags", "cannot be both wanted and excluded"},
		{map[string]string{"name": "X", "any_tags": strings.Repeat("t", 51)}, "any_tags", "at most 50 characters"},
	}
	for _, ec := range errCases {
		form := vals()
		for k, v := range ec.form {
			form.Set(k, v)
		}
		p := c.post("/segments", form)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(`[data-testid="error-`+ec.field+`"]`), ec.want) {
			t.Errorf("%v: %d %q", ec.form, p.Status, p.Text(`[data-testid="error-`+ec.field+`"]`))
		}
		if v, _ := p.Doc.Find(`#f-name`).Attr("value"); v != ec.form["name"] {
			t.Errorf("typed name not kept: %q", v)
		}
	}
	preview := c.post("/segments", vals("name", "", "all_tags", "even", "preview", "1"))
	if preview.Status != http.StatusOK || preview.Text(`[data-testid="segment-live-count"]`) != "2 contacts can receive messages in this segment." {
		t.Errorf("preview: %d %q", preview.Status, preview.Text(`[data-testid="segment-live-count"]`))
	}
	if n, _ := contacts.Segments(context.Background(), tn); len(n) != 0 {
		t.Fatal("preview saved the segment")
	}
	p := c.post("/segments", vals("name", "Gerade", "all_tags", "Even"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	edit := c.get(p.Location)
	if v, _ := edit.Doc.Find(`#f-all_tags`).Attr("value"); v != "even" {
		t.Errorf("saved rule %q", v)
	}
	if dup := c.post("/segments", vals("name", "gerade")); !strings.Contains(dup.Text(`[data-testid="error-name"]`), "exists already") {
		t.Errorf("duplicate name: %q", dup.Text(`[data-testid="error-name"]`))
	}
	list := c.get("/segments")
	if got := list.Text(`[data-testid="segment-Gerade"] [data-testid="segment-count"]`); got != "2" {
		t.Errorf("listed count %q", got)
	}
	// A large book gets the list at once and each count from the script,
	// through the same count the form uses; without the script, a link
	// counts them on the server.
	later := c.get("/segments?counts=later")
	cell := later.Doc.Find(`[data-testid="segment-Gerade"] [data-testid="segment-count"]`)
	if url, _ := cell.Attr("data-count-url"); cell.Text() != "Counting…" || url == "" {
		t.Errorf("lazy count cell %q %q", cell.Text(), url)
	} else {
		var lazy struct{ Count int64 }
		if err := json.Unmarshal([]byte(c.get(url).Body), &lazy); err != nil || lazy.Count != 2 {
			t.Errorf("the cell's count URL %s answers %d, %v", url, lazy.Count, err)
		}
	}
	if !later.Has(`noscript`) || !strings.Contains(later.Body, `href="/segments?counts=now"`) {
		t.Error("no way to count without the script")
	}
	if got := c.get("/segments?counts=now").Text(`[data-testid="segment-Gerade"] [data-testid="segment-count"]`); got != "2" {
		t.Errorf("counted now: %q", got)
	}
	resp := c.get("/segments/count?all_tags=even&none_tags=")
	var j struct {
		Count int64
		Text  string
	}
	if err := json.Unmarshal([]byte(resp.Body), &j); err != nil || j.Count != 2 || j.Text != "2 contacts can receive messages in this segment." {
		t.Errorf("count endpoint: %d %s", resp.Status, resp.Body)
	}
	if bad := c.get("/segments/count?all_tags=a&none_tags=a"); bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "cannot be both") {
		t.Errorf("bad rule count: %d %s", bad.Status, bad.Body)
	}
	upd := c.post(p.Location, vals("name", "Gerade oder nicht", "any_tags", "even, odd"))
	if upd.Status != http.StatusSeeOther {
		t.Fatalf("update: %d", upd.Status)
	}
	segs, _ := contacts.Segments(context.Background(), tn)
	if len(segs) != 1 || segs[0].Name != "Gerade oder nicht" || len(segs[0].Any) != 2 {
		t.Errorf("updated: %+v", segs)
	}
	members := c.get(fmt.Sprintf("/contacts?segment=%d", segs[0].ID))
	if got := members.Doc.Find(`[data-testid="contacts-table"] tbody tr`).Length(); got != 2 {
		t.Errorf("segment members listed: %d", got)
	}
	csv := c.get(fmt.Sprintf("/segments/%d/export", segs[0].ID))
	if csv.Status != http.StatusOK || strings.Count(csv.Body, "\r\n") != 3 || !strings.Contains(csv.Body, "'+4915100000000") || strings.Contains(csv.Body, "'+4915100000002") {
		t.Errorf("segment export: %d\n%s", csv.Status, csv.Body)
	}
	if del := c.post(fmt.Sprintf("/segments/%d/delete", segs[0].ID), nil); del.Status != http.StatusSeeOther {
		t.Errorf("delete: %d", del.Status)
	}
	if p := c.get(fmt.Sprintf("/segments/%d", segs[0].ID)); p.Status != http.StatusNotFound {
		t.Errorf("deleted segment: %d", p.Status)
	}
	events, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: tn.BusinessID(), Action: "segment."})
	if len(events) != 3 {
		t.Errorf("segment audit entries = %d", len(events))
	}
}
