package contacts

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
)

// TagList is a list of tags stored as a JSON array.
type TagList []string

// Value stores the list as JSON text.
func (l TagList) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), models.Wrap("TagList.Value", err)
}

// Scan reads the list from JSON text.
func (l *TagList) Scan(v any) error {
	b, err := jsonTextBytes(v, "tag list")
	if b == nil || err != nil {
		*l = nil
		return models.Wrap("TagList.Scan", err)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return models.Wrap("TagList.Scan", err)
	}
	*l = out
	return nil
}

// SegmentRule picks contacts by tags: all of All, at least one of Any (when
// Any is not empty) and none of None. Only messageable contacts (opted in,
// not suppressed) are members.
type SegmentRule struct {
	All  TagList `gorm:"column:all_tags"`
	Any  TagList `gorm:"column:any_tags"`
	None TagList `gorm:"column:none_tags"`
}

// messageableCond is the condition on contacts aliased c of being
// messageable: opted in and not suppressed.
const messageableCond = "c.consent_state = 'opted_in' AND " +
	"NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.business_id = c.business_id AND s.phone_hash = c.phone_hash)"

// where is the rule's condition on contacts aliased c: messageable and
// matching the tags.
func (r SegmentRule) where() (string, []any) {
	conds, args := r.tagConds()
	return strings.Join(append([]string{messageableCond}, conds...), " AND "), args
}

// tagConds are the rule's tag conditions on contacts aliased c (none for
// a rule without tags: every contact matches).
func (r SegmentRule) tagConds() ([]string, []any) {
	var conds []string
	var args []any
	for _, tag := range r.All {
		conds = append(conds, "EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag = ?)")
		args = append(args, tag)
	}
	if len(r.Any) > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag IN ?)")
		args = append(args, []string(r.Any))
	}
	if len(r.None) > 0 {
		conds = append(conds, "NOT EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag IN ?)")
		args = append(args, []string(r.None))
	}
	return conds, args
}

// tagWhere is the rule's tag conditions as one SQL condition ("1=1" for
// a rule without tags).
func (r SegmentRule) tagWhere() (string, []any) {
	conds, args := r.tagConds()
	if len(conds) == 0 {
		return "1=1", nil
	}
	return "(" + strings.Join(conds, " AND ") + ")", args
}

// Audience is who a campaign goes to: the members of any of Segments, or
// every contact when All, minus the members of Exclude, minus landlines
// when SkipLandlines. Only messageable contacts (opted in, not
// suppressed) are in it.
type Audience struct {
	Segments      []SegmentRule
	All           bool
	Exclude       *SegmentRule
	SkipLandlines bool
}

// Where is the audience's condition on contacts aliased c, without the
// messageable part (candidates: every contact the campaign picked, so
// that those left out can be counted by reason), and with it (members:
// who is sent to). Neither scopes to a business: the caller adds
// c.business_id = ?.
func (a Audience) Where() (candidates string, members string, args []any) {
	var pick []string
	if !a.All {
		for _, r := range a.Segments {
			c, ra := r.tagWhere()
			pick = append(pick, c)
			args = append(args, ra...)
		}
	}
	switch {
	case a.All:
		candidates = "1=1"
	case len(pick) == 0:
		candidates = "1=0"
	default:
		candidates = "(" + strings.Join(pick, " OR ") + ")"
	}
	if a.Exclude != nil {
		c, ea := a.Exclude.tagWhere()
		candidates += " AND NOT " + c
		args = append(args, ea...)
	}
	if a.SkipLandlines {
		candidates += " AND NOT c.landline"
	}
	return candidates, candidates + " AND " + messageableCond, args
}

// Segment is a saved rule with a name.
type Segment struct {
	ID         int64
	BusinessID int64
	Name       string
	SegmentRule
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Rule returns the segment's rule.
func (s *Segment) Rule() SegmentRule { return s.SegmentRule }

// SegmentInput is what the segment form submits.
type SegmentInput struct {
	Name string
	All  []string
	Any  []string
	None []string
}

const maxSegmentName = 100

// CleanRule normalises and validates a rule's tags (fields all_tags,
// any_tags, none_tags), so a form can show a live count of a rule that is
// not saved yet.
func CleanRule(in SegmentInput) (SegmentRule, error) {
	v := &models.ValidationError{}
	r := SegmentRule{All: cleanTags(v, "all_tags", in.All), Any: cleanTags(v, "any_tags", in.Any), None: cleanTags(v, "none_tags", in.None)}
	for _, tag := range r.None {
		if slices.Contains(r.All, tag) || slices.Contains(r.Any, tag) {
			if !v.Has("none_tags") {
				v.Add("none_tags", "segment.contradiction", tag)
			}
		}
	}
	return r, v.Err()
}

func cleanTags(v *models.ValidationError, field string, in []string) TagList {
	return parseTags(v, field, "segment.too_many_tags", in...)
}

func validSegment(ctx context.Context, t models.Tenant, in SegmentInput, exceptID int64) (string, SegmentRule, error) {
	v := &models.ValidationError{}
	name := strings.TrimSpace(in.Name)
	if err := models.CheckName("name", name, maxSegmentName); err != nil {
		v.Merge(err)
	} else {
		var n int64
		if err := t.Scoped(ctx).Model(&Segment{}).Where("LOWER(name) = ? AND id <> ?", strings.ToLower(name), exceptID).Count(&n).Error; err != nil {
			return "", SegmentRule{}, err
		}
		if n > 0 {
			v.Add("name", "segment.name_taken")
		}
	}
	rule, err := CleanRule(in)
	if rv, ok := models.AsValidation(err); ok {
		v.Problems = append(v.Problems, rv.Problems...)
	}
	return name, rule, v.Err()
}

// Segments lists the business's segments by name.
func Segments(ctx context.Context, t models.Tenant) ([]Segment, error) {
	var out []Segment
	err := t.Scoped(ctx).Order("name, id").Limit(1000).Find(&out).Error
	return out, models.Wrap("contacts.Segments", err)
}

// SegmentByID loads one segment of this business.
func SegmentByID(ctx context.Context, t models.Tenant, id int64) (*Segment, error) {
	var s Segment
	if err := t.First(ctx, &s, id); err != nil {
		return nil, models.Wrap("contacts.SegmentByID", err)
	}
	return &s, nil
}

// CreateSegment saves a new segment.
func CreateSegment(ctx context.Context, t models.Tenant, in SegmentInput) (*Segment, error) {
	name, rule, err := validSegment(ctx, t, in, 0)
	if err != nil {
		return nil, models.Wrap("contacts.CreateSegment", err)
	}
	now := t.DB().Now()
	s := &Segment{BusinessID: t.BusinessID(), Name: name, SegmentRule: rule, CreatedAt: now, UpdatedAt: now}
	if err := t.DB().WithContext(ctx).Create(s).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, models.Invalid("name", "segment.name_taken")
		}
		return nil, models.Wrap("contacts.CreateSegment", err)
	}
	return s, nil
}

// UpdateSegment changes a segment's name and rule.
func UpdateSegment(ctx context.Context, t models.Tenant, id int64, in SegmentInput) (*Segment, error) {
	s, err := SegmentByID(ctx, t, id)
	if err != nil {
		return nil, models.Wrap("contacts.UpdateSegment", err)
	}
	name, rule, err := validSegment(ctx, t, in, id)
	if err != nil {
		return nil, models.Wrap("contacts.UpdateSegment", err)
	}
	s.Name, s.SegmentRule, s.UpdatedAt = name, rule, t.DB().Now()
	err = t.Scoped(ctx).Model(&Segment{}).Where("id = ?", id).Updates(map[string]any{
		"name": s.Name, "all_tags": rule.All, "any_tags": rule.Any, "none_tags": rule.None, "updated_at": s.UpdatedAt}).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, models.Invalid("name", "segment.name_taken")
	}
	return s, models.Wrap("contacts.UpdateSegment", err)
}

// DeleteSegment removes a segment; contacts are not touched.
func DeleteSegment(ctx context.Context, t models.Tenant, id int64) error {
	res := t.Scoped(ctx).Where("id = ?", id).Delete(&Segment{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}

// SegmentCount counts the rule's members right now: opted-in, not
// suppressed contacts matching the tags.
func SegmentCount(ctx context.Context, t models.Tenant, rule SegmentRule) (int64, error) {
	return Count(ctx, t, ContactFilter{Segment: &rule})
}

// Recipient is what a campaign needs of one messageable contact.
type Recipient struct {
	ContactID int64
	Phone     string
	Name      string
	FirstName string
	LastName  string
	Language  string
	Email     string
	Attrs     Attrs
}

// ForEachMessageable streams the segment's members in pages of up to 1,000
// by ascending id, calling fn once per page. Each page is read fresh, so
// someone who opts out while a campaign walks the list is left out of the
// pages not yet read. fn's error stops the walk and is returned.
func ForEachMessageable(ctx context.Context, t models.Tenant, segmentID int64, fn func(page []Recipient) error) error {
	seg, err := SegmentByID(ctx, t, segmentID)
	if err != nil {
		return models.Wrap("contacts.ForEachMessageable", err)
	}
	rule := seg.Rule()
	cond, args, err := where(ctx, t, ContactFilter{Segment: &rule})
	if err != nil {
		return models.Wrap("contacts.ForEachMessageable", err)
	}
	var after int64
	for {
		var rows []Contact
		err := t.DB().WithContext(ctx).Table("contacts AS c").Select("c.id, c.phone, c.name, c.first_name, c.last_name, c.language, c.email, c.attrs").
			Where(cond, args...).Where("c.id > ?", after).Order("c.id").Limit(1000).Find(&rows).Error
		if err != nil {
			return models.Wrap("contacts.ForEachMessageable", err)
		}
		if len(rows) == 0 {
			return nil
		}
		page := make([]Recipient, len(rows))
		for i, c := range rows {
			page[i] = Recipient{ContactID: c.ID, Phone: c.Phone, Name: c.Name, FirstName: c.FirstName, LastName: c.LastName, Language: c.Language, Email: c.Email, Attrs: c.Attrs}
		}
		if err := fn(page); err != nil {
			return models.Wrap("contacts.ForEachMessageable", err)
		}
		after = rows[len(rows)-1].ID
		if len(rows) < 1000 {
			return nil
		}
	}
}
