package webhook

// The contact book as the intake uses it, in one small file: the contacts
// code may move into its own package.

import (
	"context"
	"errors"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/messages"
)

// contactOf is the id of tn's contact with the number, or nil.
func contactOf(ctx context.Context, tn models.Tenant, e164 string) (*int64, error) {
	if e164 == "" {
		return nil, nil
	}
	c, err := contacts.ByPhone(ctx, tn, e164)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c.ID, nil
}

// optOut records the customer's STOP: the suppression, the consent event
// with the message as its evidence, the contact opted out.
func optOut(ctx context.Context, tn models.Tenant, e164, evidence string, at time.Time) error {
	return contacts.OptOutPhone(ctx, tn, e164, evidence, "webhook", at)
}

// inbound records one message a customer wrote: an opt-out when it says
// stop, otherwise a reply, which opens the customer-service window.
func (e *Engine) inbound(ctx context.Context, tn models.Tenant, v *MessagesValue, m Inbound, received time.Time) error {
	from := ""
	if m.From != "" {
		from = "+" + m.From
		if !contacts.ValidE164(from) {
			from = ""
		}
	}
	userID := m.UserID
	if userID == "" {
		for _, c := range v.Contacts {
			if c.WAID != "" && c.WAID == m.From {
				userID = c.UserID
			}
		}
	}
	cid, err := contactOf(ctx, tn, from)
	if err != nil {
		return err
	}
	at := Time(m.Timestamp, received)
	in := messages.Inbound{ContactID: cid, FromPhone: from, UserID: truncate(userID, 200), WAMID: truncate(m.ID, 200),
		Kind: truncate(m.Type, 32), Body: truncate(m.Says(), 4096), OptOut: m.IsOptOut(), SentAt: at, ReceivedAt: received}
	if in.WAMID == "" {
		return models.Invalid("id", "webhook.no_id")
	}
	if in.OptOut && from != "" {
		evidence := truncate("reply \""+m.Says()+"\" ("+m.Type+", "+m.ID+")", 500)
		if err := optOut(ctx, tn, from, evidence, at); err != nil {
			return err
		}
	}
	_, err = messages.RecordInbound(ctx, tn, in)
	return err
}
