package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optline/optline/channel/webhook"
)

// The fake platform runs in a child process of its own (campaignbench
// -fake), so the CPU time the benchmark reports is the portal's alone. It
// answers POST /{version}/{phone-number-id}/messages like the Cloud API
// (a wamid for each send), counts the sends it took per second of arrival
// and per message id (biz_opaque_callback_data: duplicates), and posts
// the sent, delivered and read status webhooks of each message back to
// the portal's intake, signed, 100 statuses per POST.

type fakeStats struct {
	Accepted   int64            `json:"accepted"`
	Duplicates int64            `json:"duplicates"`
	PerSecond  map[string]int64 `json:"per_second"` // Unix second → sends taken
	Posted     int64            `json:"posted"`     // statuses posted to the intake
	PostErrors int64            `json:"post_errors"`
}

type fake struct {
	mu         sync.Mutex
	seen       map[int64]struct{}
	perSecond  map[int64]int64
	accepted   atomic.Int64
	duplicates atomic.Int64
	posted     atomic.Int64
	postErrors atomic.Int64
	wamid      atomic.Int64
	events     chan status
	hook       string
	secret     []byte
	phoneID    string
	client     *http.Client
}

type status struct {
	id    int64
	wamid string
	to    string
}

func runFake(addr, hook, secret, phoneID string, webhooks bool) error {
	f := &fake{seen: map[int64]struct{}{}, perSecond: map[int64]int64{}, hook: hook, secret: []byte(secret), phoneID: phoneID,
		events: make(chan status, 1<<16),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	if webhooks && hook != "" {
		for range 4 {
			go f.poster()
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, "listening "+ln.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ps := make(map[string]int64, len(f.perSecond))
		for k, v := range f.perSecond {
			ps[strconv.FormatInt(k, 10)] = v
		}
		if r.URL.Query().Get("reset") == "1" {
			f.perSecond = map[int64]int64{}
			f.seen = map[int64]struct{}{}
			f.accepted.Store(0)
			f.duplicates.Store(0)
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(fakeStats{Accepted: f.accepted.Load(), Duplicates: f.duplicates.Load(), PerSecond: ps,
			Posted: f.posted.Load(), PostErrors: f.postErrors.Load()})
	})
	mux.HandleFunc("/", f.send)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func (f *fake) send(w http.ResponseWriter, r *http.Request) {
	var body struct {
		To        string `json:"to"`
		BizOpaque string `json:"biz_opaque_callback_data"`
	}
	raw, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/v24.0/"+f.phoneID+"/messages" || json.Unmarshal(raw, &body) != nil || body.To == "" {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"bad request","type":"OAuthException","code":100}}`)
		return
	}
	id, _ := strconv.ParseInt(body.BizOpaque, 10, 64)
	sec := time.Now().Unix()
	f.mu.Lock()
	if _, dup := f.seen[id]; dup {
		f.duplicates.Add(1)
	}
	f.seen[id] = struct{}{}
	f.perSecond[sec]++
	f.mu.Unlock()
	f.accepted.Add(1)
	wamid := "wamid.bench" + strconv.FormatInt(f.wamid.Add(1), 10)
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q,"message_status":"accepted"}]}`,
		body.To, body.To, wamid)
	select {
	case f.events <- status{id: id, wamid: wamid, to: body.To}:
	default: // the intake is behind: this message's statuses are dropped (counted by what was posted)
	}
}

// poster sends the statuses of taken messages in bodies of up to 100
// (about 33 messages × sent, delivered, read), as the platform batches.
func (f *fake) poster() {
	var batch []map[string]any
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		raw, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "102290129340398",
			"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
				"metadata": map[string]any{"display_phone_number": "4930123456", "phone_number_id": f.phoneID}, "statuses": batch}}}}}})
		req, _ := http.NewRequest(http.MethodPost, f.hook, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", webhook.SignatureHeader(f.secret, raw))
		res, err := f.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err != nil || res.StatusCode != http.StatusOK {
			f.postErrors.Add(1)
		} else {
			f.posted.Add(int64(len(batch)))
		}
		batch = batch[:0]
	}
	for {
		select {
		case s := <-f.events:
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			for _, st := range []string{"sent", "delivered", "read"} {
				batch = append(batch, map[string]any{"id": s.wamid, "status": st, "timestamp": ts, "recipient_id": s.to[len(s.to)-min(len(s.to), 12):],
					"biz_opaque_callback_data": strconv.FormatInt(s.id, 10),
					"pricing":                  map[string]any{"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}})
			}
			if len(batch) >= 99 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}
