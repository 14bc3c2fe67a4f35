// Package cloudapi is the WhatsApp Cloud API provider
// (PORTAL_CHANNEL=cloudapi): template messages go out with
// POST /{version}/{phone-number-id}/messages and templates are submitted
// with POST /{version}/{waba-id}/message_templates, both with the
// platform-wide access token as a Bearer token. Every failure is a
// *channel.Error classified for the sender:
//
//   - Retry (try again later): 130429 (throughput), 131056 (same user too
//     fast), 4 and 80007 (app and account rate limits), 131000, 1 and 2
//     (the platform's transient errors), any HTTP 429 or 5xx answer, time-outs
//     and connection errors. RetryAfter is the answer's Retry-After header
//     (seconds or an HTTP date) where given, else a hint: 6 s for 131056
//     (about one message per 6 s to one user), 1 s for 130429, 60 s for the
//     rate limits 4 and 80007, 10 s for the rest.
//   - Config (administrators must fix the deployment or the business's
//     sender; retrying does not help): 100 (invalid parameter, e.g. an
//     unknown phone-number id), 190 (access token expired or invalid), 10
//     and 200–299 (permissions), and a Sender without ids.
//   - Permanent (neither): 131026, 131047, 131049, 131050, the 132000
//     series and every other code, and an answer that cannot be read (a 2xx
//     with a body that is not the API's: the message may have gone out, so
//     it is not retried; its status webhooks, which carry
//     biz_opaque_callback_data, link it later); also, before any request,
//     a recipient that is not E.164 and a message without a template.
//
// Answers are read up to 1 MiB. The token never appears in errors or logs.
package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/optline/optline/channel"
)

// Config is the platform-wide Cloud API setting.
type Config struct {
	BaseURL     string // default https://graph.facebook.com
	Version     string // default v24.0
	AccessToken string
	// Client is the HTTP client (default: NewClient()).
	Client *http.Client
}

// Default base URL and API version.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v24.0"
	maxAnswer      = 1 << 20
)

// NewClient is an HTTP client with time limits on every stage: 10 s to
// connect, 10 s for TLS, 30 s for the answer's headers, 45 s in all.
func NewClient() *http.Client {
	return &http.Client{
		Timeout: 45 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   32,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Provider is the Cloud API provider.
type Provider struct {
	base    string
	version string
	token   string
	client  *http.Client
}

var _ channel.Provider = (*Provider)(nil)

// New makes the provider; it refuses a configuration without a token.
func New(c Config) (*Provider, error) {
	if strings.TrimSpace(c.AccessToken) == "" {
		return nil, errors.New("cloudapi: the access token (WHATSAPP_ACCESS_TOKEN) is missing")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("cloudapi: base URL %q: want https://host", c.BaseURL)
	}
	if c.Client == nil {
		c.Client = NewClient()
	}
	return &Provider{base: strings.TrimRight(c.BaseURL, "/"), version: strings.Trim(c.Version, "/"), token: c.AccessToken, client: c.Client}, nil
}

// Name is "cloudapi".
func (p *Provider) Name() string { return "cloudapi" }

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// SenderComplete reports whether s can send on the Cloud API: both ids set
// and neither the sandbox's synthetic one.
func SenderComplete(s channel.Sender) bool {
	ok := func(id string) bool { return id != "" && !strings.HasPrefix(id, "sandbox-") }
	return ok(s.PhoneNumberID) && ok(s.AccountID)
}

type param struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type component struct {
	Type       string  `json:"type"`
	SubType    string  `json:"sub_type,omitempty"`
	Index      string  `json:"index,omitempty"`
	Parameters []param `json:"parameters"`
}

type sendBody struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	BizOpaque        string `json:"biz_opaque_callback_data"`
	Template         struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []component `json:"components,omitempty"`
	} `json:"template"`
}

func texts(vs []string) []param {
	out := make([]param, len(vs))
	for i, v := range vs {
		out[i] = param{Type: "text", Text: v}
	}
	return out
}

// SendBody is the JSON of a template message (exported for tests and
// the contract's documentation).
func SendBody(m channel.Message) ([]byte, error) {
	var b sendBody
	b.MessagingProduct, b.RecipientType, b.Type = "whatsapp", "individual", "template"
	b.To = strings.TrimPrefix(m.To, "+")
	b.BizOpaque = strconv.FormatInt(m.ID, 10)
	b.Template.Name = m.Template
	b.Template.Language.Code = m.Language
	if len(m.Header) > 0 {
		b.Template.Components = append(b.Template.Components, component{Type: "header", Parameters: texts(m.Header)})
	}
	if len(m.Body) > 0 {
		b.Template.Components = append(b.Template.Components, component{Type: "body", Parameters: texts(m.Body)})
	}
	idx := make([]int, 0, len(m.URLParams))
	for i := range m.URLParams {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		b.Template.Components = append(b.Template.Components, component{Type: "button", SubType: "url", Index: strconv.Itoa(i),
			Parameters: []param{{Type: "text", Text: m.URLParams[i]}}})
	}
	return json.Marshal(b)
}

// Send sends one template message.
func (p *Provider) Send(ctx context.Context, s channel.Sender, m channel.Message) (channel.Sent, error) {
	if !SenderComplete(s) {
		return channel.Sent{}, &channel.Error{Title: "cloudapi: the business has no sender (phone-number id and business account id); an administrator sets it", Config: true}
	}
	// A bad recipient or template would come back as code 100, which reads
	// as the deployment's fault; it is this message's.
	if !e164.MatchString(m.To) {
		return channel.Sent{}, &channel.Error{Title: "cloudapi: the recipient is not an E.164 number"}
	}
	if m.Template == "" || m.Language == "" {
		return channel.Sent{}, &channel.Error{Title: "cloudapi: the message names no template or language"}
	}
	body, err := SendBody(m)
	if err != nil {
		return channel.Sent{}, &channel.Error{Title: "cloudapi: encode the message", Err: err}
	}
	var ans struct {
		Messages []struct {
			ID            string `json:"id"`
			MessageStatus string `json:"message_status"`
		} `json:"messages"`
	}
	if err := p.post(ctx, "/"+url.PathEscape(s.PhoneNumberID)+"/messages", body, &ans); err != nil {
		return channel.Sent{}, err
	}
	if len(ans.Messages) == 0 || !strings.HasPrefix(ans.Messages[0].ID, "wamid.") {
		return channel.Sent{}, &channel.Error{Title: "cloudapi: the answer to a send carries no wamid"}
	}
	st := ans.Messages[0].MessageStatus
	if st == "" {
		st = "accepted"
	}
	return channel.Sent{WAMID: ans.Messages[0].ID, Status: st}, nil
}

type button struct {
	Type        string   `json:"type"`
	Text        string   `json:"text"`
	URL         string   `json:"url,omitempty"`
	PhoneNumber string   `json:"phone_number,omitempty"`
	Example     []string `json:"example,omitempty"`
}

type tplComponent struct {
	Type    string         `json:"type"`
	Format  string         `json:"format,omitempty"`
	Text    string         `json:"text,omitempty"`
	Example map[string]any `json:"example,omitempty"`
	Buttons []button       `json:"buttons,omitempty"`
}

// TemplateBody is the JSON of a template submission.
func TemplateBody(t channel.Template) ([]byte, error) {
	var comps []tplComponent
	if t.Header != "" {
		c := tplComponent{Type: "HEADER", Format: "TEXT", Text: t.Header}
		if t.HeaderSample != "" {
			c.Example = map[string]any{"header_text": []string{t.HeaderSample}}
		}
		comps = append(comps, c)
	}
	body := tplComponent{Type: "BODY", Text: t.Body}
	if len(t.BodySamples) > 0 {
		body.Example = map[string]any{"body_text": [][]string{t.BodySamples}}
	}
	comps = append(comps, body)
	if t.Footer != "" {
		comps = append(comps, tplComponent{Type: "FOOTER", Text: t.Footer})
	}
	if len(t.Buttons) > 0 {
		bs := tplComponent{Type: "BUTTONS"}
		for _, b := range t.Buttons {
			x := button{Type: b.Type, Text: b.Text}
			switch b.Type {
			case channel.ButtonURL:
				x.URL = b.URL
				if strings.Contains(b.URL, "{{1}}") && b.URLSample != "" {
					ex := b.URLSample
					if !strings.HasPrefix(ex, "http://") && !strings.HasPrefix(ex, "https://") {
						ex = strings.Replace(b.URL, "{{1}}", b.URLSample, 1)
					}
					x.Example = []string{ex}
				}
			case channel.ButtonPhone:
				x.PhoneNumber = b.Phone
			}
			bs.Buttons = append(bs.Buttons, x)
		}
		comps = append(comps, bs)
	}
	return json.Marshal(map[string]any{
		"name": t.Name, "language": t.Language, "category": strings.ToUpper(t.Category), "components": comps,
	})
}

// SubmitTemplate submits a template for review.
func (p *Provider) SubmitTemplate(ctx context.Context, s channel.Sender, t channel.Template) (channel.Submitted, error) {
	if !SenderComplete(s) {
		return channel.Submitted{}, &channel.Error{Title: "cloudapi: the business has no business account id; an administrator sets its sender", Config: true}
	}
	body, err := TemplateBody(t)
	if err != nil {
		return channel.Submitted{}, &channel.Error{Title: "cloudapi: encode the template", Err: err}
	}
	var ans struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Category string `json:"category"`
	}
	if err := p.post(ctx, "/"+url.PathEscape(s.AccountID)+"/message_templates", body, &ans); err != nil {
		return channel.Submitted{}, err
	}
	if ans.ID == "" {
		return channel.Submitted{}, &channel.Error{Title: "cloudapi: the answer to a submission carries no template id"}
	}
	if ans.Status == "" {
		ans.Status = "PENDING"
	}
	return channel.Submitted{ExternalID: ans.ID, Status: ans.Status, Category: ans.Category}, nil
}

// apiError is the Graph API's error answer.
type apiError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		UserTitle string `json:"error_user_title"`
		UserMsg   string `json:"error_user_msg"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTrace string `json:"fbtrace_id"`
	} `json:"error"`
}

func (p *Provider) post(ctx context.Context, path string, body []byte, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/"+p.version+path, bytes.NewReader(body))
	if err != nil {
		return &channel.Error{Title: "cloudapi: build the request", Config: true, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return transportError(ctx, err)
	}
	if len(raw) > maxAnswer {
		return &channel.Error{Title: fmt.Sprintf("cloudapi: answer larger than %d bytes (HTTP %d)", maxAnswer, resp.StatusCode), Retry: resp.StatusCode >= 500, RetryAfter: retryAfter(resp, 0)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, into); err != nil {
			return &channel.Error{Title: fmt.Sprintf("cloudapi: unreadable answer (HTTP %d)", resp.StatusCode), Err: err}
		}
		return nil
	}
	var ae apiError
	if json.Unmarshal(raw, &ae) != nil || ae.Error == nil || ae.Error.Code == 0 {
		e := &channel.Error{Title: fmt.Sprintf("cloudapi: HTTP %d without an API error", resp.StatusCode)}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			e.Retry, e.RetryAfter = true, retryAfter(resp, 10*time.Second)
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
			e.Config = true
		}
		return e
	}
	return Classify(ae.Error.Code, resp.StatusCode, title(ae), retryAfter(resp, 0))
}

func title(ae apiError) string {
	t := ae.Error.Message
	if ae.Error.UserTitle != "" {
		t = ae.Error.UserTitle
	}
	if d := ae.Error.ErrorData.Details; d != "" && d != t {
		t += ": " + d
	} else if ae.Error.UserMsg != "" {
		t += ": " + ae.Error.UserMsg
	}
	return t
}

// Classify turns the platform's error code (and the HTTP status) into a
// *channel.Error; after is the answer's Retry-After (0 when absent).
func Classify(code, status int, title string, after time.Duration) *channel.Error {
	e := &channel.Error{Code: code, Title: title}
	switch {
	case code == 130429 || code == 131056 || code == 4 || code == 80007 || code == 131000 || code == 1 || code == 2:
		e.Retry = true
	case code == 100 || code == 190 || code == 10 || (code >= 200 && code <= 299):
		e.Config = true
	case code == 131026 || code == 131047 || code == 131049 || code == 131050 || (code >= 132000 && code <= 132999):
		// permanent
	case status >= 500 || status == http.StatusTooManyRequests:
		e.Retry = true
	}
	if e.Retry {
		e.RetryAfter = after
		if e.RetryAfter == 0 {
			switch code {
			case 131056:
				e.RetryAfter = 6 * time.Second
			case 130429:
				e.RetryAfter = time.Second
			case 4, 80007:
				e.RetryAfter = time.Minute
			default:
				e.RetryAfter = 10 * time.Second
			}
		}
	}
	return e
}

func retryAfter(resp *http.Response, def time.Duration) time.Duration {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return def
}

// transportError is a time-out or connection error: retry later, unless
// the caller's own context ended (then the caller gave up; still marked
// Retry so that a job picks the message up again).
func transportError(ctx context.Context, err error) error {
	t := "cloudapi: the platform did not answer"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		t = "cloudapi: the platform did not answer in time"
	}
	if ctx.Err() != nil {
		t = "cloudapi: the request was cancelled"
	}
	return &channel.Error{Title: t, Retry: true, RetryAfter: 10 * time.Second, Err: err}
}
