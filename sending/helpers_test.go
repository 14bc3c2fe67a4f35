package sending_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/channel/cloudapi"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/models/templates"
	"github.com/optline/optline/sending"
)

const (
	token   = "test-access-token"
	phoneID = "106540352242922"
	wabaID  = "102290129340398"
)

// clock runs with real time from an offset that tests move forward
// (a lease going stale, a claim growing old) without waiting.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time         { return time.Now().UTC().Add(time.Duration(c.off.Load())) }
func (c *clock) Jump(d time.Duration)   { c.off.Add(int64(d)) }
func (c *clock) Since(t time.Time) bool { return c.Now().After(t) }

// platform is a fake of the Cloud API's messages endpoint: it checks the
// request as the platform would, counts every message by our id
// (biz_opaque_callback_data), and answers a wamid or what fail says.
type platform struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	got  map[int64]int    // our message id → sends received
	acc  map[int64]int    // our message id → sends accepted
	wams map[int64]string // our message id → the last wamid answered
	// fail, when set, answers instead of success: an HTTP status and a
	// Graph API error code, with Retry-After seconds (0: none).
	fail  func(id int64, n int) (status, code, retryAfter int)
	delay time.Duration
	total atomic.Int64
	// onSend runs for each accepted send (e.g. cancel a context).
	onSend func(id int64)
}

func newPlatform(t *testing.T) *platform {
	p := &platform{t: t, got: map[int64]int{}, acc: map[int64]int{}, wams: map[int64]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *platform) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+token || r.URL.Path != "/"+cloudapi.DefaultVersion+"/"+phoneID+"/messages" {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"bad request","type":"OAuthException","code":100}}`)
		return
	}
	var body struct {
		To        string `json:"to"`
		BizOpaque string `json:"biz_opaque_callback_data"`
		Template  struct {
			Name string `json:"name"`
		} `json:"template"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil || body.Template.Name == "" {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"message":"bad body","type":"OAuthException","code":100}}`)
		return
	}
	id, _ := strconv.ParseInt(body.BizOpaque, 10, 64)
	p.mu.Lock()
	p.got[id]++
	n := p.got[id]
	fail := p.fail
	p.mu.Unlock()
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	if fail != nil {
		if status, code, after := fail(id, n); status != 0 {
			if after > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(after))
			}
			w.WriteHeader(status)
			if code != 0 {
				fmt.Fprintf(w, `{"error":{"message":"error %d","type":"OAuthException","code":%d,"fbtrace_id":"X"}}`, code, code)
			} else {
				io.WriteString(w, `<html>oops</html>`)
			}
			return
		}
	}
	wamid := fmt.Sprintf("wamid.HBgL%d.%d", id, n)
	p.mu.Lock()
	p.wams[id] = wamid
	p.acc[id]++
	p.mu.Unlock()
	p.total.Add(1)
	if p.onSend != nil {
		p.onSend(id)
	}
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q,"message_status":"accepted"}]}`,
		body.To, body.To, wamid)
}

// sends is how often the platform took each message id.
func (p *platform) sends() map[int64]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64]int, len(p.acc))
	for k, v := range p.acc {
		out[k] = v
	}
	return out
}

// statuses are "sent" status events for every message the platform
// took, as its webhooks carry them (wamid and our id).
func (p *platform) statuses(state string) []messages.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []messages.Status
	for id, w := range p.wams {
		out = append(out, messages.Status{WAMID: w, MessageID: id, State: state, At: time.Now()})
	}
	return out
}

// fx is one database with a business, an approved template, a sender
// and an engine sending to the fake platform.
type fx struct {
	t     *testing.T
	db    *models.DB
	clk   *clock
	p     *platform
	tn    models.Tenant
	owner *models.User
	tpl   *templates.Template
	queue *jobs.Queue
}

var seq atomic.Int64

func newFx(t *testing.T) *fx {
	t.Helper()
	db := dbtest.Open(t)
	clk := &clock{}
	db.Now = clk.Now
	f := &fx{t: t, db: db, clk: clk, p: newPlatform(t)}
	ctx := context.Background()
	n := seq.Add(1)
	u, b, err := db.SignUp(ctx, models.SignUpInput{BusinessName: fmt.Sprintf("Bakery %d", n),
		NewUserInput: models.NewUserInput{Name: "Owner", Email: fmt.Sprintf("owner%d@example.com", n), Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	f.owner = u
	if err := db.Gorm.Exec(`UPDATE businesses SET phone_number_id = ?, waba_id = ? WHERE id = ?`, phoneID, wabaID, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	if f.tn, err = db.Tenant(b.ID); err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	f.tpl = &templates.Template{BusinessID: b.ID, Name: "offer_v1", Language: "de", Category: "MARKETING", Body: "Hallo {{1}}, {{2}} heute.",
		BodySamplesJSON: `["Alex","20 %"]`, ButtonsJSON: "[]", Status: templates.StateApproved, Quality: templates.QualityGreen,
		ExternalID: fmt.Sprintf("tpl%d", n), AccountID: wabaID, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(f.tpl).Error; err != nil {
		t.Fatal(err)
	}
	return f
}

// provider is the Cloud API provider against the fake platform.
func (f *fx) provider() *cloudapi.Provider {
	p, err := cloudapi.New(cloudapi.Config{BaseURL: f.p.srv.URL, AccessToken: token,
		Client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// engine is a sender with fast test settings, o's changes applied.
func (f *fx) engine(o sending.Options) *sending.Engine {
	if o.Rate == 0 && !o.Unthrottled {
		o.Unthrottled = true
	}
	if o.Backoff == nil {
		o.Backoff = func(int, time.Duration) time.Duration { return 30 * time.Millisecond }
	}
	if o.ClaimStale == 0 {
		o.ClaimStale = 5 * time.Second
	}
	if o.Workers == 0 {
		o.Workers = 8
	}
	if o.GateEvery == 0 {
		o.GateEvery = -1 // every batch: the tests count what went out after a change
	}
	if o.BatchSize == 0 {
		o.BatchSize = 20
	}
	q := jobs.New(f.db, dbtest.Quiet, jobs.Config{Poll: 50 * time.Millisecond, ResumeEvery: 200 * time.Millisecond})
	e := sending.New(sending.Deps{DB: f.db, Queue: q, Provider: f.provider(), Log: dbtest.Quiet}, o)
	q.Add(e)
	q.Resume(e)
	f.queue = q
	return e
}

// contacts adds n opted-in contacts tagged tag, the first names "Name<i>".
func (f *fx) contacts(n int, tag string) []int64 {
	f.t.Helper()
	now := f.db.Now()
	base := seq.Add(1) * 100000
	rows := make([]contacts.Contact, n)
	for i := range rows {
		phone := fmt.Sprintf("+4915%09d", base+int64(i))
		rows[i] = contacts.Contact{BusinessID: f.tn.BusinessID(), Phone: phone, PhoneHash: contacts.PhoneHash(phone),
			Name: fmt.Sprintf("Name%d Test", i), FirstName: fmt.Sprintf("Name%d", i), LastName: "Test", Attrs: contacts.Attrs{},
			ConsentState: contacts.ConsentOptedIn, OptedInAt: &now, OptInSource: "test", CreatedAt: now, UpdatedAt: now}
	}
	if err := f.db.Gorm.CreateInBatches(&rows, 200).Error; err != nil {
		f.t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
		if tag != "" {
			if err := f.db.Gorm.Exec(`INSERT INTO contact_tags (business_id, contact_id, tag) VALUES (?, ?, ?)`, f.tn.BusinessID(), r.ID, tag).Error; err != nil {
				f.t.Fatal(err)
			}
		}
	}
	return ids
}

// campaign stores a scheduled campaign to every contact, due now.
func (f *fx) campaign(mut func(c *campaigns.Campaign)) *campaigns.Campaign {
	f.t.Helper()
	now := f.db.Now()
	due := now.Add(-time.Second)
	c := &campaigns.Campaign{BusinessID: f.tn.BusinessID(), Name: "Summer", TemplateID: f.tpl.ID, TemplateName: f.tpl.Name,
		TemplateLanguage: f.tpl.Language, Category: f.tpl.Category,
		Mapping: campaigns.Mapping{{Part: "body", N: 1, Source: campaigns.SourceField, Key: "first_name", Fallback: "friend"},
			{Part: "body", N: 2, Source: campaigns.SourceText, Key: "20 %"}},
		SegmentIDs: campaigns.IDList{}, AllContacts: true, FitMode: campaigns.FitRefuse, State: campaigns.Scheduled,
		TimeZone: "Europe/Berlin", ScheduledAt: &due, CreatedByID: &f.owner.ID, CreatedAt: now, UpdatedAt: now}
	if mut != nil {
		mut(c)
	}
	if err := f.db.Gorm.Create(c).Error; err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fx) load(id int64) *campaigns.Campaign {
	f.t.Helper()
	c, err := campaigns.Load(context.Background(), f.tn, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// states counts the campaign's messages by state (skipped by reason).
func (f *fx) states(id int64) map[string]int {
	f.t.Helper()
	var rows []struct {
		State, SkipReason string
		N                 int
	}
	if err := f.db.Gorm.Raw(`SELECT state, skip_reason, COUNT(*) AS n FROM messages WHERE campaign_id = ? GROUP BY state, skip_reason`, id).
		Scan(&rows).Error; err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		k := r.State
		if r.SkipReason != "" {
			k += ":" + r.SkipReason
		}
		out[k] += r.N
	}
	return out
}

// drive runs slices of the campaign's run as the job would, until it
// ends, and fails the test after limit.
func (f *fx) drive(e *sending.Engine, c *campaigns.Campaign, holder string, limit time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := e.RunSlice(context.Background(), sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, holder)
		if err != nil {
			f.t.Fatalf("slice: %v", err)
		}
		if !res.More {
			return
		}
		time.Sleep(min(res.Wait, 200*time.Millisecond))
	}
	f.t.Fatalf("the run did not end within %s: %v", limit, f.states(c.ID))
}

// noDuplicates fails when the platform got any message twice.
func (f *fx) noDuplicates() {
	f.t.Helper()
	for id, n := range f.p.sends() {
		if n > 1 {
			f.t.Fatalf("the platform took message %d %d times", id, n)
		}
	}
}

// requests is how often a message reached the platform (taken or refused).
func (p *platform) requests(id int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[id]
}

// ids are the campaign's message ids in order.
func (f *fx) ids(c *campaigns.Campaign) []int64 {
	f.t.Helper()
	var ids []int64
	if err := f.db.Gorm.Raw(`SELECT id FROM messages WHERE campaign_id = ? ORDER BY id`, c.ID).Scan(&ids).Error; err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// start starts the campaign on e and fails the test on an error.
func (f *fx) start(e *sending.Engine, c *campaigns.Campaign) {
	f.t.Helper()
	if err := e.Start(context.Background(), f.tn, f.owner, c.ID); err != nil {
		f.t.Fatal(err)
	}
}
