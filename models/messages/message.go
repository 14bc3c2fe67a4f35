package messages

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// Message states.
const (
	Queued      = "queued"
	Sending     = "sending"
	Accepted    = "accepted"
	Unconfirmed = "unconfirmed"
	Sent        = "sent"
	Delivered   = "delivered"
	Read        = "read"
	Failed      = "failed"
	Skipped     = "skipped"
)

// Rank is a state's place in the order events may move a message (see the
// package doc); -1 for an unknown state.
func Rank(state string) int {
	switch state {
	case Queued, Skipped:
		return 0
	case Sending:
		return 1
	case Accepted, Unconfirmed:
		return 2
	case Sent:
		return 3
	case Failed:
		return 4
	case Delivered:
		return 5
	case Read:
		return 6
	}
	return -1
}

// Message is one template message to one recipient.
type Message struct {
	ID               int64
	BusinessID       int64
	ContactID        *int64
	CampaignID       *int64
	TemplateID       *int64
	TemplateName     string
	TemplateLanguage string
	ToPhone          string  // E.164
	UserID           string  // the platform's business-scoped user id
	WAMID            *string `gorm:"column:wamid"`
	State            string
	StateRank        int
	ErrorCode        *int
	ErrorTitle       string
	ErrorDetail      string
	// ErrorExplanation is the catalogue key of our explanation of the
	// error code (i18n messages.json), empty when we have none.
	ErrorExplanation string
	PricingModel     string
	PricingCategory  string
	PricingType      string
	CreatedAt        time.Time
	SentAt           *time.Time
	DeliveredAt      *time.Time
	ReadAt           *time.Time
	FailedAt         *time.Time
	UpdatedAt        time.Time
}

// TableName is the table.
func (Message) TableName() string { return "messages" }

// New is a message to queue.
type New struct {
	ContactID        *int64
	CampaignID       *int64
	TemplateID       *int64
	TemplateName     string
	TemplateLanguage string
	To               string // E.164
}

// Queue creates queued message rows for tn in one statement (inside tn's
// transaction, when it has one) and returns them with their ids.
func Queue(ctx context.Context, tn models.Tenant, msgs []New) ([]Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	now := tn.DB().Now()
	rows := make([]Message, len(msgs))
	for i, m := range msgs {
		if !contacts.ValidE164(m.To) {
			return nil, models.Invalid("to", "phone.invalid_e164")
		}
		rows[i] = Message{BusinessID: tn.BusinessID(), ContactID: m.ContactID, CampaignID: m.CampaignID, TemplateID: m.TemplateID,
			TemplateName: m.TemplateName, TemplateLanguage: m.TemplateLanguage, ToPhone: m.To,
			State: Queued, StateRank: Rank(Queued), CreatedAt: now, UpdatedAt: now}
	}
	err := tn.Gorm(ctx).CreateInBatches(&rows, 500).Error
	return rows, models.Wrap("messages.Queue", err)
}

// Get loads one of tn's messages.
func Get(ctx context.Context, tn models.Tenant, id int64) (*Message, error) {
	var m Message
	if err := tn.First(ctx, &m, id); err != nil {
		return nil, models.Wrap("messages.Get", err)
	}
	return &m, nil
}

// ByWAMID loads one of tn's messages by the platform's id.
func ByWAMID(ctx context.Context, tn models.Tenant, wamid string) (*Message, error) {
	var m Message
	err := tn.Scoped(ctx).First(&m, "wamid = ?", wamid).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = models.ErrNotFound
	}
	if err != nil {
		return nil, models.Wrap("messages.ByWAMID", err)
	}
	return &m, nil
}

// advance moves message id to state when that is forward (see the package
// doc); extra columns are set with it. It reports whether the row moved.
func advance(ctx context.Context, tn models.Tenant, op string, id int64, state string, extra map[string]any) (bool, error) {
	set := map[string]any{"state": state, "state_rank": Rank(state), "updated_at": tn.DB().Now()}
	for k, v := range extra {
		set[k] = v
	}
	res := tn.Scoped(ctx).Model(&Message{}).Where("id = ? AND state_rank < ?", id, Rank(state)).Updates(set)
	if res.Error != nil {
		return false, models.Wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := Get(ctx, tn, id); err != nil {
			return false, models.Wrap(op, err)
		}
		return false, nil
	}
	return true, nil
}

// MarkSending records that the send of message id begins.
func MarkSending(ctx context.Context, tn models.Tenant, id int64) (bool, error) {
	return advance(ctx, tn, "messages.MarkSending", id, Sending, nil)
}

// MarkAccepted records the platform's answer to the send: its wamid. A
// status event that came first (matched by our id) already stored the
// same wamid and a later state; the wamid is then kept and the state too.
func MarkAccepted(ctx context.Context, tn models.Tenant, id int64, wamid string) (bool, error) {
	if wamid == "" {
		return false, models.Invalid("wamid", "message.no_wamid")
	}
	moved, err := advance(ctx, tn, "messages.MarkAccepted", id, Accepted, map[string]any{"wamid": wamid})
	if err != nil || moved {
		return moved, err
	}
	err = tn.Scoped(ctx).Model(&Message{}).Where("id = ? AND wamid IS NULL", id).
		Updates(map[string]any{"wamid": wamid, "updated_at": tn.DB().Now()}).Error
	return false, models.Wrap("messages.MarkAccepted", err)
}

// MarkUnconfirmed records that a send's outcome is unknown (the answer was
// lost); a status event echoing our id reconciles it.
func MarkUnconfirmed(ctx context.Context, tn models.Tenant, id int64) (bool, error) {
	return advance(ctx, tn, "messages.MarkUnconfirmed", id, Unconfirmed, nil)
}

// MarkSkipped records that message id will not be sent (only before it
// was sent).
func MarkSkipped(ctx context.Context, tn models.Tenant, id int64) (bool, error) {
	res := tn.Scoped(ctx).Model(&Message{}).Where("id = ? AND state = ?", id, Queued).
		Updates(map[string]any{"state": Skipped, "updated_at": tn.DB().Now()})
	return res.RowsAffected > 0, models.Wrap("messages.MarkSkipped", res.Error)
}

// MarkFailed records a send the platform refused, with its error.
func MarkFailed(ctx context.Context, tn models.Tenant, id int64, code int, title string) (bool, error) {
	now := tn.DB().Now()
	return advance(ctx, tn, "messages.MarkFailed", id, Failed, map[string]any{
		"error_code": code, "error_title": title, "error_explanation": Explanation(code), "failed_at": now})
}

// Explanation is the catalogue key of our explanation of a platform error
// code (what it means, what to do), or "" when we have none.
func Explanation(code int) string {
	switch code {
	case 131026, 131047, 131049, 131050, 131056, 130429:
		return "message.error." + itoa(code)
	case 0:
		return ""
	}
	if code >= 132000 && code < 133000 {
		return "message.error.132000"
	}
	return "message.error.other"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
