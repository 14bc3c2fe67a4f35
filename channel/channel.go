// Package channel is Optline's messaging channel: the provider that talks
// to the platform (the sandbox, or the WhatsApp Cloud API) behind one small
// interface, and the shapes of what goes out (template submissions, template
// messages) and comes back (sends' answers, template events). It is neither
// HTTP for users nor storage: the webhook intake (package channel/webhook)
// turns the platform's events into updates of messages, templates and
// contacts through interfaces those domains implement.
//
// The choice of provider is per deployment (PORTAL_CHANNEL); each business's
// sender (phone-number id, business account id) is set by administrators.
package channel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sender is a business on the platform: where its messages go out from
// and which business account (WABA) its templates belong to.
type Sender struct {
	BusinessID    int64
	PhoneNumberID string
	AccountID     string
}

// Template categories, as the platform names them.
const (
	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"
)

// Button types of a template.
const (
	ButtonQuickReply = "QUICK_REPLY"
	ButtonURL        = "URL"
	ButtonPhone      = "PHONE_NUMBER"
)

// Button is one of a template's buttons. A URL button's URL may end in
// {{1}}, filled per message; URLSample is then its sample value.
type Button struct {
	Type      string
	Text      string
	URL       string
	URLSample string
	Phone     string // E.164, for PHONE_NUMBER
}

// Template is a message template as submitted for review. Header and
// Footer may be empty; Body holds {{1}}…{{n}} in order, with one sample per
// variable (HeaderSample for the header's one variable, if any).
type Template struct {
	Name         string
	Language     string // e.g. "de", "en_US"
	Category     string
	Header       string
	HeaderSample string
	Body         string
	BodySamples  []string
	Footer       string
	Buttons      []Button
}

// Submitted is the platform's answer to a submission.
type Submitted struct {
	ExternalID string // the platform's template id
	Status     string // PENDING (review follows as a TemplateEvent), APPROVED or REJECTED
	Category   string // the category the platform assigned, when it says
}

// Message is one template message to one recipient.
type Message struct {
	// ID is our message's id; it travels as biz_opaque_callback_data and
	// comes back in every status event of the message.
	ID       int64
	To       string // E.164 with +
	Template string
	Language string
	// Header and Body are the variables' values, in order; URLParams the
	// suffix of each URL button with a variable, by button index.
	Header    []string
	Body      []string
	URLParams map[int]string
}

// Sent is the platform's answer to a send.
type Sent struct {
	WAMID string // "wamid.…"
	// Status is "accepted", or "held_for_quality_assessment" when the
	// platform paces a new or low-quality template.
	Status string
}

// Error is a failed call to the platform, classified for the sender.
type Error struct {
	Code  int    // the platform's error code (0 for transport errors)
	Title string // the platform's title, or what failed
	// Retry: try again later (rate limits, 5xx, time-outs, connection
	// errors), after RetryAfter when the platform said.
	Retry      bool
	RetryAfter time.Duration
	// Config: the deployment or the business's sender is wrong (codes 100,
	// 190): administrators must fix it; retrying does not help.
	Config bool
	Err    error
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("platform error %d: %s", e.Code, e.Title)
	}
	return e.Title
}

func (e *Error) Unwrap() error { return e.Err }

// AsError finds the classified platform error in err.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Provider talks to the platform. Implementations: the sandbox (no
// account needed; it answers like the platform and emits realistic events
// through the same webhook intake) and the WhatsApp Cloud API.
type Provider interface {
	// Name is "sandbox" or "cloudapi".
	Name() string
	// SubmitTemplate sends a template for review.
	SubmitTemplate(ctx context.Context, s Sender, t Template) (Submitted, error)
	// Send sends one template message. Errors are *Error.
	Send(ctx context.Context, s Sender, m Message) (Sent, error)
}

// Events takes raw webhook bodies exactly as the platform posts them (the
// sandbox uses it to deliver its events through the same intake).
type Events interface {
	Accept(ctx context.Context, raw []byte) error
}

// Template event kinds.
const (
	TemplateStatus   = "status"   // message_template_status_update
	TemplateQuality  = "quality"  // message_template_quality_update
	TemplateCategory = "category" // template_category_update
)

// TemplateEvent is a template's review, quality or category change as the
// platform reports it, matched to our template by business account and
// ExternalID (or by name and language).
type TemplateEvent struct {
	AccountID  string
	ExternalID string
	Name       string
	Language   string
	Kind       string // TemplateStatus | TemplateQuality | TemplateCategory
	Status     string // APPROVED, REJECTED, PAUSED, DISABLED, … (status events)
	Reason     string // the platform's reason, e.g. INVALID_FORMAT (status events)
	Quality    string // GREEN, YELLOW, RED, UNKNOWN (quality events)
	Category   string // the new category (category events)
	Detail     string // other_info / disable_info, as text
	At         time.Time
}

// TemplateEvents applies template events (the templates domain implements it).
type TemplateEvents interface {
	ApplyTemplateEvent(ctx context.Context, ev TemplateEvent) error
}
