package messages

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/optline/optline/models"
)

// ServiceWindow is how long a customer's message opens the
// customer-service window for.
const ServiceWindow = 24 * time.Hour

// Inbound is one message a customer wrote to a business.
type Inbound struct {
	ID         int64
	BusinessID int64
	ContactID  *int64
	FromPhone  string // E.164, empty when the platform withheld it
	UserID     string
	WAMID      string `gorm:"column:wamid"`
	Kind       string // text, button, interactive, image, …
	Body       string // the text, or the button's text/payload
	OptOut     bool   // the message opted the sender out
	SentAt     time.Time
	ReceivedAt time.Time
}

// TableName is the table.
func (Inbound) TableName() string { return "inbound_messages" }

// RecordInbound stores a customer's message (the same wamid twice is one
// row) and reports whether it was new.
func RecordInbound(ctx context.Context, tn models.Tenant, in Inbound) (bool, error) {
	in.ID = 0
	in.BusinessID = tn.BusinessID()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = tn.DB().Now()
	}
	in.SentAt, in.ReceivedAt = in.SentAt.UTC(), in.ReceivedAt.UTC()
	res := tn.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&in)
	return res.RowsAffected > 0, models.Wrap("messages.RecordInbound", res.Error)
}

// Replies lists the newest messages a contact wrote, newest first.
func Replies(ctx context.Context, tn models.Tenant, contactID int64, limit int) ([]Inbound, error) {
	var out []Inbound
	err := tn.Scoped(ctx).Where("contact_id = ?", contactID).Order("sent_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, models.Wrap("messages.Replies", err)
}

// WindowEnd is when the contact's customer-service window closes (their
// last message + 24 h), zero when they never wrote.
func WindowEnd(ctx context.Context, tn models.Tenant, contactID int64) (time.Time, error) {
	var last Inbound
	res := tn.Scoped(ctx).Where("contact_id = ?", contactID).Order("sent_at DESC").Limit(1).Find(&last)
	if res.Error != nil || res.RowsAffected == 0 {
		return time.Time{}, models.Wrap("messages.WindowEnd", res.Error)
	}
	return last.SentAt.Add(ServiceWindow), nil
}

// ServiceWindowOpen reports whether the contact's 24-hour
// customer-service window is open at the given time: they wrote to the
// business within the 24 hours before it (billing and free-form sending
// ask this).
func ServiceWindowOpen(ctx context.Context, tn models.Tenant, contactID int64, at time.Time) (bool, error) {
	var n int64
	err := tn.Scoped(ctx).Model(&Inbound{}).
		Where("contact_id = ? AND sent_at > ? AND sent_at <= ?", contactID, at.Add(-ServiceWindow).UTC(), at.UTC()).
		Limit(1).Count(&n).Error
	return n > 0, models.Wrap("messages.ServiceWindowOpen", err)
}
