package profiles_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
	"github.com/optline/optline/models/profiles"
)

func TestQueueOldestFirstWithCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	admin := f.admin(t, "admin@optline.example")
	completeProfile(t, f, f.tn, f.owner)
	first := f.submit(t)
	f.clock.Advance(time.Hour)
	owner2, _, tn2 := f.business(t, "Blumen Meier", "meier@example.com")
	completeProfile(t, f, tn2, owner2)
	second, err := profiles.SubmitVerification(ctx, tn2, owner2, validRequest(), "")
	if err != nil {
		t.Fatal(err)
	}
	q, err := profiles.Queue(ctx, f.db, 50)
	if err != nil || len(q) != 2 || q[0].ID != first.ID || q[1].ID != second.ID || q[1].BusinessName != "Blumen Meier" {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	c, _ := profiles.Counts(ctx, f.db)
	if c.Pending != 2 || c.DecidedToday() != 0 || c.OldestPending == nil || !c.OldestPending.Equal(first.SubmittedAt) {
		t.Errorf("counts = %+v", c)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, first.ID, profiles.Decision{Approve: true, Revision: 1}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, second.ID, profiles.Decision{Reason: "No", Revision: 1}, ""); err != nil {
		t.Fatal(err)
	}
	c, _ = profiles.Counts(ctx, f.db)
	if c.Pending != 0 || c.ApprovedToday != 1 || c.RejectedToday != 1 {
		t.Errorf("counts after deciding = %+v", c)
	}
	f.clock.Advance(24 * time.Hour)
	if c, _ = profiles.Counts(ctx, f.db); c.DecidedToday() != 0 {
		t.Errorf("yesterday's decisions counted today: %+v", c)
	}
}

func TestDocumentsLimitRemovalAndIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	completeProfile(t, f, f.tn, f.owner)
	var ids []int64
	for i := 0; i < profiles.MaxDocuments; i++ {
		d, err := profiles.AddDocument(ctx, f.tn, f.owner, fmt.Sprintf("docs/1/%d.pdf", i), "d.pdf", "application/pdf", 10, "x", "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if _, err := profiles.AddDocument(ctx, f.tn, f.owner, "docs/1/6.pdf", "d.pdf", "application/pdf", 10, "x", ""); problem(err, "document") != "doc.too_many" {
		t.Fatalf("sixth document = %v", err)
	}
	// Unreferenced: the row goes and the file key comes back.
	if key, err := profiles.RemoveDocument(ctx, f.tn, f.owner, ids[0], ""); err != nil || key != "docs/1/0.pdf" {
		t.Fatalf("remove unreferenced = %q, %v", key, err)
	}
	r := f.submit(t)
	// Referenced by a request: kept for the history, out of the current set.
	if key, err := profiles.RemoveDocument(ctx, f.tn, f.owner, ids[1], ""); err != nil || key != "" {
		t.Fatalf("remove referenced = %q, %v", key, err)
	}
	cur, _ := profiles.CurrentDocuments(ctx, f.tn)
	reqDocs, _ := profiles.RequestDocuments(ctx, f.db, r.ID)
	if len(cur) != 3 || len(reqDocs) != 4 {
		t.Errorf("current %d, on request %d", len(cur), len(reqDocs))
	}
	// Another business cannot see or remove them.
	owner2, _, tn2 := f.business(t, "Blumen Meier", "meier@example.com")
	if _, err := profiles.Document(ctx, tn2, ids[2]); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("other business Document = %v", err)
	}
	if _, err := profiles.RemoveDocument(ctx, tn2, owner2, ids[2], ""); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("other business RemoveDocument = %v", err)
	}
	if d, err := profiles.Document(ctx, f.tn, ids[2]); err != nil || d.RemovedAt != nil {
		t.Errorf("document after foreign removal = %+v, %v", d, err)
	}
}

func TestCheckDocument(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data []byte
		ct   string
		key  string
	}{
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF"), "application/pdf", ""},
		{"png", pngOf(50, 30), "image/png", ""},
		{"jpeg", jpegOf(40, 40), "image/jpeg", ""},
		{"html named pdf", []byte("<!DOCTYPE html><script>alert(1)</script>"), "", "doc.type"},
		{"zip/docx", []byte("PK\x03\x04rest"), "", "doc.type"},
		{"empty", nil, "", "doc.empty"},
		{"png magic only", []byte("\x89PNG\r\n\x1a\n...."), "", "doc.corrupt"},
		{"too big", append([]byte("%PDF-1.4\n"), make([]byte, profiles.DocumentMaxBytes)...), "", "doc.too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, _, err := profiles.CheckDocument("document", c.data)
			if got := problem(err, "document"); got != c.key || ct != c.ct {
				t.Errorf("CheckDocument = %q, %q (err %v), want %q, %q", ct, got, err, c.ct, c.key)
			}
		})
	}
	if got := profiles.SafeFileName("C:\\Users\\x\\Scan \u202eFDP.exe", ".png"); got != "Scan FDP.png" {
		t.Errorf("SafeFileName = %q", got)
	}
}

func TestNameRelates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		display, legal string
		want           bool
	}{
		{"Café Sonnenschein", "Sonnenschein Gastro GmbH", true},
		{"Bäckerei Kraus", "Kraus Backwaren GmbH", true},
		{"Blumen Meier", "Acme Holding GmbH", false},
		{"AB Shop", "AB GmbH", false},
	} {
		if got := profiles.NameRelates(c.display, c.legal); got != c.want {
			t.Errorf("NameRelates(%q, %q) = %v", c.display, c.legal, got)
		}
	}
}

func TestDemoDataFillsQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	q, _ := profiles.Queue(ctx, f.db, 10)
	if len(q) != 1 || q[0].BusinessName != "Café Sonnenschein" || q[0].Kind != profiles.KindResubmission {
		t.Fatalf("queue = %+v", q)
	}
	tn, _ := f.db.Tenant(q[0].BusinessID)
	reqs, _ := profiles.VerificationRequests(ctx, tn)
	if len(reqs) != 2 || reqs[1].State != profiles.RequestRejected || reqs[1].Reason == "" {
		t.Errorf("history = %+v", reqs)
	}
	p, _ := profiles.Get(ctx, tn)
	if p.PhoneE164 != "+4930901820" || profiles.CheckDisplayName("n", "Café Sonnenschein") != nil {
		t.Errorf("demo profile = %+v", p)
	}
	if _, err := profiles.NormalizePhone("phone", p.PhoneE164, ""); err != nil {
		t.Errorf("demo phone invalid: %v", err)
	}
}
