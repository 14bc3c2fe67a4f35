package campaigns

import (
	"context"
	"strings"

	"github.com/optline/optline/models"
)

// Skip reasons of campaign messages (messages.skip_reason).
const (
	SkipOptedOut        = "opted_out"        // opted out after the audience was frozen
	SkipSuppressed      = "suppressed"       // suppressed after the audience was frozen
	SkipCancelled       = "cancelled"        // the campaign was cancelled before it was sent
	SkipLeftOut         = "left_out"         // beyond what fitted the tier or budget
	SkipMissingVariable = "missing_variable" // a variable had no value and no fallback
)

// Freeze writes the campaign's audience as it is now into messages: one
// queued row per recipient (RecipientWhere: a member of the audience, opted
// in, not suppressed, with a value or fallback for every variable, the
// same who the confirmation counted),
// with the template and the billing category (lower case). With fit >= 0
// only the first fit members by contact id are queued; the rest
// get a row skipped as "left_out", so who was left out can be listed. It
// is one INSERT … SELECT (two with a fit), and idempotent: the unique
// (campaign_id, contact_id) key makes a second call add nothing. It sets
// and stores Recipients (messages that go out) and LeftOut, and FrozenAt
// when it was not set, and returns Recipients. Country and the rendered
// variables are filled when each message is sent. Call it inside the
// transaction that starts the campaign (Tenant.Tx).
func Freeze(ctx context.Context, tn models.Tenant, c *Campaign, fit int) (int, error) {
	if err := tn.Check(); err != nil {
		return 0, models.Wrap("campaigns.Freeze", err)
	}
	if c.BusinessID != tn.BusinessID() {
		return 0, models.Wrap("campaigns.Freeze", models.ErrNotFound)
	}
	members, args, err := c.RecipientWhere(ctx, tn)
	if err != nil {
		return 0, models.Wrap("campaigns.Freeze", err)
	}
	now := tn.DB().Now().UTC()
	// Every message of a campaign is created at its freeze time, so a
	// table partitioned by month keeps a campaign in one partition and
	// its unique key (campaign_id, contact_id, created_at) still makes a
	// second freeze add nobody.
	created := now
	if c.FrozenAt != nil {
		created = c.FrozenAt.UTC()
	}
	category := strings.ToLower(c.Category)
	insert := func(state, reason, limit string) error {
		q := `INSERT INTO messages (business_id, contact_id, campaign_id, template_id, template_name, template_language, to_phone,
			state, state_rank, category, skip_reason, created_at, updated_at)
		SELECT c.business_id, c.id, ?, ?, ?, ?, c.phone, ?, 0, ?, ?, ?, ?
		FROM contacts c WHERE c.business_id = ? AND ` + members + limit + `
		ON CONFLICT DO NOTHING`
		all := append([]any{c.ID, c.TemplateID, c.TemplateName, c.TemplateLanguage, state, category, reason, created, now, c.BusinessID}, args...)
		return tn.Gorm(ctx).Exec(q, all...).Error
	}
	if fit >= 0 {
		if err := insert("queued", "", " ORDER BY c.id LIMIT "+itoa(fit)); err != nil {
			return 0, models.Wrap("campaigns.Freeze", err)
		}
		if err := insert("skipped", SkipLeftOut, ""); err != nil {
			return 0, models.Wrap("campaigns.Freeze", err)
		}
	} else if err := insert("queued", "", ""); err != nil {
		return 0, models.Wrap("campaigns.Freeze", err)
	}
	var n struct{ Recipients, LeftOut int }
	err = tn.Gorm(ctx).Raw(`SELECT COALESCE(SUM(CASE WHEN skip_reason = ? THEN 0 ELSE 1 END), 0) AS recipients,
		COALESCE(SUM(CASE WHEN skip_reason = ? THEN 1 ELSE 0 END), 0) AS left_out
		FROM messages WHERE campaign_id = ? AND business_id = ?`, SkipLeftOut, SkipLeftOut, c.ID, c.BusinessID).Scan(&n).Error
	if err != nil {
		return 0, models.Wrap("campaigns.Freeze", err)
	}
	set := map[string]any{"recipients": n.Recipients, "left_out": n.LeftOut, "updated_at": now}
	if c.FrozenAt == nil {
		set["frozen_at"] = created
		c.FrozenAt = &created
	}
	if err := tn.Scoped(ctx).Model(&Campaign{}).Where("id = ?", c.ID).Updates(set).Error; err != nil {
		return 0, models.Wrap("campaigns.Freeze", err)
	}
	c.Recipients, c.LeftOut, c.UpdatedAt = n.Recipients, n.LeftOut, now
	return n.Recipients, nil
}

func itoa(n int) string { return models.Itoa(int64(n)) }
