package templates

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
)

// Template states: Draft is ours (never submitted, or edited after a
// rejection); the others are the platform's.
const (
	StateDraft    = "DRAFT"
	StatePending  = "PENDING"
	StateApproved = "APPROVED"
	StateRejected = "REJECTED"
	StatePaused   = "PAUSED"
	StateDisabled = "DISABLED"
)

// States lists every state, for filters.
var States = []string{StateDraft, StatePending, StateApproved, StateRejected, StatePaused, StateDisabled}

// Quality ratings of the platform.
const (
	QualityUnknown = "UNKNOWN"
	QualityGreen   = "GREEN"
	QualityYellow  = "YELLOW"
	QualityRed     = "RED"
)

// Template is a stored message template.
type Template struct {
	ID           int64
	BusinessID   int64
	Name         string
	Language     string
	Category     string
	Header       string
	HeaderSample string
	Body         string
	// BodySamplesJSON and ButtonsJSON hold the samples and buttons as
	// JSON; use Samples and ButtonList.
	BodySamplesJSON string `gorm:"column:body_samples"`
	Footer          string
	ButtonsJSON     string `gorm:"column:buttons"`
	Status          string
	Reason          string
	Detail          string
	Quality         string
	ExternalID      string
	AccountID       string
	SubmittedAt     *time.Time
	StatusAt        *time.Time
	QualityAt       *time.Time
	CreatedByID     *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName is the templates table.
func (Template) TableName() string { return "message_templates" }

// Samples are the body's sample values, by variable.
func (t *Template) Samples() []string {
	var s []string
	_ = json.Unmarshal([]byte(t.BodySamplesJSON), &s)
	return s
}

// ButtonList is the template's buttons.
func (t *Template) ButtonList() []channel.Button {
	var b []channel.Button
	_ = json.Unmarshal([]byte(t.ButtonsJSON), &b)
	return b
}

// Editable reports whether staff may change the template: while a
// draft, or after the platform rejected it.
func (t *Template) Editable() bool { return t.Status == StateDraft || t.Status == StateRejected }

// Submittable reports whether the template may be sent for review.
func (t *Template) Submittable() bool { return t.Editable() }

// Input is the template as the editor shows it.
func (t *Template) Input() Input {
	return Input{Name: t.Name, Language: t.Language, Category: t.Category, Header: t.Header, HeaderSample: t.HeaderSample,
		Body: t.Body, BodySamples: t.Samples(), Footer: t.Footer, Buttons: t.ButtonList()}
}

// Channel is the template as submitted to the platform.
func (t *Template) Channel() channel.Template {
	return channel.Template{Name: t.Name, Language: t.Language, Category: t.Category, Header: t.Header,
		HeaderSample: t.HeaderSample, Body: t.Body, BodySamples: t.Samples(), Footer: t.Footer, Buttons: t.ButtonList()}
}

// NewInput is the editor's starting point: a marketing template carries
// the opt-out quick reply by default.
func NewInput(category string) Input {
	in := Input{Language: "en", Category: category}
	if in.Category == "" {
		in.Category = channel.CategoryMarketing
	}
	if in.Category == channel.CategoryMarketing {
		in.Buttons = []channel.Button{{Type: channel.ButtonQuickReply, Text: OptOutText}}
	}
	return in
}

func itoa(n int) string { return strconv.Itoa(n) }

func auditLabel(name, lang string) string { return name + " (" + lang + ")" }

func fieldsOf(in Input) map[string]any {
	samples, _ := json.Marshal(nonNil(in.BodySamples))
	buttons, _ := json.Marshal(nonNilButtons(in.Buttons))
	return map[string]any{"name": in.Name, "language": in.Language, "category": in.Category,
		"header": in.Header, "header_sample": in.HeaderSample, "body": in.Body, "body_samples": string(samples),
		"footer": in.Footer, "buttons": string(buttons)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilButtons(b []channel.Button) []channel.Button {
	if b == nil {
		return []channel.Button{}
	}
	return b
}

// List is the business's templates, by name and language.
func List(ctx context.Context, tn models.Tenant) ([]Template, error) {
	var out []Template
	err := tn.Scoped(ctx).Order("name, language, id").Find(&out).Error
	return out, models.Wrap("templates.List", err)
}

// Get loads one of the business's templates; another business's id is
// models.ErrNotFound.
func Get(ctx context.Context, tn models.Tenant, id int64) (*Template, error) {
	var t Template
	if err := tn.First(ctx, &t, id); err != nil {
		return nil, models.Wrap("templates.Get", err)
	}
	return &t, nil
}

// nameTaken checks the business+name+language rule.
func nameTaken(tx *gorm.DB, tn models.Tenant, name, lang string, except int64) (bool, error) {
	var n int64
	err := tn.ScopedTx(tx).Model(&Template{}).Where("name = ? AND language = ? AND id <> ?", name, lang, except).Count(&n).Error
	return n > 0, err
}

// Create validates and stores a new draft.
func Create(ctx context.Context, tn models.Tenant, actor *models.User, in Input, ip string) (*Template, error) {
	in = in.normalize()
	if err := Check(in); err != nil {
		return nil, models.Wrap("templates.Create", err)
	}
	var out Template
	err := tn.DB().Tx(ctx, func(tx *gorm.DB) error {
		if taken, err := nameTaken(tx, tn, in.Name, in.Language, 0); err != nil {
			return err
		} else if taken {
			return models.Invalid("name", "templates.name.taken", in.Language)
		}
		now := tn.DB().Now()
		f := fieldsOf(in)
		out = Template{BusinessID: tn.BusinessID(), Name: in.Name, Language: in.Language, Category: in.Category,
			Header: in.Header, HeaderSample: in.HeaderSample, Body: in.Body, BodySamplesJSON: f["body_samples"].(string),
			Footer: in.Footer, ButtonsJSON: f["buttons"].(string), Status: StateDraft, Quality: QualityUnknown,
			CreatedByID: &actor.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		return audit(tx, now, actor, &out, "template.created", "", ip)
	})
	if err != nil {
		return nil, models.Wrap("templates.Create", err)
	}
	return &out, nil
}

func audit(tx *gorm.DB, now time.Time, actor *models.User, t *Template, action, prev, ip string) error {
	e := models.AuditEntry{BusinessID: t.BusinessID, Action: action, TargetType: "template",
		TargetID: strconv.FormatInt(t.ID, 10), Detail: auditLabel(t.Name, t.Language), Previous: prev, IP: ip}
	if actor != nil {
		e.ActorID, e.ActorEmail = actor.ID, actor.Email
	}
	return models.WriteAudit(tx, now, e)
}

// lock loads the template in tx after taking the business's write lock,
// so that edits, submissions and events of one business are serialised.
func lock(tx *gorm.DB, tn models.Tenant, id int64) (*Template, error) {
	if res := tx.Exec("UPDATE businesses SET updated_at = updated_at WHERE id = ?", tn.BusinessID()); res.Error != nil {
		return nil, res.Error
	}
	var t Template
	err := tn.ScopedTx(tx).First(&t, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &t, err
}

// ErrNotEditable is returned for a change to a template under review or
// approved: the platform does not allow it.
var ErrNotEditable = errors.New("templates: the template cannot be changed in its state")

// Update changes a draft or rejected template. A rejected template
// becomes a draft again (its reason kept until it is submitted again).
func Update(ctx context.Context, tn models.Tenant, actor *models.User, id int64, in Input, ip string) (*Template, error) {
	in = in.normalize()
	if err := Check(in); err != nil {
		return nil, models.Wrap("templates.Update", err)
	}
	var out *Template
	err := tn.DB().Tx(ctx, func(tx *gorm.DB) error {
		t, err := lock(tx, tn, id)
		if err != nil {
			return err
		}
		if !t.Editable() {
			return models.Invalid("", "templates.not_editable")
		}
		if taken, err := nameTaken(tx, tn, in.Name, in.Language, id); err != nil {
			return err
		} else if taken {
			return models.Invalid("name", "templates.name.taken", in.Language)
		}
		now := tn.DB().Now()
		upd := fieldsOf(in)
		upd["status"], upd["updated_at"] = StateDraft, now
		if err := tn.ScopedTx(tx).Model(&Template{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		prev := ""
		if t.Status != StateDraft {
			prev = "state " + t.Status
		}
		if t.Name != in.Name || t.Language != in.Language {
			prev = strings.TrimSpace(prev + " " + auditLabel(t.Name, t.Language))
		}
		t.Name, t.Language = in.Name, in.Language
		if err := audit(tx, now, actor, t, "template.updated", prev, ip); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, models.Wrap("templates.Update", err)
	}
	return Get(ctx, tn, out.ID)
}

// Copy makes a new draft from a template, named <name>_copy (or _copy_2…).
func Copy(ctx context.Context, tn models.Tenant, actor *models.User, id int64, ip string) (*Template, error) {
	src, err := Get(ctx, tn, id)
	if err != nil {
		return nil, models.Wrap("templates.Copy", err)
	}
	in := src.Input()
	var out Template
	err = tn.DB().Tx(ctx, func(tx *gorm.DB) error {
		base := src.Name
		if len(base) > NameMax-10 {
			base = base[:NameMax-10]
		}
		for i := 1; ; i++ {
			in.Name = base + "_copy"
			if i > 1 {
				in.Name += "_" + itoa(i)
			}
			taken, err := nameTaken(tx, tn, in.Name, in.Language, 0)
			if err != nil {
				return err
			}
			if !taken {
				break
			}
		}
		now := tn.DB().Now()
		f := fieldsOf(in)
		out = Template{BusinessID: tn.BusinessID(), Name: in.Name, Language: in.Language, Category: in.Category,
			Header: in.Header, HeaderSample: in.HeaderSample, Body: in.Body, BodySamplesJSON: f["body_samples"].(string),
			Footer: in.Footer, ButtonsJSON: f["buttons"].(string), Status: StateDraft, Quality: QualityUnknown,
			CreatedByID: &actor.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		return audit(tx, now, actor, &out, "template.copied", "copy of "+auditLabel(src.Name, src.Language), ip)
	})
	if err != nil {
		return nil, models.Wrap("templates.Copy", err)
	}
	return &out, nil
}

// Delete removes a template from Optline. A submitted one stays on the
// platform's account (the channel has no delete call yet); its later
// events are then unknown and kept for review by the intake.
func Delete(ctx context.Context, tn models.Tenant, actor *models.User, id int64, ip string) error {
	err := tn.DB().Tx(ctx, func(tx *gorm.DB) error {
		t, err := lock(tx, tn, id)
		if err != nil {
			return err
		}
		if err := tn.ScopedTx(tx).Delete(&Template{}, "id = ?", id).Error; err != nil {
			return err
		}
		return audit(tx, tn.DB().Now(), actor, t, "template.deleted", "state "+t.Status, ip)
	})
	return models.Wrap("templates.Delete", err)
}

// Submit checks the template against the rules once more and sends it for
// review through the provider with the business's sender; it stores the
// platform's id and its answer (PENDING, or an immediate decision).
func Submit(ctx context.Context, tn models.Tenant, actor *models.User, p channel.Provider, id int64, ip string) (*Template, error) {
	t, err := Get(ctx, tn, id)
	if err != nil {
		return nil, models.Wrap("templates.Submit", err)
	}
	if !t.Submittable() {
		return nil, models.Wrap("templates.Submit", models.Invalid("", "templates.not_submittable"))
	}
	if err := Check(t.Input()); err != nil {
		return nil, models.Wrap("templates.Submit", err)
	}
	if p == nil {
		return nil, models.Wrap("templates.Submit", models.Invalid("", "templates.submit.no_channel"))
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return nil, models.Wrap("templates.Submit", err)
	}
	sender := channel.Sender{BusinessID: b.ID, PhoneNumberID: b.PhoneNumberID, AccountID: b.WABAID}
	if p.Name() != "sandbox" && (sender.PhoneNumberID == "" || sender.AccountID == "") {
		return nil, models.Wrap("templates.Submit", models.Invalid("", "templates.submit.no_sender"))
	}
	// Claim: one conditional UPDATE puts the template in review before
	// the platform is called, so a second click (or another server) finds
	// it in review and calls nothing; nobody can edit it meanwhile. A
	// failed call puts it back. The platform is called outside any
	// transaction.
	prev := t.Status
	res := tn.Scoped(ctx).Model(&Template{}).Where("id = ? AND status IN ?", id, []string{StateDraft, StateRejected}).
		Updates(map[string]any{"status": StatePending, "updated_at": tn.DB().Now()})
	if res.Error != nil {
		return nil, models.Wrap("templates.Submit", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, models.Wrap("templates.Submit", models.Invalid("", "templates.not_submittable"))
	}
	release := func() {
		_ = tn.Scoped(context.WithoutCancel(ctx)).Model(&Template{}).Where("id = ? AND status = ? AND external_id = ''", id, StatePending).
			Updates(map[string]any{"status": prev, "updated_at": tn.DB().Now()}).Error
	}
	// What is submitted is what was claimed (an edit may have landed
	// between the first read and the claim).
	if t, err = Get(ctx, tn, id); err == nil {
		err = Check(t.Input())
	}
	if err != nil {
		release()
		return nil, models.Wrap("templates.Submit", err)
	}
	ans, err := p.SubmitTemplate(ctx, sender, t.Channel())
	if err != nil {
		release()
		key := "templates.submit.failed"
		title := err.Error()
		if pe, ok := channel.AsError(err); ok {
			title = pe.Title
			if pe.Config {
				key = "templates.submit.config"
			}
		}
		return nil, models.Wrap("templates.Submit", errors.Join(models.Invalid("", key, title), err))
	}
	status := strings.ToUpper(ans.Status)
	if status != StateApproved && status != StateRejected {
		status = StatePending
	}
	err = tn.DB().Tx(ctx, func(tx *gorm.DB) error {
		cur, err := lock(tx, tn, id)
		if err != nil {
			return err
		}
		// The account the template now belongs to: the business's, read
		// again (the sandbox gives a business without a sender its
		// synthetic one while submitting).
		account := sender.AccountID
		var b models.Business
		if err := tx.First(&b, "id = ?", tn.BusinessID()).Error; err != nil {
			return err
		}
		if account == "" {
			account = b.WABAID
		}
		now := tn.DB().Now()
		upd := map[string]any{"status": status, "reason": "", "detail": "", "external_id": ans.ExternalID,
			"account_id": account, "submitted_at": now, "status_at": now, "updated_at": now}
		if ans.Category != "" && isCategory(strings.ToUpper(ans.Category)) {
			upd["category"] = strings.ToUpper(ans.Category)
		}
		if err := tn.ScopedTx(tx).Model(&Template{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		return audit(tx, now, actor, cur, "template.submitted", "state "+prev, ip)
	})
	if err != nil {
		return nil, models.Wrap("templates.Submit", err)
	}
	return Get(ctx, tn, id)
}

// AdminRow is a template on the administrators' list.
type AdminRow struct {
	Template
	BusinessName string
}

// All lists every business's templates (administrators), newest first,
// optionally of one state.
func All(ctx context.Context, db *models.DB, state string, limit int) ([]AdminRow, error) {
	q := db.WithContext(ctx).Table("message_templates AS t").
		Select("t.*, b.name AS business_name").Joins("JOIN businesses b ON b.id = t.business_id")
	if state != "" {
		q = q.Where("t.status = ?", state)
	}
	var rows []AdminRow
	err := q.Order("t.updated_at DESC, t.id DESC").Limit(limit).Scan(&rows).Error
	return rows, models.Wrap("templates.All", err)
}
