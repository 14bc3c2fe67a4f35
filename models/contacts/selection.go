package contacts

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// Selection picks contacts for a bulk action: the listed ids, or when
// there are none, everyone matching Filter.
type Selection struct {
	IDs    []int64
	Filter *ContactFilter
}

// MaxSelectedIDs is the most ids a selection may list.
const MaxSelectedIDs = 1000

// ErrEmptySelection is returned for a selection with neither ids nor filter.
var ErrEmptySelection = errors.New("no contacts selected")

// selectionWhere is the selection's condition on contacts aliased c.
func selectionWhere(ctx context.Context, t models.Tenant, sel Selection) (string, []any, error) {
	if err := t.Check(); err != nil {
		return "", nil, err
	}
	switch {
	case len(sel.IDs) > MaxSelectedIDs:
		return "", nil, models.Invalid("ids", "bulk.too_many", MaxSelectedIDs)
	case len(sel.IDs) > 0:
		return "c.business_id = ? AND c.id IN ?", []any{t.BusinessID(), sel.IDs}, nil
	case sel.Filter != nil:
		return where(ctx, t, *sel.Filter)
	}
	return "", nil, ErrEmptySelection
}

// tagSelection checks the tag of a bulk tag action and builds the
// selection's condition.
func tagSelection(ctx context.Context, t models.Tenant, sel Selection, tag string) (string, string, []any, error) {
	tag = NormalizeTag(tag)
	if err := checkTag("tag", tag); err != nil {
		return "", "", nil, err
	}
	cond, args, err := selectionWhere(ctx, t, sel)
	return tag, cond, args, err
}

// BulkTag adds tag to the selected contacts and returns how many gained it.
func BulkTag(ctx context.Context, t models.Tenant, sel Selection, tag string) (int64, error) {
	tag, cond, args, err := tagSelection(ctx, t, sel, tag)
	if err != nil {
		return 0, models.Wrap("contacts.BulkTag", err)
	}
	res := t.DB().WithContext(ctx).Exec(`INSERT INTO contact_tags (business_id, contact_id, tag)
		SELECT c.business_id, c.id, ? FROM contacts c WHERE `+cond+` ON CONFLICT DO NOTHING`, append([]any{tag}, args...)...)
	tagsChanged(t)
	return res.RowsAffected, res.Error
}

// BulkUntag removes tag from the selected contacts and returns how many
// lost it.
func BulkUntag(ctx context.Context, t models.Tenant, sel Selection, tag string) (int64, error) {
	tag, cond, args, err := tagSelection(ctx, t, sel, tag)
	if err != nil {
		return 0, models.Wrap("contacts.BulkUntag", err)
	}
	res := t.DB().WithContext(ctx).Exec(`DELETE FROM contact_tags WHERE business_id = ? AND tag = ? AND contact_id IN (SELECT c.id FROM contacts c WHERE `+cond+`)`,
		append([]any{t.BusinessID(), tag}, args...)...)
	tagsChanged(t)
	return res.RowsAffected, res.Error
}

// BulkOptOut opts out every selected contact not opted out yet, now, and
// returns how many. Set-based: the consent events are written first and
// then mark which contacts this action changes, for the suppressions and
// the contacts' state.
func BulkOptOut(ctx context.Context, t models.Tenant, sel Selection, source, recordedBy string) (int64, error) {
	cond, args, err := selectionWhere(ctx, t, sel)
	if err != nil {
		return 0, models.Wrap("contacts.BulkOptOut", err)
	}
	source = strings.TrimSpace(source)
	if source == "" {
		source = OptOutBulk
	}
	var n int64
	err = t.DB().Tx(ctx, func(tx *gorm.DB) error {
		now := t.DB().Now()
		res := tx.Exec(`INSERT INTO consent_events (business_id, contact_id, phone_hash, kind, at, source, source_text, wording, recorded_by, created_at)
			SELECT c.business_id, c.id, c.phone_hash, 'opt_out', ?, ?, '', '', ?, ? FROM contacts c WHERE `+cond+` AND c.consent_state <> 'opted_out'`,
			append([]any{now, source, recordedBy, now}, args...)...)
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		if n == 0 {
			return nil
		}
		mark := `SELECT %s FROM consent_events e WHERE e.business_id = ? AND e.kind = 'opt_out' AND e.created_at = ? AND e.recorded_by = ? AND e.source = ?`
		markArgs := []any{t.BusinessID(), now, recordedBy, source}
		if err := tx.Exec(`INSERT INTO suppressions (business_id, phone_hash, opted_out_at, source, created_at) `+
			strings.Replace(mark, "%s", "e.business_id, e.phone_hash, e.at, e.source, e.created_at", 1)+
			` ON CONFLICT (business_id, phone_hash) DO UPDATE SET opted_out_at = excluded.opted_out_at, source = excluded.source`, markArgs...).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE contacts SET consent_state = 'opted_out', opted_out_at = ?, updated_at = ? WHERE business_id = ? AND id IN (`+
			strings.Replace(mark, "%s", "e.contact_id", 1)+`)`, append([]any{now, now, t.BusinessID()}, markArgs...)...).Error
	})
	return n, models.Wrap("contacts.BulkOptOut", err)
}

// CountOptOutable counts the selected contacts an opt-out would change
// (those not opted out yet).
func CountOptOutable(ctx context.Context, t models.Tenant, sel Selection) (int64, error) {
	cond, args, err := selectionWhere(ctx, t, sel)
	if err != nil {
		return 0, models.Wrap("contacts.CountOptOutable", err)
	}
	var n int64
	err = t.DB().WithContext(ctx).Raw(`SELECT COUNT(*) FROM contacts c WHERE `+cond+` AND c.consent_state <> 'opted_out'`, args...).Scan(&n).Error
	return n, models.Wrap("contacts.CountOptOutable", err)
}
