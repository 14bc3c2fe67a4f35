package imports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// ImportFields are the choices for one column, in the order the mapping
// page offers them.
var ImportFields = []string{importer.FieldPhone, importer.FieldName, importer.FieldFirstName, importer.FieldLastName,
	importer.FieldEmail, importer.FieldTags, importer.FieldOptInAt, importer.FieldOptInSource, importer.FieldLanguage,
	importer.FieldAttr, importer.FieldIgnore}

// ImportPlan is the mapping page's form as typed: a field (and an
// attribute name) per column, the settings and the consent section.
type ImportPlan struct {
	Fields           []string // per column, one of ImportFields
	AttrKeys         []string // per column, the attribute name when the field is attr
	Region           string
	Policy           string
	ConsentMode      string // one of the ConsentFrom* modes
	ConsentSource    string // declaration: one of ImportConsentSources
	ConsentDate      string // declaration: YYYY-MM-DD
	ConsentConfirmed bool   // declaration: the confirmation box
}

// Checked is a valid plan, ready to be queued.
type Checked struct {
	Mapping   importer.Mapping
	Policy    contacts.DuplicatePolicy
	Region    string
	Mode      string
	Source    string
	ConsentAt *time.Time
}

// BuildMapping turns the plan's columns into a mapping for headers,
// without judging it (a draft may be incomplete).
func (p ImportPlan) BuildMapping(headers []string) importer.Mapping {
	m := importer.Mapping{Columns: make([]importer.ColumnMapping, len(headers))}
	for i, h := range headers {
		c := importer.ColumnMapping{Index: i, Header: h, Field: importer.FieldIgnore}
		if i < len(p.Fields) && slices.Contains(ImportFields, p.Fields[i]) {
			c.Field = p.Fields[i]
		}
		if c.Field == importer.FieldAttr {
			key := ""
			if i < len(p.AttrKeys) {
				key = strings.ToLower(strings.TrimSpace(p.AttrKeys[i]))
			}
			if key == "" {
				key = importer.AttrSlug(h)
			}
			c.AttrKey = key
		}
		m.Columns[i] = c
	}
	return m
}

// Check validates the plan for a file with headers. Problems are reported
// on the fields col_N and key_N (column N, from 0), columns, region,
// policy, consent_mode, consent_source, consent_date and consent_confirm,
// all at once. A declared consent date of today means now; other dates
// are midnight in loc.
func (p ImportPlan) Check(headers []string, now time.Time, loc *time.Location) (Checked, error) {
	v := &models.ValidationError{}
	out := Checked{Mapping: p.BuildMapping(headers), Region: p.Region, Mode: p.ConsentMode, Policy: contacts.DuplicatePolicy(p.Policy)}
	if loc == nil {
		loc = time.UTC
	}
	used := map[string][]int{}
	attrs := map[string]int{}
	for i, c := range out.Mapping.Columns {
		if i < len(p.Fields) && p.Fields[i] != "" && !slices.Contains(ImportFields, p.Fields[i]) {
			v.Add(colField(i), "imports.field_unknown")
			continue
		}
		switch c.Field {
		case importer.FieldIgnore:
		case importer.FieldAttr:
			switch {
			case !contacts.ValidAttrKey(c.AttrKey):
				v.Add(keyField(i), "imports.attr_key_invalid")
			case attrs[c.AttrKey] > 0:
				v.Add(keyField(i), "imports.attr_key_taken", importer.ColumnLetter(attrs[c.AttrKey]-1))
			default:
				attrs[c.AttrKey] = i + 1
			}
		default:
			used[c.Field] = append(used[c.Field], i)
		}
	}
	for _, cols := range used {
		if len(cols) < 2 {
			continue
		}
		for _, i := range cols {
			var others []string
			for _, j := range cols {
				if j != i {
					others = append(others, importer.ColumnLetter(j))
				}
			}
			v.Add(colField(i), "imports.field_twice", strings.Join(others, ", "))
		}
	}
	if len(used[importer.FieldPhone]) == 0 {
		v.Add("columns", "imports.no_phone_mapped")
	}
	if !ValidImportRegion(p.Region) {
		v.Add("region", "imports.region_invalid")
	}
	if out.Policy != contacts.DuplicateUpdate && out.Policy != contacts.DuplicateSkip {
		v.Add("policy", "imports.policy_invalid")
	}
	switch p.ConsentMode {
	case ConsentFromColumns:
		if len(used[importer.FieldOptInAt]) == 0 || len(used[importer.FieldOptInSource]) == 0 {
			v.Add("consent_mode", "imports.consent_columns_missing")
		}
	case ConsentFromDeclaration:
		out.Source = p.ConsentSource
		if !slices.Contains(ImportConsentSources, p.ConsentSource) {
			v.Add("consent_source", "imports.consent_source_required")
		}
		if at, key := declaredDate(p.ConsentDate, now, loc); key != "" {
			v.Add("consent_date", key)
		} else {
			out.ConsentAt = &at
		}
		if !p.ConsentConfirmed {
			v.Add("consent_confirm", "imports.consent_confirm_required")
		}
	case ConsentFromNone:
		if len(used[importer.FieldOptInAt])+len(used[importer.FieldOptInSource]) > 0 {
			v.Add("consent_mode", "imports.consent_none_but_columns")
		}
	default:
		v.Add("consent_mode", "imports.consent_mode_required")
	}
	if len(v.Problems) == 0 {
		if err := out.Mapping.Validate(); err != nil {
			v.Add("columns", "imports.mapping_invalid", err.Error())
		}
	}
	return out, v.Err()
}

func colField(i int) string { return "col_" + strconv.Itoa(i) }
func keyField(i int) string { return "key_" + strconv.Itoa(i) }

// declaredDate parses the declaration's date; it returns a message key
// when the date is missing, malformed, in the future or before 2000.
func declaredDate(s string, now time.Time, loc *time.Location) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, "imports.consent_date_required"
	}
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, "imports.consent_date_invalid"
	}
	today := now.In(loc)
	y, m, dd := today.Date()
	midnight := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	switch {
	case d.After(midnight):
		return time.Time{}, "imports.consent_date_future"
	case d.Year() < 2000:
		return time.Time{}, "imports.consent_date_too_old"
	case d.Equal(midnight):
		return now.UTC(), ""
	}
	return d.UTC(), ""
}

// SaveDraft keeps the mapping page's choices of an import that has
// not been queued (status becomes mapping), so they survive a reload.
func SaveDraft(ctx context.Context, t models.Tenant, id int64, headers []string, p ImportPlan) error {
	imp, err := Get(ctx, t, id)
	if err != nil {
		return models.Wrap("imports.SaveDraft", err)
	}
	if !imp.NeedsMapping() {
		return models.ErrConflict
	}
	s := imp.Settings
	if ValidImportRegion(p.Region) {
		s.Region = p.Region
	}
	if slices.Contains([]string{ConsentFromColumns, ConsentFromDeclaration, ConsentFromNone}, p.ConsentMode) {
		s.ConsentMode = p.ConsentMode
	}
	upd := map[string]any{"status": ImportMapping, "mapping": models.JSONText(p.BuildMapping(headers)), "settings": models.JSONText(s), "updated_at": t.DB().Now()}
	if pol := contacts.DuplicatePolicy(p.Policy); pol == contacts.DuplicateUpdate || pol == contacts.DuplicateSkip {
		upd["policy"] = string(pol)
	}
	if slices.Contains(ImportConsentSources, p.ConsentSource) {
		upd["consent_source"] = p.ConsentSource
	}
	return t.Scoped(ctx).Model(&Import{}).Where("id = ? AND status IN ?", id, []string{ImportUploaded, ImportMapping}).Updates(upd).Error
}

// Queue stores a checked plan and marks the import queued. Only an
// import waiting for its mapping can be queued: a second confirmation
// (a double click) gets ErrConflict and changes nothing. The consent
// declaration is recorded with who confirmed it, in the audit log too.
// Inside Tenant.Tx it joins the caller's transaction (the import engine
// enqueues the job in the same one).
func Queue(ctx context.Context, t models.Tenant, id int64, c Checked, by *models.User, batchSize int) (*Import, error) {
	var imp Import
	err := t.Tx(ctx, func(in models.Tenant) error {
		tx, _ := in.InTx()
		if err := t.ScopedTx(tx).First(&imp, "id = ?", id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return models.ErrNotFound
			}
			return err
		}
		if !imp.NeedsMapping() {
			return models.ErrConflict
		}
		now := t.DB().Now()
		s := imp.Settings
		s.Region, s.ConsentMode, s.BatchSize = c.Region, c.Mode, batchSize
		upd := map[string]any{"status": ImportQueued, "mapping": models.JSONText(c.Mapping), "settings": models.JSONText(s), "policy": string(c.Policy),
			"queued_at": now, "updated_at": now, "consent_source": "", "consent_at": nil,
			"consent_confirmed_by_id": nil, "consent_confirmed_by": "", "consent_confirmed_at": nil}
		detail := "consent: " + c.Mode
		if c.Mode == ConsentFromDeclaration {
			upd["consent_source"], upd["consent_at"], upd["consent_confirmed_at"] = c.Source, *c.ConsentAt, now
			if by != nil {
				upd["consent_confirmed_by_id"], upd["consent_confirmed_by"] = by.ID, by.Name+" <"+by.Email+">"
			}
			detail += fmt.Sprintf(" (%s, %s, confirmed)", c.Source, c.ConsentAt.Format("2006-01-02"))
		}
		res := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Import{}).
			Where("id = ? AND status IN ?", id, []string{ImportUploaded, ImportMapping}).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrConflict
		}
		e := models.AuditEntry{BusinessID: t.BusinessID(), Action: "import.queued", TargetType: "import", TargetID: models.Itoa(id), Detail: detail}
		if by != nil {
			e.ActorID, e.ActorEmail = by.ID, by.Email
		}
		if err := models.WriteAudit(tx, now, e); err != nil {
			return err
		}
		return t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).First(&imp, "id = ?", id).Error
	})
	if err != nil {
		return nil, models.Wrap("imports.Queue", err)
	}
	return &imp, nil
}
