package handlers

import (
	"context"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/views"
)

// contactReplies fills the contact page's "Replies": the newest 20
// messages the contact wrote and their customer-service window.
func contactReplies(ctx context.Context, tn models.Tenant, contactID int64, now time.Time, vm *views.ContactVM) error {
	rs, err := messages.Replies(ctx, tn, contactID, 20)
	if err != nil || len(rs) == 0 {
		return err
	}
	for _, r := range rs {
		vm.Replies = append(vm.Replies, views.ReplyRow{At: r.SentAt, Kind: r.Kind, Text: r.Body, OptOut: r.OptOut})
	}
	vm.WindowEnd = rs[0].SentAt.Add(messages.ServiceWindow)
	vm.WindowOpen = now.Before(vm.WindowEnd)
	return nil
}
