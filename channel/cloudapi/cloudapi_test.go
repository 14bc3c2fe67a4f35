package cloudapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/cloudapi"
	"github.com/optline/optline/channel/providertest"
)

const token = "EAAG-secret-token"

var sender = channel.Sender{BusinessID: 7, PhoneNumberID: "106540352242922", AccountID: "102290129340398"}

type answer struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

// fake is the Cloud API as far as Optline uses it: it checks every
// request as the platform would and answers like it.
type fake struct {
	t    *testing.T
	mu   sync.Mutex
	next []answer
	last map[string]any // the last request's JSON
	path string
	n    int
	srv  *httptest.Server
}

func newFake(t *testing.T) *fake {
	f := &fake{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) queue(a ...answer) { f.mu.Lock(); f.next = append(f.next, a...); f.mu.Unlock() }

func apiErr(status, code int, msg string) answer {
	return answer{status: status, body: fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":"details of %d"},"fbtrace_id":"AbCdEf"}}`, msg, code, code)}
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status, code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":%d}}`, msg, code)
	}
	if r.Method != http.MethodPost {
		fail(400, 100, "want POST")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		fail(401, 190, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		fail(400, 100, "want application/json")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		fail(400, 100, "body is not JSON")
		return
	}
	f.mu.Lock()
	f.last, f.path = body, r.URL.Path
	f.n++
	n := f.n
	var a *answer
	if len(f.next) > 0 {
		a = &f.next[0]
		f.next = f.next[1:]
	}
	f.mu.Unlock()
	if a != nil {
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/" + cloudapi.DefaultVersion + "/" + sender.PhoneNumberID + "/messages":
		if body["messaging_product"] != "whatsapp" || body["type"] != "template" || strings.HasPrefix(body["to"].(string), "+") {
			fail(400, 100, "bad message")
			return
		}
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.HBgLNDkxNTEyMzQ1Njc4OR%04d","message_status":"accepted"}]}`, body["to"], body["to"], n)
	case "/" + cloudapi.DefaultVersion + "/" + sender.AccountID + "/message_templates":
		if body["name"] == "" || body["components"] == nil {
			fail(400, 100, "bad template")
			return
		}
		fmt.Fprintf(w, `{"id":"59457%010d","status":"PENDING","category":%q}`, n, body["category"])
	default:
		fail(400, 100, "Unsupported post request. Object with ID does not exist")
	}
}

func provider(t *testing.T, f *fake, client *http.Client) *cloudapi.Provider {
	p, err := cloudapi.New(cloudapi.Config{BaseURL: f.srv.URL, AccessToken: token, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestContract(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		f := newFake(t)
		return providertest.Harness{Provider: provider(t, f, nil), Sender: sender, Fail: func(op string, c providertest.Class) {
			switch c {
			case providertest.Retry:
				a := apiErr(429, 130429, "(#130429) Rate limit hit")
				a.header = map[string]string{"Retry-After": "2"}
				f.queue(a)
			case providertest.Config:
				f.queue(apiErr(401, 190, "Error validating access token: Session has expired"))
			case providertest.Permanent:
				f.queue(apiErr(400, 132001, "(#132001) Template name does not exist in the translation"))
			}
		}}
	})
}

func TestSendJSON(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := provider(t, f, nil)
	sent, err := p.Send(context.Background(), sender, providertest.Message(4711))
	if err != nil {
		t.Fatal(err)
	}
	if sent.WAMID != "wamid.HBgLNDkxNTEyMzQ1Njc4OR0001" || sent.Status != "accepted" {
		t.Fatalf("sent = %+v", sent)
	}
	var want map[string]any
	json.Unmarshal([]byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915123456789","type":"template",
		"biz_opaque_callback_data":"4711","template":{"name":"offer_v1","language":{"code":"de"},"components":[
		{"type":"header","parameters":[{"type":"text","text":"Sommer"}]},
		{"type":"body","parameters":[{"type":"text","text":"Alex"},{"type":"text","text":"20 %"}]},
		{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"summer?c=42"}]}]}}`), &want)
	if !reflect.DeepEqual(f.last, want) {
		got, _ := json.Marshal(f.last)
		t.Fatalf("body\n%s", got)
	}
	// held_for_quality_assessment comes back as it is.
	f.queue(answer{status: 200, body: `{"messaging_product":"whatsapp","contacts":[{"input":"4915123456789","wa_id":"4915123456789"}],"messages":[{"id":"wamid.X1","message_status":"held_for_quality_assessment"}]}`})
	if sent, err := p.Send(context.Background(), sender, providertest.Message(1)); err != nil || sent.Status != "held_for_quality_assessment" {
		t.Fatalf("held = %+v, %v", sent, err)
	}
}

func TestTemplateJSON(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := provider(t, f, nil)
	tpl := providertest.Template()
	tpl.Buttons = append(tpl.Buttons, channel.Button{Type: channel.ButtonPhone, Text: "Anrufen", Phone: "+4930123456"})
	sub, err := p.SubmitTemplate(context.Background(), sender, tpl)
	if err != nil || sub.ExternalID != "594570000000001" || sub.Status != "PENDING" || sub.Category != "MARKETING" {
		t.Fatalf("submitted %+v, %v", sub, err)
	}
	if f.path != "/"+cloudapi.DefaultVersion+"/102290129340398/message_templates" {
		t.Fatalf("path %s", f.path)
	}
	var want map[string]any
	json.Unmarshal([]byte(`{"name":"offer_v1","language":"de","category":"MARKETING","components":[
		{"type":"HEADER","format":"TEXT","text":"Angebot {{1}}","example":{"header_text":["Sommer"]}},
		{"type":"BODY","text":"Hallo {{1}}, heute {{2}} auf alles.","example":{"body_text":[["Alex","20 %"]]}},
		{"type":"FOOTER","text":"Antworte STOP zum Abbestellen"},
		{"type":"BUTTONS","buttons":[
			{"type":"URL","text":"Zum Angebot","url":"https://shop.example/{{1}}","example":["https://shop.example/summer"]},
			{"type":"QUICK_REPLY","text":"Stop promotions"},
			{"type":"PHONE_NUMBER","text":"Anrufen","phone_number":"+4930123456"}]}]}`), &want)
	if !reflect.DeepEqual(f.last, want) {
		got, _ := json.Marshal(f.last)
		t.Fatalf("body\n%s", got)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name          string
		a             answer
		code          int
		retry, config bool
		after         time.Duration // exact, or a minimum when negative
	}{
		{"throughput with Retry-After", answer{status: 429, header: map[string]string{"Retry-After": "7"}, body: apiErr(429, 130429, "Rate limit hit").body}, 130429, true, false, 7 * time.Second},
		{"same user too fast", apiErr(400, 131056, "(Business Account, Consumer Account) pair rate limit hit"), 131056, true, false, 6 * time.Second},
		{"5xx garbage", answer{status: 502, body: "<html>Bad Gateway</html>"}, 0, true, false, 10 * time.Second},
		{"5xx with an HTTP date", answer{status: 503, header: map[string]string{"Retry-After": date}, body: ""}, 0, true, false, -80 * time.Second},
		{"5xx API error", apiErr(500, 131000, "Something went wrong"), 131000, true, false, 10 * time.Second},
		{"undeliverable", apiErr(400, 131026, "Message undeliverable"), 131026, false, false, 0},
		{"re-engagement", apiErr(400, 131047, "Re-engagement message"), 131047, false, false, 0},
		{"ecosystem", apiErr(400, 131049, "healthy ecosystem engagement"), 131049, false, false, 0},
		{"opted out of marketing", apiErr(400, 131050, "stopped marketing messages"), 131050, false, false, 0},
		{"parameter count", apiErr(400, 132000, "Number of parameters does not match"), 132000, false, false, 0},
		{"template paused", apiErr(400, 132015, "Template is paused"), 132015, false, false, 0},
		{"invalid parameter", apiErr(400, 100, "Invalid parameter"), 100, false, true, 0},
		{"token expired", apiErr(401, 190, "Session has expired"), 190, false, true, 0},
		{"401 without body", answer{status: 401}, 0, false, true, 0},
		{"200 garbage", answer{status: 200, body: "not json at all"}, 0, false, false, 0},
		{"200 without wamid", answer{status: 200, body: `{"messaging_product":"whatsapp","messages":[]}`}, 0, false, false, 0},
		{"answer too large", answer{status: 200, body: `{"x":"` + strings.Repeat("a", 2<<20) + `"}`}, 0, false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.queue(c.a)
			_, err := provider(t, f, nil).Send(context.Background(), sender, providertest.Message(1))
			e, ok := channel.AsError(err)
			if !ok {
				t.Fatalf("err %T %v", err, err)
			}
			if e.Code != c.code || e.Retry != c.retry || e.Config != c.config {
				t.Fatalf("%v: code %d retry %v config %v", e, e.Code, e.Retry, e.Config)
			}
			if (c.after >= 0 && e.RetryAfter != c.after) || (c.after < 0 && e.RetryAfter < -c.after) {
				t.Fatalf("RetryAfter %v, want %v", e.RetryAfter, c.after)
			}
			if strings.Contains(e.Error(), token) || strings.Contains(fmt.Sprint(err), token) {
				t.Fatal("the token is in the error")
			}
		})
	}
}

func TestTransportErrorsRetry(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.queue(answer{status: 200, delay: 2 * time.Second, body: "{}"})
	p := provider(t, f, &http.Client{Timeout: 100 * time.Millisecond})
	_, err := p.Send(context.Background(), sender, providertest.Message(1))
	if e, ok := channel.AsError(err); !ok || !e.Retry || e.RetryAfter <= 0 || !strings.Contains(e.Title, "in time") {
		t.Fatalf("time-out: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	p2, _ := cloudapi.New(cloudapi.Config{BaseURL: closed.URL, AccessToken: token})
	_, err = p2.Send(context.Background(), sender, providertest.Message(1))
	if e, ok := channel.AsError(err); !ok || !e.Retry || strings.Contains(err.Error(), token) {
		t.Fatalf("connection refused: %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if _, err := cloudapi.New(cloudapi.Config{}); err == nil {
		t.Fatal("no token accepted")
	}
	if _, err := cloudapi.New(cloudapi.Config{AccessToken: "x", BaseURL: "ftp://x"}); err == nil {
		t.Fatal("ftp base URL accepted")
	}
	f := newFake(t)
	p := provider(t, f, nil)
	// A sandbox sender is not a Cloud API sender.
	_, err := p.Send(context.Background(), channel.Sender{BusinessID: 7, PhoneNumberID: "sandbox-7", AccountID: "sandbox-7"}, providertest.Message(1))
	if e, ok := channel.AsError(err); !ok || !e.Config {
		t.Fatalf("sandbox sender: %v", err)
	}
	// A bad number or a missing template is the message's fault, not the
	// deployment's: permanent, and no request.
	bad := providertest.Message(1)
	bad.To = "015123456789"
	if _, err := p.Send(context.Background(), sender, bad); err == nil {
		t.Fatal("a national number was sent")
	} else if e, _ := channel.AsError(err); e == nil || e.Config || e.Retry {
		t.Fatalf("bad number: %v", err)
	}
	bad = providertest.Message(1)
	bad.Template = ""
	if _, err := p.Send(context.Background(), sender, bad); err == nil {
		t.Fatal("a message without a template was sent")
	} else if e, _ := channel.AsError(err); e == nil || e.Config || e.Retry {
		t.Fatalf("no template: %v", err)
	}
	if f.n != 0 {
		t.Fatal("a request went out for an incomplete sender or message")
	}
}
