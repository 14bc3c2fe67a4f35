package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/models/webhooks"
	"github.com/optline/optline/web"
)

const (
	testVerifyToken = "verify-token-for-tests"
	testAppSecret   = "app-secret-for-tests"
)

// recordedTemplateEvents is a channel.TemplateEvents that keeps what it got.
type recordedTemplateEvents struct {
	mu  sync.Mutex
	evs []channel.TemplateEvent
	// forward, when set, also applies them (the templates domain).
	forward channel.TemplateEvents
}

func (r *recordedTemplateEvents) ApplyTemplateEvent(ctx context.Context, ev channel.TemplateEvent) error {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	fwd := r.forward
	r.mu.Unlock()
	if fwd != nil {
		return fwd.ApplyTemplateEvent(ctx, ev)
	}
	return nil
}

func (r *recordedTemplateEvents) all() []channel.TemplateEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channel.TemplateEvent(nil), r.evs...)
}

// postWebhook posts body to the webhook, signed with secret unless it is
// empty, and returns the status.
func (a *app) postWebhook(body []byte, signature string) int {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.ts.URL+web.WebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func (a *app) postSigned(body []byte) int {
	a.t.Helper()
	return a.postWebhook(body, webhook.SignatureHeader([]byte(testAppSecret), body))
}

// process runs the queue's processing step now (the job does the same).
func (a *app) process() {
	a.t.Helper()
	if err := a.webhooks.ProcessPending(context.Background(), time.Minute); err != nil {
		a.t.Fatal(err)
	}
}

func (a *app) storedEvents() int64 {
	a.t.Helper()
	var n int64
	if err := a.db.Gorm.Model(&webhooks.Event{}).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *app) unmatched(reason string) int64 {
	a.t.Helper()
	var n int64
	if err := a.db.Gorm.Model(&webhooks.Unmatched{}).Where("reason = ?", reason).Count(&n).Error; err != nil {
		a.t.Fatal(err)
	}
	return n
}

func setSender(t *testing.T, db *models.DB, tn models.Tenant, phoneNumberID string) {
	t.Helper()
	if err := db.Gorm.Exec(`UPDATE businesses SET phone_number_id = ?, waba_id = ? WHERE id = ?`, phoneNumberID, "9"+phoneNumberID, tn.BusinessID()).Error; err != nil {
		t.Fatal(err)
	}
}

type stat struct {
	ID       string           `json:"id"`
	Status   string           `json:"status"`
	TS       string           `json:"timestamp"`
	To       string           `json:"recipient_id"`
	Callback string           `json:"biz_opaque_callback_data,omitempty"`
	Pricing  map[string]any   `json:"pricing,omitempty"`
	Errors   []map[string]any `json:"errors,omitempty"`
}

func statusBody(phoneNumberID string, sts ...stat) []byte {
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "9" + phoneNumberID,
		"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"display_phone_number": "4930123", "phone_number_id": phoneNumberID}, "statuses": sts}}}}}})
	return b
}

func inboundBody(phoneNumberID, from string, msg map[string]any) []byte {
	msg["from"] = from
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "9" + phoneNumberID,
		"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"phone_number_id": phoneNumberID},
			"contacts": []any{map[string]any{"wa_id": from, "user_id": "DE.u" + from, "profile": map[string]any{"name": "Alex"}}},
			"messages": []any{msg}}}}}}})
	return b
}

// acceptedMessages queues n messages of tn and stores their wamids.
func acceptedMessages(t *testing.T, tn models.Tenant, prefix string, n int) []messages.Message {
	t.Helper()
	ctx := context.Background()
	in := make([]messages.New, n)
	for i := range in {
		in[i] = messages.New{TemplateName: "offer_v1", TemplateLanguage: "de", To: fmt.Sprintf("+49151%08d", i)}
	}
	ms, err := messages.Queue(ctx, tn, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		w := fmt.Sprintf("wamid.%s.%d", prefix, i)
		if _, err := messages.MarkAccepted(ctx, tn, ms[i].ID, w); err != nil {
			t.Fatal(err)
		}
		ms[i].WAMID = &w
	}
	return ms
}

func msgState(t *testing.T, tn models.Tenant, id int64) *messages.Message {
	t.Helper()
	m, err := messages.Get(context.Background(), tn, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWebhookHandshake(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	get := func(q string) (int, string) {
		res, err := http.Get(a.ts.URL + web.WebhookPath + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.Header.Get("Set-Cookie") != "" {
			t.Error("the webhook set a cookie")
		}
		return res.StatusCode, string(b)
	}
	if code, body := get("hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Fatalf("good handshake: %d %q", code, body)
	}
	for _, q := range []string{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=subscribe&hub.challenge=1", "hub.mode=other&hub.verify_token=" + testVerifyToken + "&hub.challenge=1"} {
		if code, body := get(q); code != http.StatusForbidden || strings.Contains(body, "1\n") {
			t.Errorf("%s: %d %q", q, code, body)
		}
	}
}

func TestWebhookSignatureAndLimits(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	body := statusBody("1234567", stat{ID: "wamid.x", Status: "delivered", TS: "1700000000", To: "4915112345678"})
	bad := append([]byte{}, body...)
	bad[len(bad)/2] ^= 0x01
	if code := a.postWebhook(body, ""); code != http.StatusUnauthorized {
		t.Errorf("missing signature: %d", code)
	}
	if code := a.postWebhook(bad, webhook.SignatureHeader([]byte(testAppSecret), body)); code != http.StatusUnauthorized {
		t.Errorf("altered body: %d", code)
	}
	if code := a.postWebhook(body, "sha256=00"); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", code)
	}
	if n := a.storedEvents(); n != 0 {
		t.Fatalf("%d bodies stored from refused POSTs", n)
	}
	// No CSRF token, no cookie: a signed POST with emoji is taken.
	emoji := inboundBody("1234567", "4915112345678", map[string]any{"id": "wamid.e", "timestamp": "1700000000", "type": "text", "text": map[string]any{"body": "Danke 😀🎉"}})
	if code := a.postSigned(emoji); code != http.StatusOK {
		t.Fatalf("signed emoji body: %d", code)
	}
	if n := a.storedEvents(); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
	// Over 4 MB: 413, nothing stored; a multipart body: refused.
	big := bytes.Repeat([]byte(" "), webhook.MaxBodyBytes+1)
	if code := a.postWebhook(big, webhook.SignatureHeader([]byte(testAppSecret), big)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", code)
	}
	// Malformed JSON, signed: stored and answered (the platform must not
	// retry it forever), then recorded as an error, nothing applied.
	junk := []byte(`{"object":"whatsapp_business_account","entry":[{`)
	if code := a.postSigned(junk); code != http.StatusOK {
		t.Errorf("malformed: %d", code)
	}
	a.process()
	var failed int64
	a.db.Gorm.Model(&webhooks.Event{}).Where("error <> '' AND processed_at IS NOT NULL").Count(&failed)
	if failed != 1 {
		t.Errorf("%d bodies with an error, want 1 (the malformed one)", failed)
	}
	// Processed bodies go after the retention.
	if err := webhooks.Prune(context.Background(), a.db, a.clock.Now().Add(-webhooks.Retention), 100); err != nil || a.storedEvents() != 2 {
		t.Fatalf("pruned young bodies: %v, %d left", err, a.storedEvents())
	}
	a.clock.Advance(webhooks.Retention + time.Hour)
	if err := webhooks.Prune(context.Background(), a.db, a.clock.Now().Add(-webhooks.Retention), 100); err != nil || a.storedEvents() != 0 {
		t.Fatalf("prune: %v, %d left", err, a.storedEvents())
	}
}

func TestWebhookWithoutAppSecretRefusesOutsidePosts(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *web.Config) { c.Channel.AppSecret = "" })
	// The harness's intake was built from the config after options.
	body := statusBody("1234567", stat{ID: "wamid.x", Status: "delivered", TS: "1700000000"})
	for _, sig := range []string{"", webhook.SignatureHeader(nil, body), webhook.SignatureHeader([]byte(testAppSecret), body)} {
		if code := a.postWebhook(body, sig); code != http.StatusUnauthorized {
			t.Errorf("signature %q: %d", sig, code)
		}
	}
	// In-process events (the sandbox) come in.
	if err := a.webhooks.Accept(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	if n := a.storedEvents(); n != 1 {
		t.Fatalf("stored %d", n)
	}
}

func TestWebhookStatusesThroughTheQueue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Café Rosa", "rosa@example.com")
	tn := a.tenantOf("rosa@example.com")
	setSender(t, a.db, tn, "1111111")
	ms := acceptedMessages(t, tn, "rosa", 3)
	a.startJobs()
	events, stop := a.queue.Finished()
	defer stop()
	priced := map[string]any{"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}
	// The same delivered three times, read before delivered for the
	// second, failed after delivered for the third.
	for range 3 {
		if code := a.postSigned(statusBody("1111111", stat{ID: *ms[0].WAMID, Status: "delivered", TS: "1700000010", Pricing: priced})); code != 200 {
			t.Fatalf("post: %d", code)
		}
	}
	a.postSigned(statusBody("1111111", stat{ID: *ms[1].WAMID, Status: "read", TS: "1700000020"}))
	a.postSigned(statusBody("1111111", stat{ID: *ms[1].WAMID, Status: "delivered", TS: "1700000015"}))
	a.postSigned(statusBody("1111111", stat{ID: *ms[2].WAMID, Status: "delivered", TS: "1700000015"},
		stat{ID: *ms[2].WAMID, Status: "failed", TS: "1700000016", Errors: []map[string]any{{"code": 131026, "title": "Message undeliverable"}}}))
	deadline := time.After(20 * time.Second)
	for a.pendingEvents() > 0 {
		select {
		case <-events:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("webhook bodies not processed by the queue")
		}
	}
	m0, m1, m2 := msgState(t, tn, ms[0].ID), msgState(t, tn, ms[1].ID), msgState(t, tn, ms[2].ID)
	if m0.State != messages.Delivered || m0.PricingCategory != "marketing" || m0.PricingType != "regular" || !m0.DeliveredAt.Equal(time.Unix(1700000010, 0)) {
		t.Errorf("duplicate delivered: %+v", m0)
	}
	if m1.State != messages.Read || m1.DeliveredAt == nil {
		t.Errorf("read then delivered: %+v", m1)
	}
	if m2.State != messages.Delivered || m2.ErrorCode == nil || *m2.ErrorCode != 131026 || m2.FailedAt == nil {
		t.Errorf("failed after delivered: %+v", m2)
	}
}

func (a *app) pendingEvents() int64 {
	var n int64
	a.db.Gorm.Model(&webhooks.Event{}).Where("processed_at IS NULL").Count(&n)
	return n
}

func TestWebhookUnknownNumberAndMessageAreKeptNotApplied(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("A", "a@example.com")
	a.signup("B", "b@example.com")
	ta, tb := a.tenantOf("a@example.com"), a.tenantOf("b@example.com")
	setSender(t, a.db, ta, "2222222")
	setSender(t, a.db, tb, "3333333")
	ma := acceptedMessages(t, ta, "a", 2)
	ctx := context.Background()
	alex, err := contacts.Create(ctx, ta, contacts.ContactInput{Phone: "+4915199999999", Name: "Alex"}, "system")
	if err != nil {
		t.Fatal(err)
	}
	// An unknown number; B's number with A's wamid and A's message id;
	// B's number with A's contact saying STOP.
	a.postSigned(statusBody("9999999", stat{ID: *ma[0].WAMID, Status: "read", TS: "1700000000"}))
	a.postSigned(statusBody("3333333", stat{ID: *ma[0].WAMID, Status: "read", TS: "1700000000"},
		stat{ID: "wamid.unknown", Status: "read", TS: "1700000000", Callback: fmt.Sprint(ma[1].ID)}))
	a.postSigned(inboundBody("3333333", "4915199999999", map[string]any{"id": "wamid.stopB", "timestamp": "1700000000", "type": "text", "text": map[string]any{"body": "STOP"}}))
	a.process()
	for _, m := range ma {
		if got := msgState(t, ta, m.ID); got.State != messages.Accepted {
			t.Errorf("A's message moved by another number: %+v", got)
		}
	}
	if c, _ := contacts.ByID(ctx, ta, alex.ID); c.ConsentState == contacts.ConsentOptedOut {
		t.Error("B's STOP opted out A's contact")
	}
	if sup, _ := contacts.IsSuppressed(ctx, ta, "+4915199999999"); sup {
		t.Error("B's STOP suppressed A's number")
	}
	if n := a.unmatched(webhooks.UnknownNumber); n != 1 {
		t.Errorf("unknown number kept %d", n)
	}
	if n := a.unmatched(webhooks.UnknownMessage); n != 2 {
		t.Errorf("unknown messages kept %d", n)
	}
	// The review page lists them with counts.
	p := a.admin().get("/admin/webhooks")
	if p.Status != 200 || p.Text(`[data-testid="count-unknown_number-9999999"] [data-testid="count"]`) != "1" ||
		p.Text(`[data-testid="count-unknown_message-3333333"] [data-testid="count"]`) != "2" {
		t.Fatalf("review page: %d %q", p.Status, p.Text("main"))
	}
	// A status that came before its message was known is matched later.
	mb, err := messages.Queue(ctx, tb, []messages.New{{To: "+4915100000001", TemplateName: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := messages.MarkAccepted(ctx, tb, mb[0].ID, "wamid.unknown"); err != nil {
		t.Fatal(err)
	}
	if err := a.webhooks.Rematch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := msgState(t, tb, mb[0].ID); got.State != messages.Read {
		t.Errorf("rematched: %+v", got)
	}
	if got := msgState(t, ta, ma[1].ID); got.State != messages.Accepted {
		t.Errorf("rematch touched A: %+v", got)
	}
}

func TestWebhookStopOptsOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Rosa", "rosa@example.com")
	tn := a.tenantOf("rosa@example.com")
	setSender(t, a.db, tn, "4444444")
	ctx := context.Background()
	mk := func(phone string) *contacts.Contact {
		c, err := contacts.Create(ctx, tn, contacts.ContactInput{Phone: phone, Name: "Kunde " + phone,
			Consent: contacts.ConsentInput{Source: "web_form", Date: "2026-01-02", Wording: "Angebote per WhatsApp"}}, "system")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	text, button, chatty := mk("+4915111111111"), mk("+4915122222222"), mk("+4915133333333")
	a.postSigned(inboundBody("4444444", "4915111111111", map[string]any{"id": "wamid.t", "timestamp": "1772442000", "type": "text", "text": map[string]any{"body": "  Stopp "}}))
	a.postSigned(inboundBody("4444444", "4915122222222", map[string]any{"id": "wamid.b", "timestamp": "1772442000", "type": "button",
		"button": map[string]any{"payload": webhook.OptOutPayload, "text": "Keine Werbung"}}))
	replied := inboundBody("4444444", "4915133333333", map[string]any{"id": "wamid.c", "timestamp": "1772442000", "type": "text", "text": map[string]any{"body": "Habt ihr morgen offen?"}})
	a.postSigned(replied)
	a.postSigned(replied) // delivered twice
	a.process()
	for _, c := range []*contacts.Contact{text, button} {
		got, _ := contacts.ByID(ctx, tn, c.ID)
		if got.ConsentState != contacts.ConsentOptedOut {
			t.Errorf("%s not opted out", c.Phone)
		}
		if sup, _ := contacts.IsSuppressed(ctx, tn, c.Phone); !sup {
			t.Errorf("%s has no suppression", c.Phone)
		}
		hist, _ := contacts.ConsentHistory(ctx, tn, c.ID)
		last := hist[len(hist)-1]
		for _, e := range hist {
			if e.Kind == "opt_out" {
				last = e
			}
		}
		if last.Kind != "opt_out" || !strings.Contains(last.Source, "wamid.") || last.RecordedBy != "webhook" {
			t.Errorf("%s evidence: %+v", c.Phone, last)
		}
	}
	if got, _ := contacts.ByID(ctx, tn, chatty.ID); got.ConsentState != contacts.ConsentOptedIn {
		t.Errorf("a question opted out: %s", got.ConsentState)
	}
	at := time.Unix(1772442000, 0)
	if open, _ := messages.ServiceWindowOpen(ctx, tn, chatty.ID, at.Add(time.Hour)); !open {
		t.Error("reply opened no service window")
	}
	rs, _ := messages.Replies(ctx, tn, chatty.ID, 10)
	if len(rs) != 1 || rs[0].Body != "Habt ihr morgen offen?" || rs[0].UserID != "DE.u4915133333333" {
		t.Fatalf("replies: %+v", rs)
	}
	p := owner.get(contactPath(chatty.ID, ""))
	if p.Status != 200 || !strings.Contains(p.Text(`[data-testid="reply"]`), "Habt ihr morgen offen?") {
		t.Fatalf("contact page replies: %d %q", p.Status, p.Text(`[data-testid="replies"]`))
	}
}

func TestWebhookThousandStatusesAnswered(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Café Rosa", "rosa@example.com")
	tn := a.tenantOf("rosa@example.com")
	setSender(t, a.db, tn, "5555555")
	ms := acceptedMessages(t, tn, "k", 1000)
	sts := make([]stat, len(ms))
	for i, m := range ms {
		sts[i] = stat{ID: *m.WAMID, Status: "delivered", TS: "1700000000", Callback: fmt.Sprint(m.ID),
			Pricing: map[string]any{"pricing_model": "PMP", "category": "utility", "type": "regular"}}
	}
	body := statusBody("5555555", sts...)
	start := time.Now()
	if code := a.postSigned(body); code != 200 {
		t.Fatalf("1,000 statuses: %d", code)
	}
	t.Logf("1,000 statuses (%d bytes) answered in %v", len(body), time.Since(start))
	a.process()
	var n int64
	a.db.Gorm.Model(&messages.Message{}).Where("business_id = ? AND state = ?", tn.BusinessID(), messages.Delivered).Count(&n)
	if n != 1000 {
		t.Fatalf("%d delivered, want 1000", n)
	}
}

func TestWebhookTemplateEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "102290129340398", "time": 1700000000,
		"changes": []any{
			map[string]any{"field": "message_template_status_update", "value": map[string]any{"event": "REJECTED", "message_template_id": 594425479261596,
				"message_template_name": "offer_v1", "message_template_language": "de", "reason": "INVALID_FORMAT", "message_template_category": "MARKETING"}},
			map[string]any{"field": "message_template_quality_update", "value": map[string]any{"previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
				"message_template_id": 594425479261596, "message_template_name": "offer_v1", "message_template_language": "de"}},
			map[string]any{"field": "template_category_update", "value": map[string]any{"message_template_id": 594425479261596, "message_template_name": "offer_v1",
				"message_template_language": "de", "previous_category": "UTILITY", "new_category": "MARKETING"}},
		}}}})
	if code := a.postSigned(b); code != 200 {
		t.Fatal(code)
	}
	a.process()
	evs := a.templateEvents.all()
	if len(evs) != 3 {
		t.Fatalf("%d template events: %+v", len(evs), evs)
	}
	if e := evs[0]; e.Kind != channel.TemplateStatus || e.Status != "REJECTED" || e.Reason != "INVALID_FORMAT" || e.ExternalID != "594425479261596" || e.AccountID != "102290129340398" || e.Language != "de" {
		t.Errorf("status event: %+v", e)
	}
	if e := evs[1]; e.Kind != channel.TemplateQuality || e.Quality != "YELLOW" {
		t.Errorf("quality event: %+v", e)
	}
	if e := evs[2]; e.Kind != channel.TemplateCategory || e.Category != "MARKETING" {
		t.Errorf("category event: %+v", e)
	}
}
