package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Reasons (campaigns.state_reason): why a campaign is paused, or what a
// sending campaign waits for. Each has its text under "sending.reason.*"
// in i18n sending.json (ReasonKey).
const (
	ReasonStaff            = "staff"               // paused by a member of the business
	ReasonTemplatePaused   = "template_paused"     // the platform paused the template
	ReasonTemplateDisabled = "template_disabled"   // the platform disabled the template
	ReasonTemplateOther    = "template_unapproved" // the template is no longer approved
	ReasonSuspended        = "business_suspended"  // administrators suspended the business
	ReasonSender           = "sender_config"       // the sender or the platform's access is misconfigured
	ReasonWindow           = "waiting_window"      // sending: outside the send window until it opens
	ReasonRetry            = "waiting_retry"       // sending: only messages to retry later are left
)

// ReasonKey is the i18n key of a state reason's text ("" for none).
func ReasonKey(reason string) string {
	if reason == "" {
		return ""
	}
	return "sending.reason." + reason
}

// ErrState is a transition the campaign's state does not allow (resume a
// campaign that is not paused, cancel one that is over); it is a
// models.ErrConflict.
var ErrState = fmt.Errorf("%w: the campaign's state does not allow this", models.ErrConflict)

// load reads one of tn's campaigns (inside tn's transaction, when it has one).
func load(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	var c Campaign
	err := tn.Scoped(ctx).Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, models.Wrap("campaigns.load", err)
	}
	return &c, nil
}

// Load reads one of tn's campaigns as the sender sees it
// (models.ErrNotFound for another business's).
func Load(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	return load(ctx, tn, id)
}

// transition moves campaign id from one of from to state with set, and
// returns the campaign after it; when it was already in state it is
// returned unchanged (a second click changes nothing), and any other state
// is ErrState.
func transition(ctx context.Context, tn models.Tenant, id int64, from []string, state string, set map[string]any) (*Campaign, bool, error) {
	set["state"] = state
	set["updated_at"] = tn.DB().Now().UTC()
	res := tn.Scoped(ctx).Model(&Campaign{}).Where("id = ? AND state IN ?", id, from).Updates(set)
	if res.Error != nil {
		return nil, false, models.Wrap("campaigns.transition", res.Error)
	}
	c, err := load(ctx, tn, id)
	if err != nil {
		return nil, false, err
	}
	if res.RowsAffected == 0 && c.State != state {
		return c, false, ErrState
	}
	return c, res.RowsAffected > 0, nil
}

// Pause pauses a scheduled or sending campaign with reason (ReasonStaff,
// ReasonTemplatePaused, …). The sender stops before its next batch; the
// messages in flight finish. Pausing a paused campaign changes nothing.
func Pause(ctx context.Context, tn models.Tenant, id int64, reason string) (*Campaign, error) {
	c, _, err := transition(ctx, tn, id, []string{Scheduled, Sending}, Paused, map[string]any{"state_reason": reason})
	return c, err
}

// Resume continues a paused campaign: sending when its audience was
// frozen, else scheduled (it starts when its time comes). It reports
// whether it moved (false: it was not paused, with ErrState, or a second
// click). The caller checks first that the business and the template
// allow sending, and enqueues the sender.
func Resume(ctx context.Context, tn models.Tenant, id int64) (*Campaign, bool, error) {
	c, err := load(ctx, tn, id)
	if err != nil {
		return nil, false, err
	}
	to := Scheduled
	if c.FrozenAt != nil {
		to = Sending
	}
	if c.State == Sending || c.State == Scheduled {
		return c, false, nil
	}
	return transition(ctx, tn, id, []string{Paused}, to, map[string]any{"state_reason": ""})
}

// Cancel stops a campaign that is not over: its queued messages are
// skipped as "cancelled" (the ones in flight finish and keep their
// outcome). Cancelling a cancelled campaign changes nothing; a done one
// is ErrState.
func Cancel(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	var c *Campaign
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		now := tx.DB().Now().UTC()
		var err error
		c, _, err = transition(ctx, tx, id, []string{Draft, Scheduled, Sending, Paused}, Cancelled,
			map[string]any{"state_reason": "", "cancelled_at": now, "finished_at": now})
		if err != nil {
			return err
		}
		return SkipQueued(ctx, tx, id, SkipCancelled)
	})
	if err != nil {
		return nil, models.Wrap("campaigns.Cancel", err)
	}
	return c, nil
}

// SkipQueued skips the campaign's queued messages with reason (a run
// stopping after a cancel puts back what it had not sent: those are
// skipped too).
func SkipQueued(ctx context.Context, tn models.Tenant, id int64, reason string) error {
	err := tn.Scoped(ctx).Table("messages").Where("campaign_id = ? AND state = ?", id, "queued").
		Updates(map[string]any{"state": "skipped", "skip_reason": reason, "updated_at": tn.DB().Now().UTC()}).Error
	return models.Wrap("campaigns.SkipQueued", err)
}

// Finish marks a sending campaign done when none of its messages is
// queued or being sent, in one statement (so a message queued again
// meanwhile keeps it sending), and reports whether it did.
func Finish(ctx context.Context, tn models.Tenant, id int64) (bool, error) {
	now := tn.DB().Now().UTC()
	res := tn.Scoped(ctx).Model(&Campaign{}).Where(`id = ? AND state = ? AND NOT EXISTS (SELECT 1 FROM messages m
		WHERE m.campaign_id = campaigns.id AND m.business_id = campaigns.business_id AND m.state IN ('queued', 'sending'))`, id, Sending).
		Updates(map[string]any{"state": Done, "state_reason": "", "finished_at": now, "updated_at": now})
	return res.RowsAffected > 0, models.Wrap("campaigns.Finish", res.Error)
}

// SetReason records what a sending campaign waits for ("" when nothing);
// it changes nothing when the campaign is in another state or already
// says so.
func SetReason(ctx context.Context, tn models.Tenant, id int64, reason string) error {
	err := tn.Scoped(ctx).Model(&Campaign{}).Where("id = ? AND state = ? AND state_reason <> ?", id, Sending, reason).
		Updates(map[string]any{"state_reason": reason, "updated_at": tn.DB().Now().UTC()}).Error
	return models.Wrap("campaigns.SetReason", err)
}

// Begin moves a scheduled campaign whose time has come (scheduled_at at
// or before now) to sending, and reports whether this call did: of two
// concurrent calls (two clicks, two servers) exactly one does, because
// the row is updated under its lock and the second sees it sending. Call
// it in the transaction that freezes the audience and enqueues the run.
func Begin(ctx context.Context, tn models.Tenant, id int64, now time.Time) (bool, error) {
	now = now.UTC()
	res := tn.Scoped(ctx).Model(&Campaign{}).Where("id = ? AND state = ? AND (scheduled_at IS NULL OR scheduled_at <= ?)", id, Scheduled, now).
		Updates(map[string]any{"state": Sending, "state_reason": "", "started_at": now, "updated_at": now})
	return res.RowsAffected > 0, models.Wrap("campaigns.Begin", res.Error)
}

// Reopen puts a done campaign back to sending (failed messages were
// queued again); a sending or paused one stays as it is. It reports
// whether the campaign will send (sending now), and ErrState for a
// cancelled campaign or one never started.
func Reopen(ctx context.Context, tn models.Tenant, id int64) (bool, error) {
	c, moved, err := transition(ctx, tn, id, []string{Done}, Sending, map[string]any{"finished_at": nil, "state_reason": ""})
	if errors.Is(err, ErrState) && c != nil && (c.State == Paused) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return moved || c.State == Sending, nil
}
