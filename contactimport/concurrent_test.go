package contactimport_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// TestConcurrentBatchesKeepFileOrder: on PostgreSQL two batches are applied
// at once; a number repeated in neighbouring batches still ends with the
// values of its last row (policy update) or its first (policy skip), and
// the counts are those of one batch after the other.
func TestConcurrentBatchesKeepFileOrder(t *testing.T) {
	for _, policy := range []contacts.DuplicatePolicy{contacts.DuplicateUpdate, contacts.DuplicateSkip} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFx(t)
			tn, u := f.business("Laden " + string(policy))
			var b strings.Builder
			b.WriteString("phone,name\n")
			const rows = 1200
			for i := range rows {
				// Every row repeats a number of one of the 60 rows before it.
				n := i
				if i%7 == 3 && i >= 60 {
					n = i - 1 - (i*13)%60
				}
				fmt.Fprintf(&b, "+49151%08d,Kunde %d\n", 12340000+n, i)
			}
			f.eng.BatchSize = 50
			imp := f.upload(tn, u, "order.csv", []byte(b.String()), importer.Format{})
			f.queue(tn, u, imp, plan(imp, policy, imports.ConsentFromNone))
			got := f.run(tn, imp.ID)
			if got.Status != imports.ImportDone {
				t.Fatalf("status %s %q", got.Status, got.Error)
			}
			checkCounts(t, got)
			first, last := map[int]int{}, map[int]int{}
			for i := range rows {
				n := i
				if i%7 == 3 && i >= 60 {
					n = i - 1 - (i*13)%60
				}
				if _, ok := first[n]; !ok {
					first[n] = i
				}
				last[n] = i
			}
			if got.Imported != int64(len(first)) || got.Duplicates != int64(rows-len(first)) {
				t.Errorf("imported %d duplicates %d, want %d and %d", got.Imported, got.Duplicates, len(first), rows-len(first))
			}
			for n := range first {
				c, err := contacts.ByPhone(context.Background(), tn, fmt.Sprintf("+49151%08d", 12340000+n))
				if err != nil {
					t.Fatal(err)
				}
				want := last[n]
				if policy == contacts.DuplicateSkip {
					want = first[n]
				}
				if c.Name != fmt.Sprintf("Kunde %d", want) {
					t.Errorf("number %d: name %q, want Kunde %d", n, c.Name, want)
				}
			}
		})
	}
}

// TestImportIntoEmptyBookYieldsToAnotherWriter: an import into an empty
// book skips looking up numbers it has not written (contacts.FreshBook);
// when someone adds one of its numbers by hand meanwhile, the batch holding
// it is applied again with every number looked up, and the book ends as
// if the import had looked everything up from the start.
func TestImportIntoEmptyBookYieldsToAnotherWriter(t *testing.T) {
	f := newFx(t)
	tn, u := f.business("Laden")
	var b strings.Builder
	b.WriteString("phone,name\n")
	const rows = 300
	for i := range rows {
		fmt.Fprintf(&b, "+49151%08d,Kunde %d\n", 22340000+i, i)
	}
	f.eng.BatchSize = 50
	byHand := fmt.Sprintf("+49151%08d", 22340000+200)
	added := false
	f.eng.Hooks = &contactimport.Hooks{AfterApply: func(_ int64, batch importer.Batch) error {
		if !added {
			added = true
			_, err := contacts.Create(context.Background(), tn, contacts.ContactInput{Phone: byHand, Name: "Von Hand"}, "user:1")
			return err
		}
		return nil
	}}
	imp := f.upload(tn, u, "book.csv", []byte(b.String()), importer.Format{})
	f.queue(tn, u, imp, plan(imp, contacts.DuplicateUpdate, imports.ConsentFromNone))
	got := f.run(tn, imp.ID)
	if got.Status != imports.ImportDone {
		t.Fatalf("status %s %q", got.Status, got.Error)
	}
	checkCounts(t, got)
	if got.Imported != rows-1 || got.Updated != 1 {
		t.Errorf("imported %d, updated %d; want %d new and the number added by hand updated", got.Imported, got.Updated, rows-1)
	}
	if c := f.contact(tn, byHand); c == nil || c.Name != "Kunde 200" {
		t.Errorf("the number added by hand: %+v", c)
	}
	if n, err := contacts.Count(context.Background(), tn, contacts.ContactFilter{}); err != nil || n != rows {
		t.Errorf("book holds %d contacts (%v), want %d", n, err, rows)
	}
}
