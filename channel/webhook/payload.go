package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Payload is a webhook body as the platform posts it.
type Payload struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one business account's part of a body.
type Entry struct {
	ID      string   `json:"id"` // the business account (WABA) id
	Changes []Change `json:"changes"`
}

// Change is one change: its field says what Value holds.
type Change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// MessagesValue is the value of a "messages" change: statuses of our
// messages and messages customers wrote, for one sender number.
type MessagesValue struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts"`
	Statuses         []Status  `json:"statuses"`
	Messages         []Inbound `json:"messages"`
}

// Metadata names the business's sender.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is the sender of inbound messages as the platform knows them.
type Contact struct {
	WAID    string `json:"wa_id"`
	UserID  string `json:"user_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

// Status is one status event of a message we sent.
type Status struct {
	ID                    string   `json:"id"`
	Status                string   `json:"status"`
	Timestamp             string   `json:"timestamp"`
	RecipientID           string   `json:"recipient_id"`
	RecipientUserID       string   `json:"recipient_user_id"`
	BizOpaqueCallbackData string   `json:"biz_opaque_callback_data"`
	Pricing               *Pricing `json:"pricing"`
	Errors                []Error  `json:"errors"`
}

// Pricing is a status's pricing object.
type Pricing struct {
	Billable     *bool  `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Category     string `json:"category"`
	Type         string `json:"type"`
}

// Error is an error of a failed status.
type Error struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// Inbound is a message a customer wrote.
type Inbound struct {
	From      string `json:"from"`
	UserID    string `json:"user_id"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
}

// TemplateValue is the value of the three template changes.
type TemplateValue struct {
	Event                   string          `json:"event"`
	MessageTemplateID       json.Number     `json:"message_template_id"`
	MessageTemplateName     string          `json:"message_template_name"`
	MessageTemplateLanguage string          `json:"message_template_language"`
	Reason                  string          `json:"reason"`
	MessageTemplateCategory string          `json:"message_template_category"`
	PreviousQualityScore    string          `json:"previous_quality_score"`
	NewQualityScore         string          `json:"new_quality_score"`
	PreviousCategory        string          `json:"previous_category"`
	NewCategory             string          `json:"new_category"`
	DisableInfo             json.RawMessage `json:"disable_info"`
	OtherInfo               *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"other_info"`
}

// ErrMalformed: the body is not the platform's webhook JSON.
var ErrMalformed = errors.New("webhook: malformed body")

// Parse reads a webhook body. Anything that is not a JSON object of the
// platform's envelope is ErrMalformed; unknown fields are ignored.
func Parse(raw []byte) (*Payload, error) {
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Object != "whatsapp_business_account" {
		return nil, fmt.Errorf("%w: object %q", ErrMalformed, p.Object)
	}
	return &p, nil
}

// Messages decodes a "messages" change's value.
func (c Change) Messages() (*MessagesValue, error) {
	var v MessagesValue
	if err := json.Unmarshal(c.Value, &v); err != nil {
		return nil, fmt.Errorf("%w: messages value: %v", ErrMalformed, err)
	}
	return &v, nil
}

// Template decodes a template change's value.
func (c Change) Template() (*TemplateValue, error) {
	var v TemplateValue
	if err := json.Unmarshal(c.Value, &v); err != nil {
		return nil, fmt.Errorf("%w: template value: %v", ErrMalformed, err)
	}
	return &v, nil
}

// Time reads the platform's Unix-seconds time stamps ("1700000000"); a
// missing or bad one is fallback.
func Time(ts string, fallback time.Time) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil || n <= 0 {
		return fallback
	}
	return time.Unix(n, 0).UTC()
}

// Says is what the customer's message says: the text, a button's text (or
// payload), an interactive reply's title; empty for media and others.
func (m Inbound) Says() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Button != nil:
		if m.Button.Text != "" {
			return m.Button.Text
		}
		return m.Button.Payload
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		return m.Interactive.ButtonReply.Title
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		return m.Interactive.ListReply.Title
	}
	return ""
}

// stopWords are the replies that opt the sender out (compared trimmed and
// case-folded), and OptOutPayload the payload of our templates' opt-out
// quick-reply button.
var stopWords = map[string]bool{"stop": true, "stop promotions": true, "stopp": true, "abmelden": true, "unsubscribe": true}

// OptOutPayload is the quick-reply payload of the "Stop promotions"
// button of marketing templates.
const OptOutPayload = "STOP_PROMOTIONS"

// IsOptOut reports whether the customer's message asks to stop: a STOP-like
// text, or the opt-out button (by payload or by its text).
func (m Inbound) IsOptOut() bool {
	if m.Button != nil && strings.EqualFold(strings.TrimSpace(m.Button.Payload), OptOutPayload) {
		return true
	}
	if m.Interactive != nil && m.Interactive.ButtonReply != nil && strings.EqualFold(strings.TrimSpace(m.Interactive.ButtonReply.ID), OptOutPayload) {
		return true
	}
	return stopWords[strings.ToLower(strings.TrimSpace(m.Says()))]
}
