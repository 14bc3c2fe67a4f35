package campaigns_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/messages"
)

// BenchmarkReport measures the report's queries on one campaign of
// REPORT_BENCH_N messages (default 100,000): a realistic mix of states
// over an hour, every recipient a contact, 5 % of them replying and 1 %
// opting out. Run it on PostgreSQL and SQLite:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./models/campaigns/ -run XXX -bench BenchmarkReport -benchtime 20x
//	go test ./models/campaigns/ -run XXX -bench BenchmarkReport -benchtime 20x
func BenchmarkReport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("REPORT_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	s, _ := newSeed(b, "Bench")
	c := s.campaign("Big", campaigns.Done)
	seedBig(b, s, c, n)
	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("progress", func() error { _, err := campaigns.Progress(s.ctx, s.tn, c.ID); return err })
	run("funnel", func() error { _, err := campaigns.Funnel(s.ctx, s.tn, c.ID); return err })
	run("over_time", func() error { _, err := campaigns.DeliveryOverTime(s.ctx, s.tn, c.ID); return err })
	run("failures", func() error { _, err := campaigns.Failures(s.ctx, s.tn, c.ID); return err })
	run("cost", func() error { _, err := campaigns.CostSoFar(s.ctx, s.tn, c); return err })
	run("list", func() error { _, err := campaigns.List(s.ctx, s.tn); return err })
	run("messages_page", func() error {
		_, _, err := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{State: messages.Failed, Cursor: int64(n / 2)})
		return err
	})
	run("messages_search", func() error {
		_, _, err := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{Query: "kunde 777"})
		return err
	})
	b.Run("export_csv", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := campaigns.Export(s.ctx, s.tn, c.ID, campaigns.MessageFilter{}, false, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("export_xlsx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var buf bytes.Buffer
			if _, err := campaigns.Export(s.ctx, s.tn, c.ID, campaigns.MessageFilter{}, true, &buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedBig writes n contacts and their messages in batches.
func seedBig(b *testing.B, s *seed, c *campaigns.Campaign, n int) {
	start := time.Now()
	now := s.db.Now()
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		cs := make([]contacts.Contact, 0, hi-lo)
		for i := lo; i < hi; i++ {
			p := fmt.Sprintf("+49151%08d", i)
			cs = append(cs, contacts.Contact{BusinessID: s.tn.BusinessID(), Phone: p, PhoneHash: contacts.PhoneHash(p),
				Name: fmt.Sprintf("Kunde %d", i), ConsentState: contacts.ConsentOptedIn, Attrs: contacts.Attrs{}, CreatedAt: now, UpdatedAt: now})
		}
		if err := s.tn.Gorm(s.ctx).Create(&cs).Error; err != nil {
			b.Fatal(err)
		}
		var ms []map[string]any
		var in []map[string]any
		for k, ct := range cs {
			i := lo + k
			sent := at(i * 3600 / n)
			m := map[string]any{"business_id": s.tn.BusinessID(), "contact_id": ct.ID, "campaign_id": c.ID, "template_name": "offer_v1",
				"to_phone": ct.Phone, "created_at": t0, "updated_at": now, "country": "DE", "category": "marketing", "state": messages.Read,
				"sent_at": nil, "delivered_at": nil, "read_at": nil, "failed_at": nil, "error_code": nil, "error_title": "", "wamid": nil}
			switch {
			case i%50 == 0:
				m["state"], m["failed_at"], m["error_code"], m["error_title"] = messages.Failed, sent, 131026, "Message undeliverable"
			case i%97 == 0:
				m["state"], m["failed_at"], m["error_code"], m["error_title"] = messages.Failed, sent, 130429, "Rate limit hit"
			case i%10 < 3:
				m["state"], m["sent_at"], m["delivered_at"], m["wamid"] = messages.Delivered, sent, sent.Add(20*time.Second), "w"+strconv.Itoa(i)
			case i%10 == 3:
				m["state"], m["sent_at"], m["wamid"] = messages.Sent, sent, "w"+strconv.Itoa(i)
			default:
				m["sent_at"], m["delivered_at"], m["read_at"], m["wamid"] = sent, sent.Add(20*time.Second), sent.Add(5*time.Minute), "w"+strconv.Itoa(i)
			}
			m["state_rank"] = messages.Rank(m["state"].(string))
			ms = append(ms, m)
			if i%20 == 0 {
				in = append(in, map[string]any{"business_id": s.tn.BusinessID(), "contact_id": ct.ID, "wamid": "in" + strconv.Itoa(i),
					"kind": "text", "body": "Danke", "sent_at": sent.Add(time.Hour), "received_at": sent.Add(time.Hour)})
			}
		}
		if err := s.tn.Gorm(s.ctx).Table("messages").Create(ms).Error; err != nil {
			b.Fatal(err)
		}
		if len(in) > 0 {
			if err := s.tn.Gorm(s.ctx).Table("inbound_messages").Create(in).Error; err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.tn.Gorm(s.ctx).Table("contacts").Where("id % 100 = 0").
		Updates(map[string]any{"consent_state": contacts.ConsentOptedOut, "opted_out_at": at(3000)}).Error; err != nil {
		b.Fatal(err)
	}
	// Statistics as autovacuum would have gathered them by now.
	if err := s.db.Gorm.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d messages in %v (%s)", n, time.Since(start).Round(time.Millisecond), s.db.Dialect)
}
