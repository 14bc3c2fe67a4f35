package handlers_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestImportResultLandlinesAndRepeats: the preview marks a likely landline
// on its row; the result says how many contacts look like landlines (not
// counted as messageable) and lists the numbers repeated in the file with
// their rows; the contact list and page show the mark.
func TestImportResultLandlinesAndRepeats(t *testing.T) {
	a := newApp(t)
	a.startJobs()
	c := a.signup("Festnetz", "owner@festnetz.example")
	c.primeCSRF("/contacts/imports/new")
	file := "Telefon;Name\r\n" +
		"030 1234567;Berliner Büro\r\n" + // row 2: landline
		"0151 23456789;Jürgen\r\n" + // row 3
		"0170 1234567;Anna\r\n" + // row 4
		"0151 23456789;Jürgen Größe\r\n" + // row 5: repeats row 3
		"0170 1234567;Anna Müller\r\n" + // row 6: repeats row 4
		"0151 23456789;Jürgen G.\r\n" // row 7: repeats row 3
	up := c.uploadImport("festnetz.csv", []byte(file), nil)
	m := c.get(up.Location)
	if got := m.Text(`[data-testid="preview-row-2"] [data-testid="preview-landline"]`); !strings.Contains(got, "landline") {
		t.Errorf("preview row 2: %q", m.Text(`[data-testid="preview-row-2"]`))
	}
	if m.Has(`[data-testid="preview-row-3"] [data-testid="preview-landline"]`) {
		t.Error("a mobile number is marked as a landline in the preview")
	}
	if got := m.Text(`[data-testid="preview-landlines"]`); !strings.HasPrefix(got, "1 looks like a landline") {
		t.Errorf("preview landlines %q", got)
	}
	path := startImportAt(t, c, up.Location)
	waitImported(t, c, path)
	page := c.get(path)
	if got := page.Text(`[data-testid="import-messageable"]`); got != "2 of the 3 contacts this import wrote can be messaged: they opted in and do not look like landlines." {
		t.Errorf("messageable %q", got)
	}
	if got := page.Text(`[data-testid="import-landlines"]`); !strings.HasPrefix(got, "1 contact looks like a landline") {
		t.Errorf("landlines %q", got)
	}
	var reps []string
	page.Doc.Find(`[data-testid="import-repeats"] li`).Each(func(_ int, s *goquery.Selection) {
		reps = append(reps, strings.Join(strings.Fields(s.Text()), " "))
	})
	want := []string{"+49 1512 3456789 — rows 3, 5, 7", "+49 170 1234567 — rows 4, 6"}
	if strings.Join(reps, "|") != strings.Join(want, "|") {
		t.Errorf("repeats %q, want %q", reps, want)
	}
	if got := page.Text(`#repeats-h + p`); !strings.Contains(got, "later row's value was kept") {
		t.Errorf("repeats note %q", got)
	}
	if page.Has(`[data-testid="import-repeats-more"]`) {
		t.Error("a 'more' line with every repeat listed")
	}
	rep := c.get(page.Attr(`[data-testid="repeats-report"]`, "href"))
	if rep.Status != 200 || !strings.Contains(rep.Header.Get("Content-Disposition"), "repeats.csv") {
		t.Fatalf("repeats report: %d %s", rep.Status, rep.Header.Get("Content-Disposition"))
	}
	// The upload was semicolon-separated, so is the report; the numbers
	// are neutralised as every report cell is.
	lines := strings.Split(strings.TrimPrefix(rep.Body, "\uFEFF"), "\r\n")
	if len(lines) < 3 || lines[0] != "number;rows;kept" || !strings.HasPrefix(lines[1], "'+4915123456789;3, 5, 7;one contact") ||
		!strings.HasPrefix(lines[2], "'+491701234567;4, 6;") {
		t.Errorf("repeats report %q", lines)
	}
	list := c.get("/contacts")
	if n := len(list.Doc.Find(`[data-testid="landline-badge"]`).Nodes); n != 1 {
		t.Errorf("%d landline marks in the list, want 1", n)
	}
	row := list.Doc.Find(`[data-testid="landline-badge"]`).Closest("tr")
	href, _ := row.Find("a").First().Attr("href")
	show := c.get(href)
	if got := show.Text(`[data-testid="contact-landline"]`); !strings.HasPrefix(got, "Looks like a landline") {
		t.Errorf("contact page %q (%s)", got, href)
	}
}
