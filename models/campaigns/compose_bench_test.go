package campaigns_test

import (
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
)

// BenchmarkReviewFigures100k times what the review page computes for a
// campaign to 100,000 opted-in contacts (half +49, a quarter +1 US/CA
// numbers told apart one by one, a quarter +44): the count by exclusion
// reason, the estimate by country, the headroom and three previews.
//
//	go test ./models/campaigns -run XXX -bench ReviewFigures -benchtime 3x
//	TEST_DATABASE_URL=postgres://… go test ./models/campaigns -run XXX -bench ReviewFigures -benchtime 3x
func BenchmarkReviewFigures100k(b *testing.B) {
	f := newFx(b)
	const n = 100000
	seed := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s`
	if f.db.Dialect == models.Postgres {
		seed = `SELECT generate_series(1, ?) AS i`
	}
	now := f.db.Now()
	var phone string
	if f.db.Dialect == models.Postgres {
		phone = `CASE WHEN i % 4 < 2 THEN '+49151' || (10000000 + i)::text WHEN i % 4 = 2 THEN '+1212' || lpad((i % 10000000)::text, 7, '0') ELSE '+447400' || (100000 + i)::text END`
	} else {
		phone = `CASE WHEN i % 4 < 2 THEN '+49151' || (10000000 + i) WHEN i % 4 = 2 THEN '+1212' || substr('0000000' || (i % 10000000), -7) ELSE '+447400' || (100000 + i) END`
	}
	if err := f.db.Gorm.Exec(`INSERT INTO contacts (business_id, phone, phone_hash, name, first_name, last_name, email, language, attrs,
		consent_state, landline, search, created_at, updated_at)
		SELECT ?, `+phone+`, 'h' || i, 'P', CASE WHEN i % 10 = 0 THEN '' ELSE 'P' END, '', '', '', '{}',
		CASE WHEN i % 50 = 0 THEN 'opted_out' ELSE 'opted_in' END, FALSE, '', ?, ? FROM (`+seed+`) s`,
		f.tn.BusinessID(), now, now, n).Error; err != nil {
		b.Fatal(err)
	}
	if err := f.db.Gorm.Exec(`INSERT INTO contact_tags (business_id, contact_id, tag) SELECT business_id, id, 'vip' FROM contacts WHERE business_id = ?`,
		f.tn.BusinessID()).Error; err != nil {
		b.Fatal(err)
	}
	in := f.input()
	in.Mapping = mapping("")
	c, err := campaigns.Create(f.ctx, f.tn, nil, in)
	if err != nil {
		b.Fatal(err)
	}
	sp := campaigns.EstimatedSpending{DB: f.db}
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		cnt, err := campaigns.CountAudience(f.ctx, f.tn, c)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		est, err := campaigns.EstimateCost(f.ctx, f.tn, c, now)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := campaigns.HeadroomFor(f.ctx, f.tn, c, est, sp, now); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if _, err := campaigns.Previews(f.ctx, f.tn, c, 3); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		b.Logf("%s: %d recipients of %d; count %v, estimate %v (%d lines), headroom %v, previews %v", f.db.Dialect, cnt.Recipients, cnt.Candidates,
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), len(est.Lines), t3.Sub(t2).Round(time.Millisecond), t4.Sub(t3).Round(time.Millisecond))
	}
}
