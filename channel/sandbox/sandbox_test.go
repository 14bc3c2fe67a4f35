package sandbox_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// sink records what the sandbox emits, as the webhook intake would get it.
type sink struct {
	mu   sync.Mutex
	raws [][]byte
}

func (s *sink) Accept(_ context.Context, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raws = append(s.raws, append([]byte(nil), raw...))
	return nil
}

func (s *sink) bodies() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.raws {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}

var clock = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func opts(seed uint64) sandbox.Options {
	return sandbox.Options{
		Rand:  rand.New(rand.NewPCG(seed, seed)),
		Now:   func() time.Time { return clock },
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	}
}

var sender = channel.Sender{BusinessID: 7, PhoneNumberID: "1111122222", AccountID: "3333344444"}

func msg(id int64) channel.Message {
	return channel.Message{ID: id, To: "+4915123456789", Template: "offer_v1", Language: "de", Body: []string{"Alex"}}
}

// value digs entry[0].changes[0] out of a body and checks the envelope.
func change(t *testing.T, b map[string]any) (field string, value map[string]any) {
	t.Helper()
	if b["object"] != "whatsapp_business_account" {
		t.Fatalf("object = %v", b["object"])
	}
	entry := b["entry"].([]any)[0].(map[string]any)
	if entry["id"] != sender.AccountID {
		t.Fatalf("entry id = %v, want the account id", entry["id"])
	}
	ch := entry["changes"].([]any)[0].(map[string]any)
	return ch["field"].(string), ch["value"].(map[string]any)
}

func TestSendEmitsSentDeliveredReadAndStop(t *testing.T) {
	t.Parallel()
	o := opts(1)
	o.FailShare, o.HeldShare, o.ReadShare, o.StopShare, o.DuplicateShare, o.ReorderShare = -1, -1, 1, 1, -1, -1
	var s sink
	p := sandbox.New(&s, o)
	defer p.Close()
	sent, err := p.Send(context.Background(), sender, msg(42))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sent.WAMID, "wamid.SANDBOX") || sent.Status != "accepted" {
		t.Fatalf("sent = %+v", sent)
	}
	p.Wait()
	bodies := s.bodies()
	if len(bodies) != 4 {
		t.Fatalf("%d events, want sent, delivered, read, STOP", len(bodies))
	}
	for i, want := range []string{"sent", "delivered", "read"} {
		field, v := change(t, bodies[i])
		if field != "messages" || v["messaging_product"] != "whatsapp" {
			t.Fatalf("field %q value %v", field, v)
		}
		if v["metadata"].(map[string]any)["phone_number_id"] != sender.PhoneNumberID {
			t.Fatalf("metadata = %v", v["metadata"])
		}
		st := v["statuses"].([]any)[0].(map[string]any)
		wantSt := map[string]any{
			"id": sent.WAMID, "status": want, "timestamp": "1796385600", "recipient_id": "4915123456789",
			"recipient_user_id": st["recipient_user_id"], "biz_opaque_callback_data": "42",
			"pricing": map[string]any{"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"},
		}
		if !reflect.DeepEqual(st, wantSt) {
			t.Fatalf("status %d = %v\nwant %v", i, st, wantSt)
		}
		if u, _ := st["recipient_user_id"].(string); !strings.HasPrefix(u, "SANDBOX.") {
			t.Fatalf("recipient_user_id = %v", st["recipient_user_id"])
		}
	}
	_, v := change(t, bodies[3])
	in := v["messages"].([]any)[0].(map[string]any)
	if in["from"] != "4915123456789" || in["type"] != "text" || in["text"].(map[string]any)["body"] != "STOP" ||
		in["timestamp"] != "1796385600" || !strings.HasPrefix(in["id"].(string), "wamid.") || in["from_user_id"] == "" {
		t.Fatalf("inbound = %v", in)
	}
	if c := v["contacts"].([]any)[0].(map[string]any); c["wa_id"] != "4915123456789" || c["user_id"] != in["from_user_id"] {
		t.Fatalf("contacts = %v", c)
	}
}

func TestFailuresCarryRealCodes(t *testing.T) {
	t.Parallel()
	o := opts(2)
	o.FailShare = 1
	var s sink
	p := sandbox.New(&s, o)
	defer p.Close()
	// A utility template: 131050 (marketing opt-out) is never its failure.
	if _, err := p.SubmitTemplate(context.Background(), sender, channel.Template{Name: "offer_v1", Language: "de", Category: "UTILITY", Body: "Hallo {{1}}, Ihre Bestellung ist da.", BodySamples: []string{"Alex"}}); err != nil {
		t.Fatal(err)
	}
	seen := map[float64]bool{}
	for i := range 200 {
		if _, err := p.Send(context.Background(), sender, msg(int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	p.Wait()
	for _, b := range s.bodies() {
		field, v := change(t, b)
		if field != "messages" {
			continue
		}
		st := v["statuses"].([]any)[0].(map[string]any)
		if st["status"] != "failed" {
			t.Fatalf("status %v with FailShare 1", st["status"])
		}
		if _, ok := st["pricing"]; ok {
			t.Fatal("a failed status is not priced")
		}
		e := st["errors"].([]any)[0].(map[string]any)
		if e["title"] == "" || e["error_data"].(map[string]any)["details"] == "" {
			t.Fatalf("error = %v", e)
		}
		seen[e["code"].(float64)] = true
	}
	if !seen[131026] || !seen[131049] || !seen[131047] || seen[131050] {
		t.Fatalf("codes seen %v: want 131026, 131049, 131047 and no 131050 for a utility template", seen)
	}
	// A marketing send (template unknown to the sandbox) can fail with 131050.
	seen = map[float64]bool{}
	var s2 sink
	p2 := sandbox.New(&s2, o)
	defer p2.Close()
	for i := range 200 {
		m := msg(int64(i + 1))
		m.Template = "unknown_promo"
		if _, err := p2.Send(context.Background(), sender, m); err != nil {
			t.Fatal(err)
		}
	}
	p2.Wait()
	for _, b := range s2.bodies() {
		_, v := change(t, b)
		seen[v["statuses"].([]any)[0].(map[string]any)["errors"].([]any)[0].(map[string]any)["code"].(float64)] = true
	}
	if !seen[131050] {
		t.Fatalf("codes seen %v: want 131050 among marketing failures", seen)
	}
}

func TestSeededSandboxIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func() ([]string, []string) {
		var s sink
		p := sandbox.New(&s, opts(99))
		var ids []string
		for i := range 300 {
			sent, err := p.Send(context.Background(), sender, msg(int64(i+1)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sent.WAMID+" "+sent.Status)
		}
		p.Wait()
		p.Close()
		var raws []string
		for _, r := range s.raws {
			raws = append(raws, string(r))
		}
		// Goroutines interleave; the set of bodies is what is fixed.
		sortStrings(raws)
		return ids, raws
	}
	a, ea := run()
	b, eb := run()
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ea, eb) {
		t.Fatal("same seed, different answers or events")
	}
	unique := map[string]bool{}
	held := 0
	for _, id := range a {
		unique[strings.Fields(id)[0]] = true
		if strings.HasSuffix(id, "held_for_quality_assessment") {
			held++
		}
	}
	if len(unique) != len(a) {
		t.Fatalf("%d unique wamids of %d", len(unique), len(a))
	}
	if held == 0 {
		t.Fatal("no send was held for quality assessment in 300 (default share 2%)")
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestCloseStopsPendingEventsAndLeaksNothing(t *testing.T) {
	t.Parallel()
	var s sink
	p := sandbox.New(&s, sandbox.Options{MinDelay: time.Hour, MaxDelay: time.Hour})
	for i := range 50 {
		if _, err := p.Send(context.Background(), sender, msg(int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the pending emissions")
	}
	if len(s.bodies()) != 0 {
		t.Fatal("events emitted after an hour's delay was cut short")
	}
	_, err := p.Send(context.Background(), sender, msg(1))
	if e, ok := channel.AsError(err); !ok || !e.Retry {
		t.Fatalf("send after Close = %v, want a retryable *channel.Error", err)
	}
}

func TestReviewRules(t *testing.T) {
	t.Parallel()
	ok := channel.Template{Name: "order_ready", Language: "en", Category: "UTILITY", Header: "Order {{1}}", HeaderSample: "A-17",
		Body: "Hello {{1}}, your order {{2}} is ready.", BodySamples: []string{"Alex", "A-17"}, Footer: "Reply STOP to opt out"}
	cases := []struct {
		name   string
		change func(*channel.Template)
		reason string
		rule   string
	}{
		{"approved", func(*channel.Template) {}, "NONE", ""},
		{"bad name", func(t *channel.Template) { t.Name = "Order Ready" }, "INVALID_FORMAT", "rule 1"},
		{"header sample missing", func(t *channel.Template) { t.HeaderSample = "" }, "INVALID_FORMAT", "rule 2"},
		{"two header variables", func(t *channel.Template) { t.Header = "{{1}} {{2}}" }, "INVALID_FORMAT", "rule 2"},
		{"body sample missing", func(t *channel.Template) { t.BodySamples = []string{"Alex"} }, "INVALID_FORMAT", "rule 3"},
		{"empty body sample", func(t *channel.Template) { t.BodySamples = []string{"Alex", " "} }, "INVALID_FORMAT", "rule 3"},
		{"variables out of order", func(t *channel.Template) { t.Body = "Hello {{2}}, order {{1}} is ready." }, "INVALID_FORMAT", "rule 3"},
		{"extra samples", func(t *channel.Template) { t.BodySamples = append(t.BodySamples, "x") }, "INVALID_FORMAT", "rule 3"},
		{"ends with variable", func(t *channel.Template) { t.Body = "Hello {{1}}, your order is {{2}}" }, "INVALID_FORMAT", "rule 4"},
		{"promotional utility", func(t *channel.Template) { t.Body = "Hello {{1}}, order {{2}} is ready. 20% off your next visit!" }, "INCORRECT_CATEGORY", "rule 5"},
		{"german promotional", func(t *channel.Template) { t.Body = "Hallo {{1}}, Bestellung {{2}}: jetzt mit Rabatt." }, "INCORRECT_CATEGORY", "rule 5"},
		{"promotional marketing is fine", func(t *channel.Template) { t.Category = "MARKETING"; t.Body = "Hello {{1}}, sale on {{2}} today!" }, "NONE", ""},
	}
	for _, c := range cases {
		tpl := ok
		tpl.BodySamples = append([]string(nil), ok.BodySamples...)
		c.change(&tpl)
		verdict, reason, rule := sandbox.Review(tpl)
		if reason != c.reason || !strings.HasPrefix(rule, c.rule) || (reason == "NONE") != (verdict == "APPROVED") {
			t.Errorf("%s: %s %s %q, want %s %q", c.name, verdict, reason, rule, c.reason, c.rule)
		}
	}
}

func TestSubmitEmitsTemplateStatusUpdate(t *testing.T) {
	t.Parallel()
	var s sink
	p := sandbox.New(&s, opts(3))
	defer p.Close()
	sub, err := p.SubmitTemplate(context.Background(), sender, channel.Template{Name: "ping", Language: "en_US", Category: "UTILITY",
		Body: "Hi {{1}}, free coffee today.", BodySamples: []string{"Alex"}})
	if err != nil || sub.Status != "PENDING" || sub.ExternalID == "" || sub.Category != "UTILITY" {
		t.Fatalf("submitted = %+v, %v", sub, err)
	}
	p.Wait()
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(string(s.raws[0])))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	field, v := change(t, raw)
	if field != "message_template_status_update" {
		t.Fatalf("field %q", field)
	}
	if v["event"] != "REJECTED" || v["reason"] != "INCORRECT_CATEGORY" || v["message_template_id"].(json.Number).String() != sub.ExternalID ||
		v["message_template_name"] != "ping" || v["message_template_language"] != "en_US" ||
		!strings.Contains(v["other_info"].(map[string]any)["description"].(string), "rule 5") {
		t.Fatalf("value = %v", v)
	}
}

// A business without a sender sends from "sandbox-<id>", stored on the
// business once, so the intake finds it by the events' phone_number_id.
func TestSyntheticSenderIsStoredAndRoutes(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	_, b, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Sandy", NewUserInput: models.NewUserInput{Name: "S", Email: "s@example.com", Password: "long enough pw"}})
	if err != nil {
		t.Fatal(err)
	}
	s0 := sandbox.SenderFor(b)
	if want := "sandbox-" + itoa(b.ID); s0.PhoneNumberID != want || s0.AccountID != want {
		t.Fatalf("SenderFor = %+v", s0)
	}
	o := opts(4)
	o.FailShare, o.ReadShare, o.StopShare = -1, -1, -1
	o.Senders = db
	var s sink
	p := sandbox.New(&s, o)
	defer p.Close()
	// Both ways of asking: SenderFor's (first: it alone stores the id
	// too), and an empty sender.
	for _, snd := range []channel.Sender{s0, {BusinessID: b.ID}} {
		// Checked right after each send: the event must route by itself.
		routed := func(raw []byte) error {
			var body map[string]any
			json.Unmarshal(raw, &body)
			entry := body["entry"].([]any)[0].(map[string]any)
			pn := entry["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)["metadata"].(map[string]any)["phone_number_id"].(string)
			got, err := db.BusinessOfNumber(ctx, pn)
			if err != nil || got.ID != b.ID || entry["id"] != got.WABAID {
				t.Errorf("event for %q (entry %v) routes to %v, %v", pn, entry["id"], got, err)
			}
			return nil
		}
		var n int
		p := sandbox.New(eventsFunc(func(raw []byte) error { n++; return routed(raw) }), o)
		if _, err := p.Send(ctx, snd, msg(1)); err != nil {
			t.Fatal(err)
		}
		p.Wait()
		p.Close()
		if n == 0 {
			t.Fatal("no event")
		}
	}
	if _, err := p.Send(ctx, channel.Sender{}, msg(1)); err == nil {
		t.Fatal("a send with neither business nor sender was accepted")
	} else if e, ok := channel.AsError(err); !ok || !e.Config {
		t.Fatalf("err = %v, want a Config error", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type eventsFunc func(raw []byte) error

func (f eventsFunc) Accept(_ context.Context, raw []byte) error { return f(raw) }

func TestDuplicatesAndReorders(t *testing.T) {
	t.Parallel()
	statuses := func(o sandbox.Options) []string {
		var s sink
		p := sandbox.New(&s, o)
		defer p.Close()
		if _, err := p.Send(context.Background(), sender, msg(1)); err != nil {
			t.Fatal(err)
		}
		p.Wait()
		var out []string
		for _, b := range s.bodies() {
			_, v := change(t, b)
			if st, ok := v["statuses"]; ok {
				out = append(out, st.([]any)[0].(map[string]any)["status"].(string))
			}
		}
		return out
	}
	o := opts(6)
	o.FailShare, o.ReadShare, o.StopShare, o.DuplicateShare, o.ReorderShare = -1, 1, -1, -1, 1
	if got := statuses(o); !reflect.DeepEqual(got, []string{"sent", "read", "delivered"}) {
		t.Fatalf("reordered: %v", got)
	}
	o = opts(6)
	o.FailShare, o.ReadShare, o.StopShare, o.DuplicateShare, o.ReorderShare = -1, 1, -1, 1, -1
	got := statuses(o)
	if len(got) != 4 {
		t.Fatalf("duplicated: %v", got)
	}
	counts := map[string]int{}
	for _, s := range got {
		counts[s]++
	}
	if counts["sent"]+counts["delivered"]+counts["read"] != 4 || len(counts) != 3 {
		t.Fatalf("duplicated: %v", got)
	}
}
