package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/text/encoding/charmap"

	"github.com/optline/optline/web"
)

// multipartBody is an upload form with fields and, when name is set, a
// file. A _csrf field goes first, as in the browser's form.
func multipartBody(fields map[string]string, name string, content []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if tok, ok := fields["_csrf"]; ok {
		_ = w.WriteField("_csrf", tok)
	}
	for k, v := range fields {
		if k != "_csrf" {
			_ = w.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return &b, w.FormDataContentType()
}

var uploadDefaults = map[string]string{"region": "DE", "policy": "update"}

// uploadImport posts a file to the import upload form with the client's CSRF token.
func (c *client) uploadImport(name string, content []byte, fields map[string]string) *page {
	c.t.Helper()
	if fields == nil {
		fields = uploadDefaults
	}
	body, ct := multipartBody(withField(fields, "_csrf", c.csrf), name, content)
	req, _ := http.NewRequest(http.MethodPost, c.url("/contacts/imports"), body)
	req.Header.Set("Content-Type", ct)
	return c.do(req, false)
}

// storedFiles counts the files (temporary ones included) in the portal's
// file store.
func (a *app) storedFiles() []string {
	var out []string
	_ = filepath.WalkDir(filepath.Join(a.srv.Config.DataDir, "files"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func win1252(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportUploadRefusals: every file that cannot be imported is refused
// on the page with what is wrong (422), and nothing stays stored.
func TestImportUploadRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")
	wide := "phone,name\n+4915112345001,Anna\n" + strings.Repeat("x,", 9999) + "x\n"
	// Valid UTF-8 for the first 64 KB (the part the encoding is guessed
	// from), then a byte that is not.
	badUTF8 := []byte("phone,name\n" + strings.Repeat("+4915112345001,Anna Müller\n", 3000) + "+4915112345002,J\xfcrgen\n")
	for _, tc := range []struct {
		name, file string
		content    []byte
		want       string
	}{
		{"empty", "leer.csv", []byte(""), "The file is empty."},
		{"blank", "blank.csv", []byte("\uFEFF  \r\n\r\n"), "The file is empty."},
		{"header only", "kopf.csv", []byte("Telefon;Name\r\n"), "header row but no data rows"},
		{"png", "photo.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "This is an image (PNG), not a CSV file."},
		{"jpeg", "photo.csv", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "an image (JPEG)"},
		{"pdf", "liste.csv", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "a PDF document"},
		{"zip", "liste.csv", []byte("PK\x03\x04\x14\x00\x06\x00xl/workbook.xml"), "an Excel workbook (.xlsx)"},
		{"invalid utf-8", "kunden.csv", badUTF8, `Row 3002's column B ("name") contains bytes that are not valid UTF-8; if Excel saved the file as "CSV (comma delimited)", choose the encoding Windows-1252`},
		{"10,000 columns", "breit.csv", []byte(wide), "Row 3 has 10000 columns; at most 500 are allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.uploadImport(tc.file, tc.content, nil)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.Status)
			}
			if got := p.Text(`[data-testid="upload-error"]`); !strings.Contains(got, tc.want) {
				t.Fatalf("message %q, want %q", got, tc.want)
			}
			if files := a.storedFiles(); len(files) != 0 {
				t.Fatalf("files left: %v", files)
			}
		})
	}
	t.Run("invalid utf-8 with the encoding chosen", func(t *testing.T) {
		p := c.uploadImport("kunden.csv", badUTF8, map[string]string{"region": "DE", "policy": "update", "encoding": "windows-1252"})
		if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Location, "/mapping") {
			t.Fatalf("status %d %s", p.Status, p.Text(".flash-error"))
		}
	})
	t.Run("no file and bad options", func(t *testing.T) {
		p := c.uploadImport("", nil, map[string]string{"region": "XX", "policy": "merge", "delimiter": "colon"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", p.Status)
		}
		for _, field := range []string{"file", "region", "policy", "delimiter"} {
			if !p.Has(`[data-testid="error-` + field + `"]`) {
				t.Errorf("no message on %s", field)
			}
		}
		if got := p.Text(`[data-testid="error-file"]`); got != "Choose the file to import." {
			t.Errorf("file message %q", got)
		}
	})
	var n int64
	a.db.Gorm.Raw(`SELECT COUNT(*) FROM imports`).Scan(&n)
	if n != 1 {
		t.Errorf("%d imports recorded, want only the accepted one", n)
	}
}

// TestImportUploadTooLarge: a body announced over the limit is refused
// with 413 before the body is read; one that turns out too large while
// streaming is refused too; no file is left either way.
func TestImportUploadTooLarge(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *web.Config) { c.MaxUploadBytes = 64 << 10 })
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")

	// Announced: the client sends 1 KB of a 512 KB body and waits; the
	// answer comes before the rest.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, c.url("/contacts/imports"), pr)
	req.ContentLength = 512 << 10
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	go func() { _, _ = pw.Write(bytes.Repeat([]byte("a"), 1024)) }()
	done := make(chan *page, 1)
	go func() { done <- c.do(req, false) }()
	select {
	case p := <-done:
		if p.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("announced: status %d", p.Status)
		}
		if got := p.Text(`[data-testid="error-file"]`); !strings.Contains(got, "larger than 64 KB") {
			t.Errorf("message %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server waited for the body")
	}
	pw.Close()

	// Streamed (no length announced): cut off at the limit.
	big := []byte("phone,name\n" + strings.Repeat("+4915112345001,Anna Müller\n", 5000))
	body, ct := multipartBody(withField(uploadDefaults, "_csrf", c.csrf), "gross.csv", big)
	req, _ = http.NewRequest(http.MethodPost, c.url("/contacts/imports"), io.MultiReader(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", ct)
	if p := c.do(req, false); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("streamed: status %d", p.Status)
	}
	if files := a.storedFiles(); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
	var n int64
	a.db.Gorm.Raw(`SELECT COUNT(*) FROM imports`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d imports recorded", n)
	}
}

// TestImportUploadNeedsCSRF: an upload without the token is refused
// (403) and stores nothing.
func TestImportUploadNeedsCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")
	for _, site := range []string{"", "cross-site"} {
		body, ct := multipartBody(uploadDefaults, "k.csv", []byte("phone\n+4915112345001\n"))
		req, _ := http.NewRequest(http.MethodPost, c.url("/contacts/imports"), body)
		req.Header.Set("Content-Type", ct)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		if p := c.do(req, false); p.Status != http.StatusForbidden {
			t.Fatalf("without token (Sec-Fetch-Site %q): status %d", site, p.Status)
		}
	}
	if files := a.storedFiles(); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

// TestImportNoPhoneColumn: a file without a recognisable phone column goes
// to the mapping page, which says so; starting without choosing one is
// refused next to the columns.
func TestImportNoPhoneColumn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")
	p := c.uploadImport("kunden.csv", []byte("Name,Stadt,Kontakt\nAnna,Berlin,0151 12345678\n"), nil)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("status %d", p.Status)
	}
	m := c.get(p.Location)
	if !strings.Contains(m.Text(`[data-testid="no-phone"]`), "No column was recognised as the phone number") {
		t.Fatalf("no-phone message missing: %q", m.Text(".flash-error"))
	}
	form := vals("action", "start", "region", "DE", "policy", "update", "consent_mode", "none",
		"col_0", "name", "col_1", "attr", "key_1", "stadt", "col_2", "attr", "key_2", "kontakt")
	r := c.post(p.Location, form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Text(`[data-testid="error-columns"]`), "phone numbers") {
		t.Fatalf("status %d, columns error %q", r.Status, r.Text(`[data-testid="error-columns"]`))
	}
	form.Set("col_2", "phone")
	r = c.post(p.Location, form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("with the phone chosen: status %d %s", r.Status, r.Doc.Find(".error").Text())
	}
}

// TestImportMappingValidation: problems are shown next to their fields
// with every choice kept.
func TestImportMappingValidation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")
	p := c.uploadImport("kunden.csv", []byte("Telefon,Handy,Name,Notiz\n0151 12345678,0170 1234567,Anna,x\n"), nil)
	loc := p.Location
	m := c.get(loc)
	if v, _ := m.Doc.Find(`select[name="col_0"] option[selected]`).Attr("value"); v != "attr" {
		t.Errorf("Telefon column proposed as %q (Handy wins the phone)", v)
	}
	if v, _ := m.Doc.Find(`select[name="col_1"] option[selected]`).Attr("value"); v != "phone" {
		t.Errorf("Handy column proposed as %q", v)
	}
	r := c.post(loc, vals("action", "start", "region", "DE", "policy", "skip", "consent_mode", "declaration",
		"consent_source", "in_store", "consent_date", "2099-01-01",
		"col_0", "phone", "col_1", "phone", "col_2", "name", "col_3", "attr", "key_3", "9bad"))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.Status)
	}
	want := map[string]string{
		"error-col_0":           "also chosen for column B",
		"error-col_1":           "also chosen for column A",
		"error-key_3":           "starts with a letter",
		"error-consent_date":    "cannot be in the future",
		"error-consent_confirm": "Tick the box",
	}
	for id, text := range want {
		if got := r.Text(`[data-testid="` + id + `"]`); !strings.Contains(got, text) {
			t.Errorf("%s: %q, want %q", id, got, text)
		}
	}
	if v, _ := r.Doc.Find(`select[name="col_0"] option[selected]`).Attr("value"); v != "phone" {
		t.Errorf("choice not kept: %q", v)
	}
	if v, _ := r.Doc.Find(`input[name="consent_date"]`).Attr("value"); v != "2099-01-01" {
		t.Errorf("date not kept: %q", v)
	}
	if _, ok := r.Doc.Find(`#policy-skip`).Attr("checked"); !ok {
		t.Error("policy not kept")
	}
	if _, ok := r.Doc.Find(`#consent-declaration`).Attr("checked"); !ok {
		t.Error("consent mode not kept")
	}
	// Update preview: 200, nothing queued, the draft survives a reload.
	r = c.post(loc, vals("action", "preview", "region", "AT", "policy", "skip", "consent_mode", "none", "col_0", "ignore", "col_1", "phone", "col_2", "name", "col_3", "ignore"))
	if r.Status != http.StatusOK {
		t.Fatalf("preview: status %d", r.Status)
	}
	m = c.get(loc)
	if v, _ := m.Doc.Find(`select[name="region"] option[selected]`).Attr("value"); v != "AT" {
		t.Errorf("draft region %q", v)
	}
	if got := m.Text(`[data-testid="preview"] td:nth-of-type(2)`); !strings.HasPrefix(got, "+43") {
		t.Errorf("preview phone with region AT: %q", got)
	}
}

// messyFile is what German Excel writes: semicolons, Windows-1252, a
// quoted line break, a bad e-mail, an impossible number with a formula
// for a name, a repeated number.
func messyFile(t testing.TB) []byte {
	return win1252(t, "Telefonnummer;Vorname;Nachname;E-Mail-Adresse;Schlagwörter;Notiz\r\n"+
		"0151 23456789;Jürgen;Größe;juergen@example.de;Stammkunde, VIP;\r\n"+
		"+49 170 1234567;Anna;Müller;anna@example;newsletter;\r\n"+
		"12;\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\";Bösewicht;;;\r\n"+
		"0171 2345678;Zoë;Weiß;zoe@example.de;;\"Notiz mit\r\nZeilenumbruch\"\r\n"+
		"0151 23456789;Jürgen;Größe;;VIP;\r\n")
}

// startImport uploads the messy file, declares consent and starts it; it
// returns the progress page's path.
func startImport(t *testing.T, c *client) string {
	t.Helper()
	c.primeCSRF("/contacts/imports/new")
	p := c.uploadImport("Kunden Laden.csv", messyFile(t), nil)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: status %d %s", p.Status, p.Text(`[data-testid="upload-error"]`))
	}
	return startImportAt(t, c, p.Location)
}

// startImportAt confirms the mapping page at mapping as proposed, with a
// consent declaration.
func startImportAt(t *testing.T, c *client, mapping string) string {
	t.Helper()
	m := c.get(mapping)
	if m.Status != http.StatusOK {
		t.Fatalf("mapping: %d", m.Status)
	}
	form := url.Values{}
	m.Doc.Find(`select[name^="col_"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Find("option[selected]").Attr("value")
		form.Set(name, v)
	})
	m.Doc.Find(`input[name^="key_"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v, _ := s.Attr("value")
		form.Set(name, v)
	})
	for k, v := range map[string]string{"action": "start", "region": "DE", "policy": "update", "consent_mode": "declaration",
		"consent_source": "in_store", "consent_date": "2025-11-01", "consent_confirm": "yes"} {
		form.Set(k, v)
	}
	r := c.post(mapping, form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("start: status %d %s", r.Status, r.Doc.Find(".error").Text())
	}
	// A double click finds it queued and goes to the same page.
	if again := c.post(mapping, form); again.Status != http.StatusSeeOther || again.Location != r.Location {
		t.Fatalf("second click: %d %s", again.Status, again.Location)
	}
	return r.Location
}

type progressJSON struct {
	Status   string            `json:"status"`
	Finished bool              `json:"finished"`
	Percent  int               `json:"percent"`
	Text     map[string]string `json:"text"`
}

func waitImported(t *testing.T, c *client, path string) progressJSON {
	t.Helper()
	// Listen before the first look, so a job ending in between is seen.
	ended, stop := c.a.queue.Finished()
	defer stop()
	timeout := time.After(60 * time.Second)
	for {
		p := c.get(path + "/progress")
		var pr progressJSON
		if err := json.Unmarshal([]byte(p.Body), &pr); err != nil {
			t.Fatalf("progress: %d %v %q", p.Status, err, p.Body)
		}
		if pr.Finished {
			return pr
		}
		select {
		case <-ended: // a slice or the whole import ended: look again
		case <-timeout:
			t.Fatalf("import not finished: %+v", pr)
		}
	}
}
