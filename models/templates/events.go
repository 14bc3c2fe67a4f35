package templates

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
)

// Events applies the platform's template events to the templates
// (channel.TemplateEvents, used by the webhook intake).
type Events struct{ DB *models.DB }

var _ channel.TemplateEvents = Events{}

// statusOf maps the platform's event names to a state; "" is an event
// that changes no state (FLAGGED: a quality warning, kept as detail).
func statusOf(event string) string {
	switch strings.ToUpper(event) {
	case "PENDING", "IN_APPEAL":
		return StatePending
	case "APPROVED", "REINSTATED":
		return StateApproved
	case "REJECTED":
		return StateRejected
	case "PAUSED":
		return StatePaused
	case "DISABLED", "PENDING_DELETION", "DELETED":
		return StateDisabled
	}
	return ""
}

// ApplyTemplateEvent finds the template an event is about — by the
// platform's template id (unique on the platform), else by name and
// language within the business account — and applies it:
//
//   - a status event sets the state (with the reason and detail); an
//     event older than the last applied one is ignored (events arrive
//     unordered), and no event moves a template that was approved (or
//     paused or disabled after approval) back to pending;
//   - a quality event sets the quality rating, newest wins;
//   - a category event sets the category.
//
// An event for no template of ours is models.ErrNotFound: the intake
// keeps it for review. Every change is audited.
func (e Events) ApplyTemplateEvent(ctx context.Context, ev channel.TemplateEvent) error {
	err := e.DB.Tx(ctx, func(tx *gorm.DB) error {
		t, err := findForEvent(tx, ev)
		if err != nil {
			return err
		}
		tn, err := e.DB.Tenant(t.BusinessID)
		if err != nil {
			return err
		}
		if t, err = lock(tx, tn, t.ID); err != nil {
			return err
		}
		now := e.DB.Now()
		at := ev.At
		if at.IsZero() {
			at = now
		}
		upd := map[string]any{}
		var action, prev string
		switch ev.Kind {
		case channel.TemplateStatus:
			st := statusOf(ev.Status)
			if st == "" || (t.StatusAt != nil && at.Before(*t.StatusAt)) {
				return nil
			}
			if st == StatePending && t.Status != StateDraft && t.Status != StatePending && t.Status != StateRejected {
				return nil // never back to pending once approved
			}
			if st == t.Status && ev.Reason == t.Reason && ev.Detail == t.Detail {
				upd["status_at"] = at // a repeat: nothing to say
				break
			}
			upd["status"], upd["reason"], upd["detail"], upd["status_at"] = st, reasonOf(ev), ev.Detail, at
			action, prev = "template.status_changed", "state "+t.Status
		case channel.TemplateQuality:
			q := strings.ToUpper(ev.Quality)
			if q != QualityGreen && q != QualityYellow && q != QualityRed {
				q = QualityUnknown
			}
			if t.QualityAt != nil && at.Before(*t.QualityAt) {
				return nil
			}
			upd["quality_at"] = at
			if q != t.Quality {
				upd["quality"] = q
				action, prev = "template.quality_changed", "quality "+t.Quality
			}
		case channel.TemplateCategory:
			c := strings.ToUpper(ev.Category)
			if !isCategory(c) || c == t.Category {
				return nil
			}
			upd["category"] = c
			action, prev = "template.category_changed", "category "+t.Category
		default:
			return nil
		}
		upd["updated_at"] = now
		if err := tn.ScopedTx(tx).Model(&Template{}).Where("id = ?", t.ID).Updates(upd).Error; err != nil {
			return err
		}
		if action == "" {
			return nil
		}
		return audit(tx, now, nil, t, action, prev, "")
	})
	return models.Wrap("templates.ApplyTemplateEvent", err)
}

// reasonOf is the reason stored with a state: the platform's code, or
// "NONE" dropped.
func reasonOf(ev channel.TemplateEvent) string {
	r := strings.ToUpper(strings.TrimSpace(ev.Reason))
	if r == "NONE" {
		return ""
	}
	return r
}

// findForEvent matches an event to a template. By ExternalID first; the
// template's business must then be the event's account (when the event
// names one), so an event can never reach another business's template.
// Without an ExternalID, by name and language among the templates of the
// businesses whose account is the event's.
func findForEvent(tx *gorm.DB, ev channel.TemplateEvent) (*Template, error) {
	var t Template
	if ev.ExternalID != "" {
		err := tx.First(&t, "external_id = ?", ev.ExternalID).Error
		if err == nil {
			if ev.AccountID == "" || t.AccountID == ev.AccountID {
				return &t, nil
			}
			var b models.Business
			if err := tx.First(&b, "id = ?", t.BusinessID).Error; err == nil && b.WABAID == ev.AccountID {
				return &t, nil
			}
			return nil, models.ErrNotFound
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
	}
	if ev.AccountID == "" || ev.Name == "" || ev.Language == "" {
		return nil, models.ErrNotFound
	}
	var rows []Template
	err := tx.Where("name = ? AND language = ? AND (account_id = ? OR business_id IN (SELECT id FROM businesses WHERE waba_id = ?))",
		ev.Name, ev.Language, ev.AccountID, ev.AccountID).Order("id").Limit(2).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		// None, or the same name in two businesses sharing an account:
		// not ours to guess.
		return nil, models.ErrNotFound
	}
	return &rows[0], nil
}
