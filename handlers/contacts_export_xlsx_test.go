package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestContactsExportXLSX: the Excel export has text cells: numbers keep
// their "+", formula-like names stay text without the CSV's apostrophe,
// and the filter applies (issue 8, item 13).
func TestContactsExportXLSX(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	c.primeCSRF("/contacts/new")
	names := []string{`=HYPERLINK("http://x","y")`, "+1+1", "-2", "Zoë Weiß"}
	for i, name := range names {
		if p := c.post("/contacts", vals("phone", fmt.Sprintf("+49151990000%02d", i), "country", "DE", "name", name, "tags", "export")); p.Status != http.StatusSeeOther {
			t.Fatalf("create %q: %d", name, p.Status)
		}
	}
	seedContacts(t, tn, 1)
	list := c.get("/contacts?tag=export")
	href, _ := list.Doc.Find(`[data-testid="export-xlsx-link"]`).Attr("href")
	if href != "/contacts/export?format=xlsx&tag=export" {
		t.Fatalf("xlsx link %q", href)
	}
	p := c.get(href)
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(p.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx export: %d %v", p.Status, p.Header)
	}
	f, err := excelize.OpenReader(strings.NewReader(p.Body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(names) || rows[0][0] != "phone" || rows[0][1] != "name" {
		t.Fatalf("rows %q", rows)
	}
	got := map[string]bool{}
	for r, row := range rows[1:] {
		if !strings.HasPrefix(row[0], "+49151990000") {
			t.Errorf("phone cell %q", row[0])
		}
		got[row[1]] = true
		for col := 1; col <= len(row); col++ {
			cell, _ := excelize.CoordinatesToCellName(col, r+2)
			if typ, _ := f.GetCellType("Contacts", cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString && row[col-1] != "" {
				t.Errorf("%s (%q) is not a text cell: %v", cell, row[col-1], typ)
			}
			if fm, _ := f.GetCellFormula("Contacts", cell); fm != "" {
				t.Errorf("%s holds a formula %q", cell, fm)
			}
		}
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("name %q not exported as typed (no apostrophe): %v", n, got)
		}
	}
}
