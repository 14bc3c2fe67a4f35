package contacts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
)

// benchRows makes n realistic rows: German mobile numbers, names, e-mail,
// two tags, consent on 90% of them, a custom attribute.
func benchRows(start, n int) []importer.Contact {
	rows := make([]importer.Contact, n)
	optin := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	tags := [][]string{{"newsletter", "stammkunde"}, {"vip"}, {"newsletter"}, nil}
	for i := range rows {
		k := start + i
		c := importer.Contact{Row: k + 2, Phone: fmt.Sprintf("+49151%08d", k), Name: fmt.Sprintf("Kundin %d Müller", k),
			FirstName: "Kundin", LastName: fmt.Sprintf("%d Müller", k), Email: fmt.Sprintf("kundin%d@example.de", k), Language: "de",
			Tags: tags[k%len(tags)], Attrs: map[string]string{"kundennr": fmt.Sprintf("K-%d", k)}}
		if k%10 != 0 {
			c.OptInAt, c.OptInSource = &optin, importer.SourceWebForm
		}
		rows[i] = c
	}
	return rows
}

// BenchmarkApplyImportBatch imports batches of new contacts into a growing
// contact book (the path of a large import) and reports rows per second.
// Run on PostgreSQL with TEST_DATABASE_URL set.
func BenchmarkApplyImportBatch(b *testing.B) {
	for _, size := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db, _ := ctDB(b)
			db.Now = func() time.Time { return time.Now().UTC() }
			tn := ctTenant(b, db, "Bench")
			ctx := context.Background()
			batches := make([][]importer.Contact, b.N)
			for i := range batches {
				batches[i] = benchRows(i*size, size)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				res, err := contacts.ApplyImportBatch(ctx, tn, 1, batches[i], contacts.DuplicateUpdate, "")
				if err != nil {
					b.Fatal(err)
				}
				if res.Imported != size {
					b.Fatalf("imported %d of %d", res.Imported, size)
				}
			}
			b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkApplyImportBatchUpdate re-imports existing contacts (policy
// update), the path of importing the same list again.
func BenchmarkApplyImportBatchUpdate(b *testing.B) {
	const size = 5000
	db, _ := ctDB(b)
	db.Now = func() time.Time { return time.Now().UTC() }
	tn := ctTenant(b, db, "Bench")
	ctx := context.Background()
	rows := benchRows(0, size)
	if _, err := contacts.ApplyImportBatch(ctx, tn, 1, rows, contacts.DuplicateUpdate, ""); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res, err := contacts.ApplyImportBatch(ctx, tn, int64(i+2), rows, contacts.DuplicateUpdate, "")
		if err != nil {
			b.Fatal(err)
		}
		if res.Updated != size {
			b.Fatalf("updated %d of %d", res.Updated, size)
		}
	}
	b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "rows/s")
}
