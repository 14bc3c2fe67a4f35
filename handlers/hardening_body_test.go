package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// withField is a copy of fields with k set to v.
func withField(fields map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(fields)+1)
	for a, b := range fields {
		out[a] = b
	}
	out[k] = v
	return out
}

// tempEntries lists what is in dir now.
func tempEntries(t *testing.T, dir string) map[string]bool {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range es {
		out[e.Name()] = true
	}
	return out
}

const badTextMsg = "The request contained a character we cannot accept (a NUL byte or invalid text) in field"

// TestMultipartToFormRouteRefusedWithoutTempFiles: a 40 MB file part
// posted to /login (or any route that is not an upload route) is refused
// before parsing and leaves nothing in the temporary folder; before, it
// was parsed (with a valid token) and its file part stayed on disk.
func TestMultipartToFormRouteRefusedWithoutTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	a := newApp(t)
	a.ensureAdmin()
	c := a.client()
	c.primeCSRF("/login")
	before := tempEntries(t, os.TempDir())
	for _, path := range []string{"/login", "/signup"} {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("_csrf", c.csrf)
		_ = w.WriteField("email", "admin@example.com")
		fw, _ := w.CreateFormFile("blob", "big.bin")
		_, _ = fw.Write(bytes.Repeat([]byte("x"), 40<<20))
		_ = w.Close()
		for _, announced := range []bool{true, false} {
			var body io.Reader = bytes.NewReader(b.Bytes())
			if !announced {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequest(http.MethodPost, c.url(path), body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			// With a valid token in the header the form used to be parsed.
			req.Header.Set("X-CSRF-Token", c.csrf)
			p := c.do(req, false)
			if p.Status != http.StatusUnsupportedMediaType && p.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s (announced %v): status %d, want 413 or 415", path, announced, p.Status)
			}
		}
	}
	// Small multipart bodies are refused too, with a message.
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", c.csrf)
	fw, _ := w.CreateFormFile("blob", "small.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 1<<10))
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url("/login"), &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if p := c.do(req, false); p.Status != http.StatusUnsupportedMediaType || !strings.Contains(p.Text("main"), "does not accept file uploads") {
		t.Errorf("small multipart: status %d, %q", p.Status, p.Text("main"))
	}
	after := tempEntries(t, os.TempDir())
	for n := range after {
		if !before[n] {
			t.Errorf("left in the temporary folder: %s", n)
		}
	}
}

// TestMultipartToMemberRouteRefused: POST /contacts (a form route) takes
// no multipart body even from a logged-in member with a valid token.
func TestMultipartToMemberRouteRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/new")
	body, ct := multipartBody(map[string]string{"_csrf": c.csrf, "phone": "+4915112345001"}, "x.bin", bytes.Repeat([]byte("x"), 2<<20))
	req, _ := http.NewRequest(http.MethodPost, c.url("/contacts"), body)
	req.Header.Set("Content-Type", ct)
	if p := c.do(req, false); p.Status != http.StatusUnsupportedMediaType && p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", p.Status)
	}
	var n int64
	a.db.Gorm.Raw(`SELECT COUNT(*) FROM contacts`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d contacts created", n)
	}
}

// TestLargeFormRefused: a 2 MB url-encoded body is refused with 413,
// announced or streamed.
func TestLargeFormRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.ensureAdmin()
	c := a.client()
	c.primeCSRF("/login")
	form := vals("_csrf", c.csrf, "email", "admin@example.com", "password", strings.Repeat("p", 2<<20)).Encode()
	for _, announced := range []bool{true, false} {
		var body io.Reader = strings.NewReader(form)
		if !announced {
			body = io.MultiReader(body)
		}
		req, _ := http.NewRequest(http.MethodPost, c.url("/login"), body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if p := c.do(req, false); p.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("announced %v: status %d", announced, p.Status)
		}
	}
	// A normal login still works.
	if p := c.login("admin@example.com", testPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("login: status %d", p.Status)
	}
}

// TestNULAndInvalidUTF8Refused: a NUL byte or invalid UTF-8 in any query
// or form value gives 400 and a message naming the field, never a 500
// (PostgreSQL refuses both in text).
func TestNULAndInvalidUTF8Refused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Laden", "owner@laden.example")
	adm := a.admin()
	check := func(who string, p *page, field string) {
		t.Helper()
		if p.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", who, p.Status)
			return
		}
		if got := p.Text("main"); !strings.Contains(got, badTextMsg) || !strings.Contains(got, `"`+field+`"`) {
			t.Errorf("%s: message %q", who, got)
		}
	}
	for _, q := range []struct{ path, field string }{
		{"/contacts?tag=%00", "tag"},
		{"/contacts?lang=%00", "lang"},
		{"/contacts?q=%ff", "q"},
		{"/contacts/export?tag=%00", "tag"},
	} {
		check(q.path, owner.getRaw(q.path), q.field)
	}
	owner.primeCSRF("/contacts")
	check("bulk", owner.post("/contacts/bulk", vals("action", "tag", "f_tag", "a\x00b", "tag", "x")), "f_tag")
	for _, q := range []struct{ path, field string }{
		{"/admin/businesses?q=%00", "q"},
		{"/admin/audit?action=%00", "action"},
		{"/admin/audit?business=%ff", "business"},
	} {
		check(q.path, adm.getRaw(q.path), q.field)
	}
	anon := a.client()
	anon.primeCSRF("/login")
	check("login NUL", anon.post("/login", vals("email", "admin@example.com\x00", "password", testPassword)), "email")
	anon.primeCSRF("/login")
	check("login UTF-8", anon.post("/login", vals("email", "admin\xff@example.com", "password", testPassword)), "email")
	// Clean values still work.
	if p := owner.get("/contacts?tag=vip&lang=de"); p.Status != http.StatusOK {
		t.Errorf("clean filter: status %d", p.Status)
	}
}

// TestUploadTokenInBodyOnly: the upload forms carry the token as their
// first field, not in the URL; a token in the query string, or the field
// after the file, is refused before the file is stored.
func TestUploadTokenInBodyOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	p := c.get("/contacts/imports/new")
	form := p.Doc.Find(`form[enctype="multipart/form-data"]`).First()
	if act := form.AttrOr("action", ""); act != "/contacts/imports" {
		t.Errorf("form action %q", act)
	}
	if first := form.Find("input").First().AttrOr("name", ""); first != "_csrf" {
		t.Errorf("first field %q, want _csrf", first)
	}
	csv := []byte("phone\n+4915112345001\n")
	body, ct := multipartBody(uploadDefaults, "k.csv", csv)
	req, _ := http.NewRequest(http.MethodPost, c.url("/contacts/imports?_csrf="+c.csrf), body)
	req.Header.Set("Content-Type", ct)
	if p := c.do(req, false); p.Status != http.StatusForbidden {
		t.Errorf("token in the query: status %d", p.Status)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", "k.csv")
	_, _ = fw.Write(csv)
	_ = w.WriteField("_csrf", c.csrf)
	_ = w.Close()
	req, _ = http.NewRequest(http.MethodPost, c.url("/contacts/imports"), &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if p := c.do(req, false); p.Status != http.StatusForbidden {
		t.Errorf("token after the file: status %d", p.Status)
	}
	if files := a.storedFiles(); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
	if p := c.uploadImport("k.csv", csv, nil); p.Status != http.StatusSeeOther {
		t.Fatalf("upload with the token first: status %d", p.Status)
	}
	for _, path := range []string{"/profile", "/verification"} {
		p := c.get(path)
		p.Doc.Find(`form[enctype="multipart/form-data"]`).Each(func(_ int, f *goquery.Selection) {
			if strings.Contains(f.AttrOr("action", ""), "_csrf") || f.Find("input").First().AttrOr("name", "") != "_csrf" {
				t.Errorf("%s: upload form %q does not send _csrf first in the body", path, f.AttrOr("action", ""))
			}
		})
	}
}

// TestExportQueryErrorIsAnErrorPage: when the export's query fails the
// answer is the error page, not a 200 with an empty CSV file.
func TestExportQueryErrorIsAnErrorPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	if p := c.getRaw("/contacts/export"); p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: status %d, %s", p.Status, p.Header.Get("Content-Type"))
	}
	if err := a.db.Gorm.Exec(`ALTER TABLE contacts RENAME TO contacts_gone`).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.db.Gorm.Exec(`ALTER TABLE contacts_gone RENAME TO contacts`) })
	p := c.getRaw("/contacts/export")
	if p.Status != http.StatusInternalServerError || strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") || p.Header.Get("Content-Disposition") != "" {
		t.Fatalf("failed export: status %d, %s, %q", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
	}
}
