package contactimport_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// TestImportFlagsLandlinesAndListsRepeats runs a file with landlines and
// repeated numbers through the real engine, in batches small enough that
// a number repeats across batches, on the configured database.
func TestImportFlagsLandlinesAndListsRepeats(t *testing.T) {
	for _, policy := range []contacts.DuplicatePolicy{contacts.DuplicateUpdate, contacts.DuplicateSkip} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFx(t)
			f.eng.BatchSize = 4
			tn, u := f.business("Festnetz " + string(policy))
			var b strings.Builder
			b.WriteString("phone,name,optin_at,optin_source\n")
			rows := []string{
				// batch 1: rows 2-5
				"030 1234567,Berlin Büro", // row 2: landline
				"0151 23456701,Anna",      // row 3
				"+49 151 23456702,Ben",    // row 4: repeated on rows 6 and 12
				"0800 1234567,Hotline",    // row 5: toll-free, flagged too
				// batch 2: rows 6-9, repeats of batch 1
				"0151 23456702,Ben zwei",  // row 6
				"0151 23456701,Anna zwei", // row 7
				"(089) 12345678,München",  // row 8: landline
				"0151 23456703,Cleo",      // row 9
				// batch 3: rows 10-12, a repeat inside the batch
				"0151 23456704,Dora",      // row 10
				"0151 23456704,Dora zwei", // row 11
				"0151 23456702,Ben drei",  // row 12
				"",                        // row 13: blank
			}
			for _, r := range rows {
				b.WriteString(r + ",2024-03-01,web form\n")
			}
			imp := f.importFile(tn, u, []byte(b.String()), importer.Format{}, policy, imports.ConsentFromColumns)
			if imp.Status != imports.ImportDone {
				t.Fatalf("status %s: %s", imp.Status, imp.Error)
			}
			checkCounts(t, imp)
			if imp.Imported != 7 || imp.Duplicates != 4 || imp.Blank != 0 {
				t.Errorf("imported %d repeated %d blank %d, want 7, 4, 0", imp.Imported, imp.Duplicates, imp.Blank)
			}
			if imp.Landlines == nil || *imp.Landlines != 3 {
				t.Errorf("landlines %v, want 3", imp.Landlines)
			}
			if imp.Messageable == nil || *imp.Messageable != 4 {
				t.Errorf("messageable %v, want 4 (7 opted in, 3 landlines)", imp.Messageable)
			}
			for phone, want := range map[string]bool{"+49301234567": true, "+498001234567": true, "+498912345678": true, "+4915123456701": false} {
				if c := f.contact(tn, phone); c.Landline != want {
					t.Errorf("%s landline %v, want %v", phone, c.Landline, want)
				}
			}
			reps, more, err := imports.Repeats(context.Background(), tn, imp, 20)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(reps))
			for i, r := range reps {
				got[i] = fmt.Sprintf("%s %v", r.Phone, r.Rows)
			}
			want := []string{"+4915123456701 [3 7]", "+4915123456702 [4 6 12]", "+4915123456704 [10 11]"}
			if !slices.Equal(got, want) || more != 0 {
				t.Errorf("repeats %v (+%d), want %v", got, more, want)
			}
			// Erasing a contact takes its number off the list.
			if err := contacts.Delete(context.Background(), tn, f.contact(tn, "+4915123456704").ID, "user:1"); err != nil {
				t.Fatal(err)
			}
			if reps, _, _ := imports.Repeats(context.Background(), tn, imp, 20); len(reps) != 2 {
				t.Errorf("after erasure: %v", reps)
			}
			reps, more, err = imports.Repeats(context.Background(), tn, imp, 1)
			if err != nil || len(reps) != 1 || more != 3 { // Duplicates still counts the erased number's repeat
				t.Errorf("capped at 1: %v, %d more, %v; want 1 number and 3 more rows", reps, more, err)
			}
		})
	}
}
