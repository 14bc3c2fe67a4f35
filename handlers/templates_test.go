package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models/templates"
)

func templateValues() url.Values {
	return vals("name", "spring_offer", "language", "de", "category", "MARKETING",
		"header", "Hello {{1}}", "header_sample", "Alex",
		"body", "Hi {{1}}, your code {{2}} is valid today.", "sample_1", "Alex", "sample_2", "SPRING",
		"footer", "Café Rosa",
		"button_1_type", "QUICK_REPLY", "button_1_text", "Stop promotions",
		"button_2_type", "URL", "button_2_text", "Shop", "button_2_url", "https://shop.example/o/{{1}}", "button_2_sample", "42")
}

// createTemplate saves a template through the editor and returns its
// page's path.
func createTemplate(t *testing.T, c *client, v url.Values) string {
	t.Helper()
	c.primeCSRF("/templates/new")
	p := c.post("/templates", v)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/templates/") {
		t.Fatalf("create: status %d, errors %q", p.Status, p.Doc.Find(".error").Text())
	}
	return p.Location
}

func TestTemplateEditorSavesAndPreviews(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Rosa", "rosa@rosa.example")
	staff := a.staff(owner, "staff@rosa.example")

	// A new marketing template carries the opt-out button, no warning.
	p := staff.get("/templates/new")
	if p.Status != http.StatusOK || p.Value(`#f-button_1_text`) != templates.OptOutText || p.Attr(`#f-button_1_type option[selected]`, "value") != "QUICK_REPLY" {
		t.Fatalf("new template: %d %q", p.Status, p.Value(`#f-button_1_text`))
	}
	if _, hidden := p.Doc.Find(`[data-testid="optout-warning"]`).Attr("hidden"); !hidden {
		t.Error("opt-out warning shown with the button present")
	}
	if !p.Has(`nav a[href="/templates"][aria-current="page"]`) {
		t.Error("Templates is not in the navigation")
	}

	path := createTemplate(t, staff, templateValues())
	p = staff.get(path)
	if got := p.Text(`[data-testid="preview-body"]`); got != "Hi Alex, your code SPRING is valid today." {
		t.Errorf("preview body %q", got)
	}
	if got := p.Text(`[data-testid="preview-header"]`); got != "Hello Alex" {
		t.Errorf("preview header %q", got)
	}
	if n := p.Doc.Find(`[data-testid="preview-button"]`).Length(); n != 2 {
		t.Errorf("%d preview buttons", n)
	}
	if p.Text(`[data-testid="template-state"]`) != msg("templates.state.DRAFT") {
		t.Errorf("state %q", p.Text(`[data-testid="template-state"]`))
	}
	list := staff.get("/templates")
	if !strings.Contains(list.Text(`[data-testid="templates-table"]`), "spring_offer") {
		t.Error("list misses the template")
	}

	// Edit: the form holds the saved values; saving changes the body.
	e := staff.get(path + "/edit")
	if e.Value("#f-sample_2") != "SPRING" || e.Value("#f-button_2_url") != "https://shop.example/o/{{1}}" {
		t.Fatalf("edit form: %q %q", e.Value("#f-sample_2"), e.Value("#f-button_2_url"))
	}
	v := templateValues()
	v.Set("body", "Hello {{1}}, welcome back.")
	v.Del("sample_2")
	if p := staff.post(path+"/edit", v); p.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	if got := staff.get(path).Text(`[data-testid="preview-body"]`); got != "Hello Alex, welcome back." {
		t.Errorf("after edit: %q", got)
	}
}

func TestTemplatePreviewIsPlainText(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	c.primeCSRF("/templates/new")
	v := vals("name", "x", "language", "en", "category", "UTILITY",
		"body", "Hi {{1}}, see {{2}} and {{3}}.", "sample_1", `{{env "DATABASE_URL"}}`, "sample_2", "{{2}}", "sample_3", "<script>alert(1)</script>")
	p := c.post("/templates/preview", v)
	if p.Status != http.StatusOK {
		t.Fatalf("preview: %d", p.Status)
	}
	want := `Hi {{env "DATABASE_URL"}}, see {{2}} and <script>alert(1)</script>.`
	if got := p.Text(`[data-testid="preview-body"]`); got != want {
		t.Errorf("preview %q, want %q", got, want)
	}
	if strings.Contains(p.Body, "<script>alert") || !strings.Contains(p.Body, "&lt;script&gt;") || !strings.Contains(p.Body, `{{env &#34;DATABASE_URL&#34;}}`) {
		t.Errorf("preview HTML not escaped text: %s", p.Body)
	}
	// The fragment brings one sample field per variable.
	if n := p.Doc.Find(`#tpl-samples input`).Length(); n != 3 {
		t.Errorf("%d sample fields", n)
	}
	// Without script: "Update preview" shows the page with the preview
	// and saves nothing.
	v.Set("action", "preview")
	p = c.post("/templates", v)
	if p.Status != http.StatusOK || p.Text(`[data-testid="preview-body"]`) != want || p.Value("#f-sample_1") != `{{env "DATABASE_URL"}}` {
		t.Errorf("update preview: %d %q", p.Status, p.Text(`[data-testid="preview-body"]`))
	}
	if list := c.get("/templates"); !list.Has(`[data-testid="templates-empty"]`) {
		t.Error("Update preview saved a template")
	}
	// A template body written in a template language is refused at its
	// field, and shown literally in the preview.
	v = vals("name", "y", "language", "en", "category", "UTILITY", "body", `Your key: {{env "DATABASE_URL"}} {{.Secret}}.`)
	p = c.post("/templates", v)
	if p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-body"]`) != msg("templates.braces") {
		t.Errorf("braces: %d %q", p.Status, p.Text(`[data-testid="error-body"]`))
	}
	if got := p.Text(`[data-testid="preview-body"]`); got != `Your key: {{env "DATABASE_URL"}} {{.Secret}}.` {
		t.Errorf("literal preview %q", got)
	}
}

func TestTemplateLimitsAtTheirFields(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	c.primeCSRF("/templates/new")
	v := vals("name", "Spring Offer", "language", "de", "category", "MARKETING",
		"header", strings.Repeat("h", 61), "body", "{{1}}, your code {{3}}", "footer", "Bye {{1}}",
		"button_1_type", "", // the opt-out button removed
		"button_2_type", "PHONE_NUMBER", "button_2_text", strings.Repeat("b", 26), "button_2_phone", "030 123",
		"button_3_type", "URL", "button_3_text", "Go", "button_3_url", "javascript:alert(1)")
	p := c.post("/templates", v)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	for field, key := range map[string]string{
		"name": "templates.name.format", "header": "templates.header.too_long", "body": "templates.body.order",
		"footer": "templates.footer.variables", "button_1_text": "templates.button.text_too_long",
		"button_1_phone": "templates.button.phone", "button_2_url": "templates.button.url_scheme",
	} {
		want := msg(key)
		if i := strings.Index(want, "%"); i >= 0 {
			want = want[:i]
		}
		if got := p.Text(`[data-testid="error-` + field + `"]`); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q…", field, got, want)
		}
	}
	// The rows were renumbered: what was row 2 is button 1 now, and kept.
	if p.Value("#f-button_1_phone") != "030 123" && p.Value("#f-button_1_phone") != "030123" {
		t.Errorf("typed phone not kept: %q", p.Value("#f-button_1_phone"))
	}
	if _, hidden := p.Doc.Find(`[data-testid="optout-warning"]`).Attr("hidden"); hidden {
		t.Error("no opt-out warning on a marketing template without the button")
	}
	// Missing samples are asked for at their fields.
	p = c.post("/templates", vals("name", "ok", "language", "de", "category", "UTILITY", "body", "Hi {{1}}, code {{2}}.", "sample_1", "Alex"))
	if got := p.Text(`[data-testid="error-sample_2"]`); got != msg("templates.sample.required", "{{2}}") {
		t.Errorf("sample: %q", got)
	}
	// The same name and language twice.
	createTemplate(t, c, templateValues())
	p = c.post("/templates", templateValues())
	if got := p.Text(`[data-testid="error-name"]`); got != msg("templates.name.taken", "de") {
		t.Errorf("taken: %q", got)
	}
}

func TestTemplateSubmitAndEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	path := createTemplate(t, c, templateValues())
	p := c.postFollow(path+"/submit", nil)
	if p.Text(`[data-testid="template-state"]`) != msg("templates.state.PENDING") || len(a.channel.got) != 1 || a.channel.got[0].Name != "spring_offer" {
		t.Fatalf("submitted: %q, %d submissions", p.Text(`[data-testid="template-state"]`), len(a.channel.got))
	}
	if p.Has(`[data-testid="edit-template"]`) || p.Has(`[data-testid="submit-template"]`) {
		t.Error("a template under review offers edit or submit")
	}
	// Editing under review leads back to the page; posting is refused.
	if e := c.getRaw(path + "/edit"); e.Status != http.StatusSeeOther {
		t.Errorf("edit under review: %d", e.Status)
	}
	if e := c.post(path+"/edit", templateValues()); e.Status != http.StatusUnprocessableEntity {
		t.Errorf("update under review: %d", e.Status)
	}
	// The platform rejects it; the page explains the reason.
	tn := a.tenantOf("rosa@rosa.example")
	list, _ := templates.List(context.Background(), tn)
	ev := templates.Events{DB: a.db}
	if err := ev.ApplyTemplateEvent(context.Background(), channel.TemplateEvent{ExternalID: list[0].ExternalID, Kind: channel.TemplateStatus,
		Status: "REJECTED", Reason: "INCORRECT_CATEGORY", At: a.clock.Now().Add(1)}); err != nil {
		t.Fatal(err)
	}
	p = c.get(path)
	if p.Text(`[data-testid="template-reason"]`) != msg("templates.reason.INCORRECT_CATEGORY") || !p.Has(`[data-testid="edit-template"]`) {
		t.Errorf("rejected page: %q", p.Text(`[data-testid="template-reason"]`))
	}
	// Quality badge; the administrators' list by state.
	_ = ev.ApplyTemplateEvent(context.Background(), channel.TemplateEvent{ExternalID: list[0].ExternalID, Kind: channel.TemplateQuality, Quality: "RED", At: a.clock.Now().Add(2)})
	if got := c.get("/templates").Text(`[data-testid="template-quality"]`); got != msg("templates.quality.RED") {
		t.Errorf("quality %q", got)
	}
	adm := a.admin()
	ap := adm.get("/admin/templates?state=REJECTED")
	if !strings.Contains(ap.Text(`[data-testid="admin-templates-table"]`), "Café Rosa") {
		t.Errorf("admin list misses the template: %s", ap.Text("main"))
	}
	if ap := adm.get("/admin/templates?state=APPROVED"); !ap.Has(`[data-testid="templates-empty"]`) {
		t.Error("state filter ignored")
	}
	// Copy and delete.
	cp := c.post(path+"/copy", nil)
	if cp.Status != http.StatusSeeOther || !strings.HasSuffix(cp.Location, "/edit") {
		t.Fatalf("copy: %d %s", cp.Status, cp.Location)
	}
	if e := c.get(cp.Location); e.Value("#f-name") != "spring_offer_copy" {
		t.Errorf("copy name %q", e.Value("#f-name"))
	}
	if d := c.get(path + "/delete"); d.Status != http.StatusOK {
		t.Errorf("confirm delete: %d", d.Status)
	}
	if d := c.post(path+"/delete", nil); d.Status != http.StatusSeeOther {
		t.Errorf("delete: %d", d.Status)
	}
	if g := c.getRaw(path); g.Status != http.StatusNotFound {
		t.Errorf("deleted template: %d", g.Status)
	}
	// The audit log says it in sentences.
	log := adm.get("/admin/audit?action=template.")
	for _, s := range []string{"Created the template spring_offer (de)", "Submitted the template spring_offer (de) for review", "Deleted the template spring_offer (de)"} {
		if !strings.Contains(log.Text("main"), s) {
			t.Errorf("audit log misses %q", s)
		}
	}
}

func TestTemplatesOfAnotherBusinessAre404(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := a.signup("Beta", "b@beta.example")
	path := createTemplate(t, b, templateValues())
	x := a.signup("Alpha", "a@alpha.example")
	x.primeCSRF("/templates")
	for _, g := range []string{path, path + "/edit", path + "/delete"} {
		if p := x.getRaw(g); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", g, p.Status)
		}
	}
	for _, s := range []string{path + "/edit", path + "/copy", path + "/delete", path + "/submit"} {
		if p := x.post(s, templateValues()); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d", s, p.Status)
		}
	}
	if p := b.get(path); p.Status != http.StatusOK || len(a.channel.got) != 0 {
		t.Errorf("B's template changed: %d, %d submissions", p.Status, len(a.channel.got))
	}
	if l := x.get("/templates"); !l.Has(`[data-testid="templates-empty"]`) {
		t.Error("A lists B's template")
	}
}

func TestTemplatePagesAccessible(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	checkA11y(t, "/templates empty", c.get("/templates"))
	checkA11y(t, "/templates/new", c.get("/templates/new"))
	path := createTemplate(t, c, templateValues())
	checkA11y(t, "/templates", c.get("/templates"))
	checkA11y(t, "detail", c.get(path))
	checkA11y(t, "edit", c.get(path+"/edit"))
	bad := templateValues()
	bad.Set("body", "{{1}} only")
	bad.Set("button_3_type", "PHONE_NUMBER")
	p := c.post(path+"/edit", bad)
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit: %d", p.Status)
	}
	checkA11y(t, "edit with errors", p)
	checkA11y(t, "delete", c.get(path+"/delete"))
	checkA11y(t, "/admin/templates", a.admin().get("/admin/templates"))
}

// TestTemplateFormsNeedCSRF: the template POSTs (save, submit) without
// the session's token are refused and change nothing, whatever
// Sec-Fetch-Site says.
func TestTemplateFormsNeedCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	path := createTemplate(t, c, templateValues())
	for _, site := range []string{"", "cross-site"} {
		for _, target := range []string{"/templates", path + "/submit", path + "/delete"} {
			v := templateValues()
			v.Set("name", "forged")
			req, _ := http.NewRequest(http.MethodPost, c.url(target), strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if site != "" {
				req.Header.Set("Sec-Fetch-Site", site)
			}
			if p := c.do(req, false); p.Status != http.StatusForbidden {
				t.Errorf("POST %s without token (Sec-Fetch-Site %q): %d", target, site, p.Status)
			}
		}
	}
	list, _ := templates.List(context.Background(), a.tenantOf("rosa@rosa.example"))
	if len(list) != 1 || list[0].Status != templates.StateDraft || len(a.channel.got) != 0 {
		t.Errorf("forged posts changed templates: %+v", list)
	}
}

// TestTemplateSubmitRefusedOnThePage: a platform that refuses the
// portal's access is explained on the template's page; the template stays
// a draft.
func TestTemplateSubmitRefusedOnThePage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Café Rosa", "rosa@rosa.example")
	path := createTemplate(t, c, templateValues())
	a.channel.err = &channel.Error{Code: 190, Title: "Invalid OAuth access token", Config: true}
	c.get(path)
	p := c.post(path+"/submit", nil)
	if p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="submit-error"]`) != msg("templates.submit.config", "Invalid OAuth access token") {
		t.Errorf("refused submit: %d %q", p.Status, p.Text(`[data-testid="submit-error"]`))
	}
	if p.Text(`[data-testid="template-state"]`) != msg("templates.state.DRAFT") || !p.Has(`[data-testid="submit-template"]`) {
		t.Errorf("after a refused submit: %q", p.Text(`[data-testid="template-state"]`))
	}
	checkA11y(t, "refused submit", p)
}
