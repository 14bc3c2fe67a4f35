package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// TestCountsAndLanguagesInWords: a count of one is singular, and a
// contact's language is named, not shown as a raw code.
func TestCountsAndLanguagesInWords(t *testing.T) {
	a := newApp(t)
	c := a.signup("Laden", "owner@laden.example")
	tn := a.tenantOf("owner@laden.example")
	when := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	rows := []importer.Contact{
		{Row: 2, Phone: "+4915100000001", Name: "Anna Berg", Language: "de", OptInAt: &when, OptInSource: importer.SourceWebForm},
		{Row: 3, Phone: "+4915100000002", Name: "Olena Koval", Language: "uk", OptInAt: &when, OptInSource: importer.SourceWebForm},
	}
	if _, err := tn.ApplyImportBatch(context.Background(), 1, rows, models.DuplicateUpdate, ""); err != nil {
		t.Fatal(err)
	}
	s := c.get("/contacts?q=" + url.QueryEscape("Anna"))
	if got := s.Text(`[data-testid="contact-count"]`); got != "1 match" {
		t.Errorf("search count %q, want \"1 match\"", got)
	}
	list := c.get("/contacts")
	if got := list.Text(`[data-testid="contact-+4915100000001"]`); !strings.Contains(got, "German") {
		t.Errorf("list row %q does not name German", got)
	}
	if got := list.Text(`[data-testid="contact-+4915100000002"]`); !strings.Contains(got, "Ukrainian") || strings.Contains(got, "UK") {
		t.Errorf("list row %q does not name Ukrainian", got)
	}
	anna, err := tn.ContactByPhone(context.Background(), "+4915100000001")
	if err != nil {
		t.Fatal(err)
	}
	shown := c.get(contactPath(anna.ID, ""))
	found := false
	shown.Doc.Find("dd").Each(func(_ int, d *goquery.Selection) {
		if strings.TrimSpace(d.Text()) == "German" {
			found = true
		}
	})
	if !found {
		t.Errorf("contact page does not name the language German")
	}
}
