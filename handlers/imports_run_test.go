package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

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
