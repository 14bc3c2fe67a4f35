package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
)

// TestImportIsolation: every import URL of business B answers 404 to A,
// and changes nothing.
func TestImportIsolation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("B", "owner@b.example")
	path := startImport(t, owner)
	id := strings.TrimPrefix(path, "/contacts/imports/")
	bID := actorBusiness(t, a, "owner@b.example")
	tb, _ := a.db.Tenant(bID)
	n, _ := strconv.ParseInt(id, 10, 64)
	if _, err := imports.RecordBatch(context.Background(), tb, n, 0, imports.ImportBatchDelta{RowsDone: 1, Failed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	other := a.signup("A", "owner@a.example")
	other.primeCSRF("/contacts/imports/new")
	for _, u := range []string{path, path + "/progress", path + "/mapping", path + "/errors.csv"} {
		if p := other.getRaw(u); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", u, p.Status)
		}
	}
	for _, u := range []string{path + "/cancel", path + "/mapping"} {
		if p := other.post(u, vals("action", "start", "consent_mode", "none")); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d", u, p.Status)
		}
	}
	if got, _ := imports.Get(context.Background(), tb, n); got.Status != imports.ImportQueued {
		t.Errorf("B's import is %s", got.Status)
	}
	if list := other.get("/contacts/imports"); list.Has(`[data-testid="import-` + id + `"]`) {
		t.Error("A's history lists B's import")
	}
	for _, u := range []string{"/contacts?import=" + id, "/contacts/export?import=" + id, "/contacts?import=x"} {
		if p := other.getRaw(u); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", u, p.Status)
		}
	}
}

// TestImportProgressResuming: a running import without a sign of life for
// models.WorkStale says it is resuming after a restart; the page has its
// polling script and a live region.
func TestImportProgressResuming(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	path := startImport(t, c)
	id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/contacts/imports/"), 10, 64)
	tn, _ := a.db.Tenant(actorBusiness(t, a, "owner@laden.example"))
	if _, err := imports.StartRun(context.Background(), tn, id); err != nil {
		t.Fatal(err)
	}
	p := c.get(path)
	if note, _ := p.Doc.Find(`[data-testid="progress-note"]`).Attr("hidden"); note != "" || p.Has(`[data-testid="progress-note"]:not([hidden])`) {
		t.Errorf("fresh run shows a note: %q", p.Text(`[data-testid="progress-note"]`))
	}
	if !p.Has(`script[src="/static/js/imports.js"]`) || !p.Has(`[aria-live="polite"]`) || !p.Has("progress") || !p.Has(`[data-testid="cancel-import"]`) {
		t.Error("progress page lacks its script, live region, bar or cancel button")
	}
	a.clock.Advance(models.WorkStale + time.Second)
	p = c.get(path)
	if got := p.Text(`[data-testid="progress-note"]`); !strings.Contains(got, "picks up where it stopped within 30 seconds") {
		t.Errorf("note %q", got)
	}
	if c.postFollow(path+"/cancel", nil).Text(`[data-testid="status-text"]`) != "Cancelled" {
		t.Error("cancel did not stop the import")
	}
}

// TestImportProgressStalledHeartbeat: while the run working an import
// beats, the page estimates the time left; once its heartbeat is stale
// (the portal was killed) the page and its JSON say the import picks up
// where it stopped within 30 seconds and estimate nothing; after a minute
// more they stop promising seconds; a new run's heartbeat ends the note.
func TestImportProgressStalledHeartbeat(t *testing.T) {
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	path := startImport(t, c)
	id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/contacts/imports/"), 10, 64)
	tn, _ := a.db.Tenant(actorBusiness(t, a, "owner@laden.example"))
	ctx := context.Background()
	if _, err := imports.StartRun(ctx, tn, id); err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Claim(ctx, tn, id, ""); err != nil { // a run that will die
		t.Fatal(err)
	}
	a.clock.Advance(time.Second)
	if _, err := imports.RecordBatch(ctx, tn, id, 0, imports.ImportBatchDelta{RowsDone: 1, Imported: 1}, nil); err != nil {
		t.Fatal(err)
	}
	p := c.get(path)
	if p.Has(`[data-testid="progress-note"]:not([hidden])`) {
		t.Errorf("live run shows a note: %q", p.Text(`[data-testid="progress-note"]`))
	}
	if eta := p.Text(`[data-testid="count-eta"]`); eta == "–" || eta == "" {
		t.Errorf("live run has no estimate: %q", eta)
	}

	a.clock.Advance(models.WorkStale + time.Second) // the process was killed
	p = c.get(path)
	note := p.Doc.Find(`[data-testid="progress-note"]`)
	if _, hidden := note.Attr("hidden"); hidden || !strings.Contains(note.Text(), "The portal restarted; this import picks up where it stopped within 30 seconds") {
		t.Errorf("stalled note (hidden %v): %q", hidden, note.Text())
	}
	if eta := p.Text(`[data-testid="count-eta"]`); eta != "–" {
		t.Errorf("stalled import estimates %q", eta)
	}
	var js struct {
		Stalled bool              `json:"stalled"`
		Text    map[string]string `json:"text"`
	}
	if err := json.Unmarshal([]byte(c.getRaw(path+"/progress").Body), &js); err != nil {
		t.Fatal(err)
	}
	if !js.Stalled || js.Text["eta"] != "–" || !strings.Contains(js.Text["note"], "within 30 seconds") {
		t.Errorf("progress JSON while stalled: %+v", js)
	}

	a.clock.Advance(2 * time.Minute) // still nobody took it up
	if got := c.get(path).Text(`[data-testid="progress-note"]`); strings.Contains(got, "30 seconds") || !strings.Contains(got, "waiting to continue") {
		t.Errorf("long stall note %q", got)
	}

	if _, err := imports.Claim(ctx, tn, id, ""); err != nil { // the resumed run
		t.Fatalf("stale lease not free: %v", err)
	}
	p = c.get(path)
	if p.Has(`[data-testid="progress-note"]:not([hidden])`) || p.Text(`[data-testid="count-eta"]`) == "–" {
		t.Errorf("resumed run: note %q, eta %q", p.Text(`[data-testid="progress-note"]`), p.Text(`[data-testid="count-eta"]`))
	}
}

// TestImportPagesAccessible runs the basic accessibility check on every
// import page: history (empty and not), upload (also with errors),
// mapping (also with errors), progress and result.
func TestImportPagesAccessible(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.startJobs()
	c := a.signup("Laden", "owner@laden.example")
	checkA11y(t, "imports empty", c.get("/contacts/imports"))
	checkA11y(t, "upload", c.get("/contacts/imports/new"))
	c.primeCSRF("/contacts/imports/new")
	checkA11y(t, "upload refused", c.uploadImport("x.csv", []byte(""), map[string]string{"region": "XX", "policy": "update"}))
	up := c.uploadImport("k.csv", messyFile(t), nil)
	checkA11y(t, "mapping", c.get(up.Location))
	checkA11y(t, "mapping with errors", c.post(up.Location, vals("action", "start", "col_0", "phone", "col_1", "phone")))
	c.post(up.Location, vals("action", "preview", "region", "DE", "policy", "update", "col_0", "phone", "col_1", "first_name",
		"col_2", "last_name", "col_3", "email", "col_4", "tags", "col_5", "attr", "key_5", "notiz"))
	path := startImportAt(t, c, up.Location)
	checkA11y(t, "progress", c.get(path))
	waitImported(t, c, path)
	checkA11y(t, "result", c.get(path))
	checkA11y(t, "imports", c.get("/contacts/imports"))
}
