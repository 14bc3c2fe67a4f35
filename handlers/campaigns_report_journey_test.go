package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/messages"
)

// TestCampaignReportAfterARealSend: a campaign composed and confirmed
// through the pages is sent by the real sender through the sandbox, whose
// status events come back through the webhook intake; the report then
// counts what happened: 4 recipients, one refused by the platform with
// 131026 (not retryable), three delivered and read, the cost of the three
// delivered at the example card's price, and each message's timeline.
func TestCampaignReportAfterARealSend(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	b := a.composeBiz("anna@kraus.example")
	setSender(t, a.db, b.tn, "5550001")
	sb := sandbox.New(a.webhooks, sandbox.Options{FailShare: -1, HeldShare: -1, StopShare: -1, ReadShare: 1, DuplicateShare: -1, ReorderShare: -1,
		MinDelay: time.Millisecond, MaxDelay: 3 * time.Millisecond, Now: a.clock.Now, Log: dbtest.Quiet,
		Fault: func(op string, _ channel.Sender, m *channel.Message, _ *channel.Template) *channel.Error {
			if op == "send" && m != nil && m.To == "+4915120000003" {
				return &channel.Error{Code: 131026, Title: "Message undeliverable"}
			}
			return nil
		}})
	t.Cleanup(sb.Close)
	a.channel.real = sb
	a.startJobs()

	owner.primeCSRF("/campaigns/new")
	p := owner.post("/campaigns", composeVals(b))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Doc.Find(".error").Text())
	}
	id := campaignIDFrom(t, p.Location)
	base := "/campaigns/" + strconv.FormatInt(id, 10)
	owner.primeCSRF(base + "/review")
	if p := owner.post(base+"/confirm", nil); p.Status != http.StatusSeeOther || p.Location != base {
		t.Fatalf("confirm: %d %q %s", p.Status, p.Location, p.Doc.Find(".error").Text())
	}
	// Wait until every message reached its end (read or failed) and the
	// campaign is done, applying the sandbox's webhooks as they come.
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The harness's clock stands still unless moved: the sender's
		// throughput budget refills by it.
		a.clock.Advance(time.Second)
		a.process()
		c, _ := campaigns.ForReport(ctx, b.tn, id)
		sc, _ := campaigns.Counts(ctx, b.tn, id)
		if c.State == campaigns.Done && sc.ByState[messages.Read]+sc.ByState[messages.Failed] == sc.Total() && sc.Total() == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: campaign %s, messages %v", c.State, sc.ByState)
		}
		time.Sleep(50 * time.Millisecond)
	}

	r := owner.get(base)
	if r.Status != http.StatusOK || r.Text(`[data-testid="campaign-state"]`) != "Done" {
		t.Fatalf("report: %d %q", r.Status, r.Text(`[data-testid="campaign-state"]`))
	}
	for step, want := range map[string]string{"recipients": "4", "accepted": "3", "sent": "3", "delivered": "3", "read": "3", "failed": "1"} {
		if got := r.Doc.Find(`[data-testid="funnel-` + step + `"] td`).First().Text(); got != want {
			t.Errorf("funnel %s: %q, want %q", step, got, want)
		}
	}
	if f := r.Text(`[data-testid="failure-131026"]`); !strings.Contains(f, "Retrying will fail again") {
		t.Errorf("failure %q", f)
	}
	if r.Has(`[data-testid="retry"]`) {
		t.Error("retry offered for a failure that cannot be retried")
	}
	// Three delivered marketing messages at EUR 0.1131 (two to Germany,
	// one to the US by the card's default): EUR 0.34.
	if got := r.Text(`[data-testid="fact-cost"]`); got != "€0.34" {
		t.Errorf("cost %q", got)
	}
	if !r.Has(`[data-testid="time-chart"] svg`) {
		t.Error("no delivery-over-time chart")
	}
	m := owner.get(base + "/messages?state=read")
	rows := m.Doc.Find(`[data-testid="messages-table"] tbody tr`)
	if rows.Length() != 3 {
		t.Fatalf("%d read messages listed", rows.Length())
	}
	var kinds []string
	steps := rows.First().Find(`[data-testid="timeline"] li`)
	for i := range steps.Nodes {
		kinds = append(kinds, strings.TrimPrefix(steps.Eq(i).AttrOr("class", ""), "cr-step-"))
	}
	if got := strings.Join(kinds, ","); got != "created,claimed,accepted,sent,delivered,read" {
		t.Errorf("timeline of a read message: %s", got)
	}
	l := owner.get("/campaigns")
	row := `[data-testid="campaign-` + strconv.FormatInt(id, 10) + `"] `
	if l.Text(row+`[data-testid="campaign-sent-rate"]`) != "75.0 %" || l.Text(row+`[data-testid="campaign-read-rate"]`) != "100.0 %" || l.Text(row+`[data-testid="campaign-cost"]`) != "€0.34" {
		t.Errorf("list row %q", l.Text(row))
	}
}
