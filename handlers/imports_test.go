package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/text/encoding/charmap"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
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

// TestImportEndToEnd: upload, preview, start, the job runs, the result
// and the error report.
func TestImportEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.startJobs()
	c := a.signup("Laden", "owner@laden.example")
	c.primeCSRF("/contacts/imports/new")
	up := c.uploadImport("Kunden Laden.csv", messyFile(t), nil)
	m := c.get(up.Location)
	if got := m.Text(`[data-testid="import-file"]`); !strings.Contains(got, "5 rows") || !strings.Contains(got, "semicolons") || !strings.Contains(got, "Windows-1252") {
		t.Errorf("file line %q", got)
	}
	if got := m.Text(`[data-testid="preview-row-2"]`); !strings.Contains(got, "+4915123456789") || !strings.Contains(got, "Jürgen Größe") || !strings.Contains(got, "stammkunde") && !strings.Contains(got, "Stammkunde") {
		t.Errorf("preview row 2: %q", got)
	}
	if got := m.Text(`[data-testid="preview-row-4"] [data-testid="preview-problem"]`); !strings.Contains(got, "12") {
		t.Errorf("preview row 4 problem: %q", got)
	}
	if got := m.Text(`[data-testid="preview-errors"]`); !strings.HasPrefix(got, "2 ") {
		t.Errorf("preview errors %q", got)
	}
	if got := m.Text(`[data-testid="preview-not-messageable"]`); !strings.HasPrefix(got, "3 ") {
		t.Errorf("without consent before the declaration: %q", got)
	}
	if n := len(m.Doc.Find(`select[name^="col_"]`).Nodes); n != 6 {
		t.Errorf("%d column selects", n)
	}

	path := startImport(t, c)
	pr := waitImported(t, c, path)
	if pr.Status != imports.ImportDone || pr.Percent != 100 {
		t.Fatalf("progress %+v", pr)
	}
	page := c.get(path)
	if got := page.Text(`[data-testid="status-text"]`); got != "Done" {
		t.Errorf("status %q", got)
	}
	for name, want := range map[string]string{"imported": "2", "updated": "0", "failed": "2", "duplicates": "1"} { // the repeat is no update of an empty book
		if got := page.Text(`[data-testid="count-` + name + `"]`); got != want {
			t.Errorf("%s = %q, want %s", name, got, want)
		}
	}
	if got := page.Text(`[data-testid="import-messageable"]`); got != "All 2 contacts this import wrote can be messaged (they opted in)." {
		t.Errorf("messageable %q", got)
	}
	if got := page.Text(`[data-testid="consent-summary"]`); !strings.Contains(got, "In store") || !strings.Contains(got, "Owner of Laden") {
		t.Errorf("consent summary %q", got)
	}
	if !page.Has(`[data-testid="error-report"]`) {
		t.Fatal("no report link")
	}
	rep := c.get(path + "/errors.csv")
	if rep.Status != http.StatusOK || !strings.HasPrefix(rep.Header.Get("Content-Type"), "text/csv") || !strings.Contains(rep.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("report: %d %s", rep.Status, rep.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(rep.Body, "\uFEFF") {
		t.Error("report without byte order mark")
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(rep.Body, "\uFEFF")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0][:4], "|") != "row|field|reason|Telefonnummer" {
		t.Fatalf("report %q", recs)
	}
	if recs[1][0] != "3" || !strings.Contains(recs[1][1], "E-Mail-Adresse") || recs[1][6] != "anna@example" {
		t.Errorf("row 3: %q", recs[1])
	}
	if recs[2][0] != "4" || recs[2][4] != `'=HYPERLINK("http://x","y")` || recs[2][5] != "Bösewicht" {
		t.Errorf("row 4 (formula neutralised): %q", recs[2])
	}
	ctx := context.Background()
	tn, _ := a.db.Tenant(actorBusiness(t, a, "owner@laden.example"))
	z, err := contacts.ByPhone(ctx, tn, "+491712345678")
	if err != nil || z.Name != "Zoë Weiß" || z.ConsentState != contacts.ConsentOptedIn {
		t.Fatalf("Zoë: %+v %v", z, err)
	}
	// The contacts the import wrote, one click from its result, and not
	// one added by hand.
	if _, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: "+4915199990000", Name: "Von Hand"}, "user:1"); err != nil {
		t.Fatal(err)
	}
	mine := c.get(page.Attr(`[data-testid="contacts-link"]`, "href"))
	if got := mine.Text(`[data-testid="contact-count"]`); got != "2 contacts" { // the third row repeated a number
		t.Errorf("contacts of the import: %q (%s)", got, page.Attr(`[data-testid="contacts-link"]`, "href"))
	}
	if !strings.Contains(mine.Text(`[data-testid="import-filter"]`), "Kunden Laden.csv") || !mine.Has(`[data-testid="contact-+491712345678"]`) {
		t.Errorf("import filter: %q", mine.Text(`[data-testid="import-filter"]`))
	}
	list := c.get("/contacts/imports")
	if got := list.Text(`[data-testid="imports-table"] tbody tr`); !strings.Contains(got, "Kunden Laden.csv") || !strings.Contains(got, "Done") {
		t.Errorf("history row %q", got)
	}
	var jobs int64
	a.db.Gorm.Raw(`SELECT COUNT(*) FROM river_job WHERE kind = 'contact_import'`).Scan(&jobs)
	if jobs != 1 {
		t.Errorf("%d import jobs after a double click", jobs)
	}
}

func actorBusiness(t *testing.T, a *app, email string) int64 {
	t.Helper()
	u, err := a.db.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.db.MembershipOf(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m.BusinessID
}

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
