package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

func pdfDoc() []byte {
	return []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n")
}

func linkLines(n int) string {
	var l []string
	for i := 1; i <= n; i++ {
		l = append(l, fmt.Sprintf("https://press%d.example/kraus", i))
	}
	return strings.Join(l, "\n")
}

func requestValues() url.Values {
	return vals("registration_number", "HRB 12345 B", "website", "https://kraus.example", "country", "DE", "links", linkLines(5))
}

// completeProfile fills in everything the checklist asks for, through
// the forms.
func completeProfile(t *testing.T, c *client) {
	t.Helper()
	c.primeCSRF("/profile/legal")
	if p := c.post("/profile/legal", legalValues()); p.Status != http.StatusSeeOther {
		t.Fatalf("legal: %d %s", p.Status, p.Text(".error"))
	}
	c.primeCSRF("/profile")
	name := c.get("/profile").Text(`[data-testid="preview-name"]`)
	if p := c.post("/profile", with(profileValues(), "display_name", name)); p.Status != http.StatusSeeOther {
		t.Fatalf("profile: %d %s", p.Status, p.Text(".error"))
	}
	if p := c.upload("/profile/photo", "photo", "logo.png", pngImage(256, 256)); p.Status != http.StatusSeeOther {
		t.Fatalf("photo: %d", p.Status)
	}
}

// submitRequest files a request and returns its id.
func submitRequest(t *testing.T, a *app, c *client, email string) int64 {
	t.Helper()
	c.primeCSRF("/verification")
	if p := c.post("/verification", requestValues()); p.Status != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	_, tn := businessOf(t, a, email)
	r, err := profiles.LatestRequest(context.Background(), tn)
	if err != nil || r == nil {
		t.Fatalf("no request: %v", err)
	}
	return r.ID
}

// secondAdmin promotes a fresh account to administrator and logs it in.
func secondAdmin(t *testing.T, a *app, email string) *client {
	t.Helper()
	a.signup("Spare "+email, email)
	u, _ := a.db.UserByEmail(context.Background(), email)
	if err := a.db.Gorm.Exec(`UPDATE users SET is_admin = ? WHERE id = ?`, true, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.db.Gorm.Exec(`DELETE FROM memberships WHERE user_id = ?`, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.login(email, testPassword)
	return c
}

func reviewPath(id int64) string { return "/admin/verification/" + strconv.FormatInt(id, 10) }

func TestVerificationErrorMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/verification")
	p := c.post("/verification", requestValues())
	if p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-checklist"]`) != msg("verify.incomplete", 10) {
		t.Fatalf("incomplete profile: %d %q", p.Status, p.Text(`[data-testid="error-checklist"]`))
	}
	completeProfile(t, c)
	c.primeCSRF("/verification")
	cases := []struct {
		field, value, want string
	}{
		{"registration_number", "", msg("verify.registration.required")},
		{"registration_number", "<b>1</b>", msg("verify.registration.invalid", 64)},
		{"website", "", msg("verify.website.required")},
		{"website", "javascript:alert(1)", msg("profile.website.scheme")},
		{"country", "XX", msg("verify.country.invalid")},
		{"links", linkLines(4), "Give 5 to 10 supporting links (press, listings), or upload at least one document. You gave 4 links and no document."},
		{"links", linkLines(11), msg("verify.links.too_many", 10, 11)},
		{"links", linkLines(5) + "\njavascript:alert(1)", msg("verify.links.invalid", 6, "javascript:alert(1)")},
		{"links", linkLines(5) + "\nhttps://press1.example/kraus", msg("verify.links.duplicate", 6)},
		{"further_info", strings.Repeat("x", 1001), msg("verify.further_info.too_long", 1000, 1001)},
	}
	for _, tc := range cases {
		p := c.post("/verification", with(requestValues(), tc.field, tc.value))
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", tc.field, p.Status)
			continue
		}
		if got := p.Text(`[data-testid="error-` + tc.field + `"]`); got != tc.want {
			t.Errorf("%s=%q: %q, want %q", tc.field, tc.value[:min(10, len(tc.value))], got, tc.want)
		}
	}
	b, _ := businessOf(t, a, "anna@kraus.example")
	if b.VerificationState != models.VerificationUnverified {
		t.Errorf("state %s after refused requests", b.VerificationState)
	}
}

func TestDocumentUploads(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/verification")
	refusals := []struct {
		name, file string
		data       []byte
		status     int
		want       string
	}{
		{"html named pdf", "register.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), 422, msg("doc.type", "text/html")},
		{"zip named pdf", "register.pdf", []byte("PK\x03\x04\x14\x00\x00\x00"), 422, msg("doc.type", "application/zip")},
		{"gif", "scan.gif", gifImage(50, 50), 422, msg("doc.type", "image/gif")},
		{"empty", "register.pdf", []byte{}, 422, msg("doc.empty")},
		{"over 10 MB", "register.pdf", append(pdfDoc(), make([]byte, 10<<20)...), 413, msg("doc.too_large", 10)},
	}
	for _, r := range refusals {
		p := c.upload("/verification/documents", "document", r.file, r.data)
		if p.Status != r.status || p.Text(`[data-testid="error-document"]`) != r.want {
			t.Errorf("%s: %d %q, want %d %q", r.name, p.Status, p.Text(`[data-testid="error-document"]`), r.status, r.want)
		}
	}
	// A PNG named .pdf is stored and served as the PNG it is.
	img := pngImage(120, 80)
	if p := c.upload("/verification/documents", "document", "register.pdf", img); p.Status != http.StatusSeeOther {
		t.Fatalf("png named pdf: %d %s", p.Status, p.Text(`[data-testid="error-document"]`))
	}
	if p := c.upload("/verification/documents", "document", `..\..\Gewerbe "Anmeldung".pdf`, pdfDoc()); p.Status != http.StatusSeeOther {
		t.Fatalf("pdf: %d", p.Status)
	}
	_, tn := businessOf(t, a, "anna@kraus.example")
	docs, _ := profiles.CurrentDocuments(context.Background(), tn)
	if len(docs) != 2 || docs[0].ContentType != "image/png" || docs[0].Name != "register.png" || docs[1].Name != "Gewerbe Anmeldung.pdf" {
		t.Fatalf("documents %+v", docs)
	}
	p := c.getRaw("/verification/documents/" + strconv.FormatInt(docs[0].ID, 10))
	if p.Status != 200 || p.Header.Get("Content-Type") != "image/png" || p.Body != string(img) ||
		!strings.Contains(p.Header.Get("Content-Disposition"), `inline; filename=register.png`) ||
		p.Header.Get("Cache-Control") != "private, no-store" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("document response %d %v", p.Status, p.Header)
	}
	page := c.get("/verification")
	if !page.Has(`[data-testid="document-list"] a[href="/verification/documents/` + strconv.FormatInt(docs[1].ID, 10) + `"]`) {
		t.Error("document not listed")
	}
	// At most five.
	for i := 0; i < 3; i++ {
		c.upload("/verification/documents", "document", "more.pdf", pdfDoc())
	}
	c.primeCSRF("/verification")
	if page := c.get("/verification"); page.Has("#f-document") {
		t.Error("upload offered with five documents")
	}
	if p := c.upload("/verification/documents", "document", "sixth.pdf", pdfDoc()); p.Status != 422 || p.Text(`[data-testid="error-document"]`) != msg("doc.too_many", 5) {
		t.Errorf("sixth: %d %q", p.Status, p.Text(`[data-testid="error-document"]`))
	}
	// Removing one frees a slot.
	if p := c.post("/verification/documents/"+strconv.FormatInt(docs[0].ID, 10)+"/remove", nil); p.Status != http.StatusSeeOther {
		t.Errorf("remove: %d", p.Status)
	}
	if p := c.getRaw("/verification/documents/" + strconv.FormatInt(docs[0].ID, 10)); p.Status != http.StatusNotFound {
		t.Errorf("removed unreferenced document still served: %d", p.Status)
	}
}

func TestVerificationTenantIsolationAndRoles(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	staff := a.staff(owner, "jonas@kraus.example")
	intruder := a.signup("Blumen Meier", "meier@example.com")
	completeProfile(t, owner)
	owner.primeCSRF("/verification")
	owner.upload("/verification/documents", "document", "register.pdf", pdfDoc())
	_, tn := businessOf(t, a, "anna@kraus.example")
	docs, _ := profiles.CurrentDocuments(context.Background(), tn)
	docURL := "/verification/documents/" + strconv.FormatInt(docs[0].ID, 10)
	reqID := submitRequest(t, a, owner, "anna@kraus.example")

	if p := intruder.getRaw(docURL); p.Status != http.StatusNotFound {
		t.Errorf("other business GET document: %d", p.Status)
	}
	intruder.primeCSRF("/verification")
	if p := intruder.post(docURL+"/remove", nil); p.Status != http.StatusNotFound {
		t.Errorf("other business remove document: %d", p.Status)
	}
	if d, err := profiles.Document(context.Background(), tn, docs[0].ID); err != nil || d.RemovedAt != nil {
		t.Errorf("document after foreign removal: %+v %v", d, err)
	}
	for _, path := range []string{"/admin/verification", reviewPath(reqID)} {
		for who, c := range map[string]*client{"owner": owner, "staff": staff, "intruder": intruder} {
			if p := c.getRaw(path); p.Status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d", who, path, p.Status)
			}
		}
	}
	for _, action := range []string{"/approve", "/reject"} {
		if p := intruder.post(reviewPath(reqID)+action, vals("revision", "1", "reason", "x")); p.Status != http.StatusForbidden {
			t.Errorf("non-admin POST %s: %d", action, p.Status)
		}
	}
	if p := staff.getRaw(docURL); p.Status != http.StatusForbidden { // owners only (owner_only_test.go)
		t.Errorf("staff GET document: %d", p.Status)
	}
	if p := admin.getRaw(docURL); p.Status != http.StatusOK {
		t.Errorf("admin GET document: %d", p.Status)
	}
	staff.primeCSRF("/verification")
	if p := staff.upload("/verification/documents", "document", "x.pdf", pdfDoc()); p.Status != http.StatusForbidden {
		t.Errorf("staff upload: %d", p.Status)
	}
	if p := staff.post(docURL+"/remove", nil); p.Status != http.StatusForbidden {
		t.Errorf("staff remove: %d", p.Status)
	}
	if p := admin.getRaw("/verification/documents/999999"); p.Status != http.StatusNotFound {
		t.Errorf("unknown document: %d", p.Status)
	}
	b, _ := businessOf(t, a, "anna@kraus.example")
	if b.VerificationState != models.VerificationPending {
		t.Errorf("state %s", b.VerificationState)
	}
}

var refileDate = regexp.MustCompile(`from (\d{1,2} \w{3} \d{4})`)

func TestAdminReviewRejectResubmitApprove(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	completeProfile(t, owner)
	owner.primeCSRF("/verification")
	owner.upload("/verification/documents", "document", "register.pdf", pdfDoc())
	owner.upload("/verification/documents", "document", "shopfront.png", pngImage(300, 200))
	reqID := submitRequest(t, a, owner, "anna@kraus.example")

	q := admin.get("/admin/verification")
	if q.Text(`[data-testid="count-pending"]`) != "1" || !q.Has(`[data-testid="queue-`+strconv.FormatInt(reqID, 10)+`"]`) {
		t.Fatalf("queue: %q", q.Text(`[data-testid="queue"]`))
	}
	r := admin.get(reviewPath(reqID))
	if r.Status != 200 || !strings.Contains(r.Text(`[data-testid="submitted-data"]`), "HRB 12345 B") {
		t.Fatalf("review page %d", r.Status)
	}
	if !r.Has(`.docview iframe[src^="/verification/documents/"]`) || !r.Has(`.docview img[src^="/verification/documents/"]`) {
		t.Error("documents not shown inline")
	}
	if r.Has(`[data-testid="diff"]`) {
		t.Error("first request shows a diff")
	}
	// Reject without a reason: refused, nothing decided.
	p := admin.post(reviewPath(reqID)+"/reject", vals("revision", "1", "reason", " "))
	if p.Status != http.StatusUnprocessableEntity || p.Text(`[data-testid="error-reason"]`) != msg("review.reason.required") {
		t.Fatalf("reject without reason: %d %q", p.Status, p.Text(`[data-testid="error-reason"]`))
	}
	p = admin.post(reviewPath(reqID)+"/reject", vals("revision", "1", "reason", "The register number lacks the court.", "refile", "wait"))
	if p.Status != http.StatusSeeOther || p.Location != "/admin/verification" {
		t.Fatalf("reject: %d %s", p.Status, p.Location)
	}
	// The owner sees the reason and when re-filing opens.
	v := owner.get("/verification")
	if v.Text(`[data-testid="rejection-reason"]`) != "The register number lacks the court." {
		t.Errorf("reason %q", v.Text(`[data-testid="rejection-reason"]`))
	}
	opens := a.clock.Now().Add(30 * 24 * time.Hour).Format("2 Jan 2006")
	if m := refileDate.FindStringSubmatch(v.Text(`[data-testid="refile-date"]`)); m == nil || m[1] != opens {
		t.Errorf("refile date %q, want %s", v.Text(`[data-testid="refile-date"]`), opens)
	}
	if v.Has(`[data-testid="submit-request"]`) {
		t.Error("request form offered before the re-filing date")
	}
	if !strings.Contains(v.Text(`[data-testid="request-history"]`), "The register number lacks the court.") {
		t.Error("history lacks the reason")
	}
	owner.primeCSRF("/verification")
	if p := owner.post("/verification", requestValues()); p.Status != http.StatusSeeOther {
		t.Errorf("early resubmission: %d", p.Status)
	}
	if got := owner.get("/verification").Text(".flash-error"); !strings.Contains(got, opens) {
		t.Errorf("early resubmission flash %q", got)
	}
	// 31 days later (sessions have expired by then: log in again).
	a.clock.Advance(31 * 24 * time.Hour)
	owner = a.client()
	owner.login("anna@kraus.example", testPassword)
	v = owner.get("/verification")
	if !v.Has(`[data-testid="submit-request"]`) {
		t.Fatal("no request form after 30 days")
	}
	if got, _ := v.Doc.Find("#f-registration_number").Attr("value"); got != "HRB 12345 B" {
		t.Errorf("form not prefilled from the last request: %q", got)
	}
	p = owner.post("/verification", with(requestValues(), "registration_number", "HRB 12345 B (Amtsgericht Charlottenburg)"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("resubmit: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	_, tn := businessOf(t, a, "anna@kraus.example")
	second, _ := profiles.LatestRequest(context.Background(), tn)
	admin = a.client()
	admin.login("admin@example.com", testPassword)
	r = admin.get(reviewPath(second.ID))
	if !r.Has(`[data-testid="diff"]`) || !strings.Contains(r.Text(`[data-testid="diff-verify.field.registration_number"]`), "Amtsgericht Charlottenburg") {
		t.Errorf("diff: %q", r.Text(`[data-testid="diff"]`))
	}
	if !strings.Contains(r.Text(`[data-testid="diff"]`), "The register number lacks the court.") {
		t.Error("diff does not repeat the earlier reason")
	}
	p = admin.post(reviewPath(second.ID)+"/approve", vals("revision", strconv.Itoa(second.Revision)))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", p.Status)
	}
	if q := admin.get("/admin/verification"); q.Text(`[data-testid="count-pending"]`) != "0" || q.Text(`[data-testid="count-decided"]`) != "1" {
		t.Errorf("counts %q / %q", q.Text(`[data-testid="count-pending"]`), q.Text(`[data-testid="count-decided"]`))
	}
	home := owner.get("/")
	if !home.Has(".biz .badge-verified") {
		t.Error("no badge in the header")
	}
	if !owner.get("/profile").Has(`[data-testid="preview-badge"]`) {
		t.Error("no badge in the preview")
	}
	if got := admin.get("/admin/businesses").Doc.Find(".badge-verified").Length(); got != 1 {
		t.Errorf("%d badges in the admin list", got)
	}
	ev, _ := a.db.AuditLog(context.Background(), models.AuditFilter{Action: "verification."})
	acts := map[string]int{}
	for _, e := range ev {
		acts[e.Action]++
	}
	if acts["verification.rejected"] != 1 || acts["verification.approved"] != 1 || acts["verification.requested"] != 2 {
		t.Errorf("audit %v", acts)
	}
}

func TestRejectForFixAndReverifyOnRename(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.admin()
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	completeProfile(t, owner)
	reqID := submitRequest(t, a, owner, "anna@kraus.example")
	admin.get(reviewPath(reqID))
	if p := admin.post(reviewPath(reqID)+"/reject", vals("revision", "1", "reason", "Scan unreadable", "refile", "now")); p.Status != http.StatusSeeOther {
		t.Fatalf("reject: %d", p.Status)
	}
	v := owner.get("/verification")
	if v.Has(`[data-testid="refile-date"]`) || !v.Has(`[data-testid="submit-request"]`) {
		t.Fatal("fixable rejection does not allow resubmission")
	}
	reqID = submitRequest(t, a, owner, "anna@kraus.example")
	admin.get(reviewPath(reqID))
	if p := admin.post(reviewPath(reqID)+"/approve", vals("revision", "1")); p.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", p.Status)
	}
	// Renaming a verified business: first the warning, then the badge goes.
	owner.primeCSRF("/profile")
	p := owner.get("/profile")
	if !p.Has(`#reverify[hidden]`) {
		t.Error("warning open before any change")
	}
	p = owner.post("/profile", with(profileValues(), "display_name", "Kraus Backstube"))
	if p.Status != http.StatusUnprocessableEntity || p.Has(`#reverify[hidden]`) || p.Text(`[data-testid="error-confirm_reverify"]`) != msg("profile.confirm_reverify.required") {
		t.Fatalf("rename without confirming: %d %q", p.Status, p.Text(`[data-testid="error-confirm_reverify"]`))
	}
	if v, _ := p.Doc.Find("#f-display_name").Attr("value"); v != "Kraus Backstube" {
		t.Errorf("typed name lost: %q", v)
	}
	if b, _ := businessOf(t, a, "anna@kraus.example"); !b.Verified() || b.Name != "Bäckerei Kraus" {
		t.Fatalf("unconfirmed rename applied: %+v", b)
	}
	p = owner.post("/profile", with(profileValues(), "display_name", "Kraus Backstube", "confirm_reverify", "1"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("confirmed rename: %d", p.Status)
	}
	p = owner.get("/profile")
	if p.Has(".biz .badge-verified") || !strings.Contains(p.Text(".flash-info"), "badge is removed") {
		t.Errorf("badge still shown or no notice: %q", p.Text(".flash"))
	}
	if got := owner.get("/verification").Text(`[data-testid="verification-status"]`); !strings.Contains(got, msg("verify.status.pending_name_change")) {
		t.Errorf("status %q", got)
	}
	q := admin.get("/admin/verification")
	if !strings.Contains(q.Text(`[data-testid="queue"]`), msg("verify.kind.name_change")) {
		t.Errorf("queue %q", q.Text(`[data-testid="queue"]`))
	}
}
