package campaigns

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/messages"
)

// MessageFilter narrows a campaign's message list.
type MessageFilter struct {
	// State is one message state ("" every state).
	State string
	// Code is a platform error code (nil any); 0 is "no code".
	Code *int
	// Query matches the contact's name (case-insensitive, anywhere in it)
	// or, when it is a number (digits, spaces, +, -, brackets), the
	// recipient's number too (its digits anywhere in it).
	Query string
	// Cursor is the last id of the previous page (0 the first page).
	Cursor int64
	// Limit is the page size (default 50, at most MaxMessagePage).
	Limit int
}

// MaxMessagePage is the largest page of messages.
const MaxMessagePage = 1000

// MessageStates are the states a filter may name, in the order of the
// state machine.
var MessageStates = []string{messages.Queued, messages.Sending, messages.Accepted, messages.Unconfirmed, messages.Sent,
	messages.Delivered, messages.Read, messages.Failed, messages.Skipped}

// ValidState reports whether s is a message state.
func ValidState(s string) bool {
	for _, v := range MessageStates {
		if v == s {
			return true
		}
	}
	return false
}

// MessageRow is one message of a campaign (or of a contact) with its
// timeline's times.
type MessageRow struct {
	ID           int64
	CampaignID   *int64
	CampaignName string
	ContactID    *int64
	ContactName  string
	Phone        string // E.164
	State        string
	SkipReason   string
	WAMID        *string `gorm:"column:wamid"`
	ErrorCode    *int
	ErrorTitle   string
	ErrorDetail  string
	Attempts     int
	CreatedAt    time.Time
	ClaimedAt    *time.Time
	SentAt       *time.Time
	DeliveredAt  *time.Time
	ReadAt       *time.Time
	FailedAt     *time.Time
	UpdatedAt    time.Time
}

// Explanation is the catalogue key prefix of the message's error.
func (m MessageRow) Explanation() string {
	if m.ErrorCode == nil {
		if m.FailedAt != nil {
			return ExplanationKey(0)
		}
		return ""
	}
	return ExplanationKey(*m.ErrorCode)
}

// Event is one step of a message's timeline.
type Event struct {
	Kind string // created, claimed, accepted, sent, delivered, read, failed, skipped, unconfirmed
	// At is when; nil when the platform gives no time (accepted: the
	// answer to the send is stored without one).
	At *time.Time
}

// MessageEvents is the message's timeline, in the order it happened (a
// time-less step where the state machine puts it).
func MessageEvents(m MessageRow) []Event {
	at := m.CreatedAt
	ev := []Event{{Kind: "created", At: &at}}
	if m.ClaimedAt != nil {
		ev = append(ev, Event{Kind: "claimed", At: m.ClaimedAt})
	}
	if m.WAMID != nil {
		ev = append(ev, Event{Kind: "accepted"})
	}
	if m.State == messages.Unconfirmed {
		ev = append(ev, Event{Kind: "unconfirmed"})
	}
	timed := []Event{}
	for _, e := range []Event{{"sent", m.SentAt}, {"delivered", m.DeliveredAt}, {"read", m.ReadAt}, {"failed", m.FailedAt}} {
		if e.At != nil {
			timed = append(timed, e)
		}
	}
	// The platform's times in the order they happened (a failure after
	// delivery stays after it).
	for i := 1; i < len(timed); i++ {
		for j := i; j > 0 && timed[j].At.Before(*timed[j-1].At); j-- {
			timed[j], timed[j-1] = timed[j-1], timed[j]
		}
	}
	ev = append(ev, timed...)
	if m.State == messages.Skipped {
		u := m.UpdatedAt
		ev = append(ev, Event{Kind: "skipped", At: &u})
	}
	return ev
}

const messageColumns = `m.id, m.campaign_id, m.contact_id, COALESCE(ct.name, '') AS contact_name, m.to_phone AS phone, m.state,
	m.skip_reason, m.wamid, m.error_code, m.error_title, m.error_detail, m.attempts, m.created_at, m.claimed_at,
	m.sent_at, m.delivered_at, m.read_at, m.failed_at, m.updated_at`

// Messages is a page of campaign id's messages matching f, by id, and the
// cursor of the next page (0 at the end). An unknown state in the filter
// is a validation error on "state".
func Messages(ctx context.Context, tn models.Tenant, id int64, f MessageFilter) ([]MessageRow, int64, error) {
	if _, err := reportCampaign(ctx, tn, id); err != nil {
		return nil, 0, err
	}
	return messagePage(ctx, tn, id, f)
}

func messagePage(ctx context.Context, tn models.Tenant, id int64, f MessageFilter) ([]MessageRow, int64, error) {
	if f.State != "" && !ValidState(f.State) {
		return nil, 0, models.Invalid("state", "report.filter.bad_state")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxMessagePage)
	q := tn.Gorm(ctx).Table("messages m").
		Where("m.business_id = ? AND m.campaign_id = ? AND m.id > ?", tn.BusinessID(), id, f.Cursor)
	if f.State != "" {
		q = q.Where("m.state = ?", f.State)
	}
	if f.Code != nil {
		if *f.Code == 0 {
			q = q.Where("m.error_code IS NULL AND m.state = ?", messages.Failed)
		} else {
			q = q.Where("m.error_code = ?", *f.Code)
		}
	}
	// Without a search the page is read from the campaign's index alone
	// and the contacts' names are looked up for its rows (a join made
	// PostgreSQL hash every contact of the business for each page).
	search := CleanQuery(f.Query)
	if search != "" {
		q = q.Select(messageColumns).Joins("LEFT JOIN contacts ct ON ct.id = m.contact_id AND ct.business_id = m.business_id")
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, search)
		like := "%" + models.EscapeLike(strings.ToLower(search)) + "%"
		if digits != "" && strings.Trim(search, "0123456789+-() ") == "" {
			q = q.Where(`(m.to_phone LIKE ? ESCAPE '\' OR LOWER(ct.name) LIKE ? ESCAPE '\')`, "%"+digits+"%", like)
		} else {
			q = q.Where(`LOWER(ct.name) LIKE ? ESCAPE '\'`, like)
		}
	} else {
		q = q.Select(strings.Replace(messageColumns, "COALESCE(ct.name, '') AS contact_name", "'' AS contact_name", 1))
	}
	var rows []MessageRow
	if err := q.Order("m.id").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, 0, models.Wrap("campaigns.Messages", err)
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	if search == "" {
		if err := contactNames(ctx, tn, rows); err != nil {
			return nil, 0, err
		}
	}
	return rows, next, nil
}

// contactNames fills the rows' contact names in one query by id.
func contactNames(ctx context.Context, tn models.Tenant, rows []MessageRow) error {
	var ids []int64
	for _, r := range rows {
		if r.ContactID != nil {
			ids = append(ids, *r.ContactID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var names []struct {
		ID   int64
		Name string
	}
	if err := tn.Scoped(ctx).Table("contacts").Select("id, name").Where("id IN ?", ids).Scan(&names).Error; err != nil {
		return models.Wrap("campaigns.contactNames", err)
	}
	byID := make(map[int64]string, len(names))
	for _, n := range names {
		byID[n.ID] = n.Name
	}
	for i := range rows {
		if rows[i].ContactID != nil {
			rows[i].ContactName = byID[*rows[i].ContactID]
		}
	}
	return nil
}

// CleanQuery is a typed search as it is matched: without control
// characters and invalid UTF-8 (which the databases refuse or cut at), and
// trimmed.
func CleanQuery(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
}

// ContactMessages is the newest messages sent to a contact, newest first,
// with their campaign's name.
func ContactMessages(ctx context.Context, tn models.Tenant, contactID int64, limit int) ([]MessageRow, error) {
	if limit <= 0 || limit > MaxMessagePage {
		limit = 20
	}
	var rows []MessageRow
	err := tn.Gorm(ctx).Table("messages m").Select(messageColumns+", COALESCE(cp.name, '') AS campaign_name").
		Joins("LEFT JOIN contacts ct ON ct.id = m.contact_id AND ct.business_id = m.business_id").
		Joins("LEFT JOIN campaigns cp ON cp.id = m.campaign_id AND cp.business_id = m.business_id").
		Where("m.business_id = ? AND m.contact_id = ?", tn.BusinessID(), contactID).
		Order("m.id DESC").Limit(limit).Scan(&rows).Error
	return rows, models.Wrap("campaigns.ContactMessages", err)
}
