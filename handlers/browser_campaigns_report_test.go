package handlers_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/messages"
)

// TestBrowserCampaignReport: the campaigns list, a sending campaign's live
// progress (the page's script picks up messages the sender handles, then
// reloads when the campaign is done) and the finished report with its
// charts — at 1280 px, the report also at 390 px.
func TestBrowserCampaignReport(t *testing.T) {
	a := newApp(t)
	a.ensureAdmin()
	ctx := newBrowser(t)
	base := a.ts.URL
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(chromedp.CSS("#f-business_name"))); err != nil {
		t.Fatal(err)
	}
	if err := fillAndSubmit(ctx, map[string]string{"#f-business_name": "Blumen Berger", "#f-name": "Berta Berger",
		"#f-email": "berta@blumen.example", "#f-password": testPassword}, "button.primary", `[data-testid="verification-state"]`); err != nil {
		t.Fatal(err)
	}
	s := newReportSeed(t, a, "berta@blumen.example")
	done, people := s.done("Spring offer")
	s.campaign("Autumn draft", campaigns.Draft)
	live := s.campaign("Weekend sale", campaigns.Sending)
	var ids []int64
	for k := 0; k < 40; k++ {
		set := map[string]any{}
		if k < 10 {
			set = map[string]any{"state": messages.Delivered, "wamid": fmt.Sprintf("live%d", k), "sent_at": s.at(k), "delivered_at": s.at(k + 30)}
		}
		ids = append(ids, s.msg(live, 0, fmt.Sprintf("+4915199%06d", k), set))
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/campaigns"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="campaigns-table"]`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaigns-list")

	// Live progress: 10 of 40; the sender handles 20 more and the page
	// shows it without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+path(live, "")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="progress-handled"]`))); err != nil {
		t.Fatal(err)
	}
	waitExact(t, ctx, `[data-testid="progress-handled"]`, "10 of 40 messages handled (25 %)")
	if err := s.tn.Scoped(s.ctx).Table("messages").Where("id IN ?", ids[10:30]).
		Updates(map[string]any{"state": messages.Accepted, "state_rank": messages.Rank(messages.Accepted)}).Error; err != nil {
		t.Fatal(err)
	}
	waitExact(t, ctx, `[data-testid="progress-handled"]`, "30 of 40 messages handled (75 %)")
	waitExact(t, ctx, `[data-testid="progress-accepted"]`, "20")
	screenshot(t, ctx, "campaigns-progress")

	// The campaign ends: the page reloads by itself into the report.
	if err := s.tn.Scoped(s.ctx).Table("messages").Where("id IN ?", ids[30:]).
		Updates(map[string]any{"state": messages.Failed, "state_rank": messages.Rank(messages.Failed), "error_code": 131049, "error_title": "Message not delivered to maintain healthy ecosystem engagement"}).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.tn.Scoped(s.ctx).Model(&campaigns.Campaign{}).Where("id = ?", live.ID).Updates(map[string]any{"state": campaigns.Done, "finished_at": s.at(1800)}).Error; err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="funnel-chart"] svg`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, `[data-testid="campaign-state"]`); got != "Done" {
		t.Errorf("after the reload: %q", got)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+path(done, "")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="time-chart"] svg`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaigns-report")
	if err := phone(ctx); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaigns-report-phone")
	if err := desktop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+path(done, "/messages?state=failed")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="messages-table"]`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaigns-messages")

	// The contact page lists what was sent to the contact.
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", base, people["Failing Fiona"])),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="contact-message"]`))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "campaigns-contact-messages")
}
