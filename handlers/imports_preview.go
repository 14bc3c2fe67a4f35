package handlers

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

const (
	previewRows   = 10   // rows shown
	previewSample = 1000 // rows counted for the consent summary
)

type preview struct {
	vm   views.ImportPreviewVM
	rows []contactimport.PreviewRow
}

// preview runs the start of the uploaded file through the mapping being
// edited, with the settings and declaration as typed, and shapes the rows
// as they will be stored.
func (ih *importsHandler) preview(c echo.Context, imp *imports.Import, plan imports.ImportPlan, m importer.Mapping) (preview, error) {
	ctx := c.Request().Context()
	var out preview
	now := ih.s.DB.Now()
	d := imp.ImporterDefaults(now)
	d.Consent = nil
	if imports.ValidImportRegion(plan.Region) {
		d.Region = plan.Region
	}
	if plan.ConsentMode == imports.ConsentFromDeclaration && slices.Contains(imports.ImportConsentSources, plan.ConsentSource) {
		if chk, _ := plan.Check(imp.Headers, now, imp.Location()); chk.ConsentAt != nil {
			d.Consent = &importer.Consent{Source: plan.ConsentSource, At: *chk.ConsentAt}
		}
	}
	file, err := ih.files.Open(ctx, imp.FileKey)
	if err != nil {
		out.vm.Problem = t(c, "imports.preview.no_file")
		return out, nil
	}
	defer file.Close()
	p, err := contactimport.BuildPreview(ctx, file, imp.Format, m, d, previewRows, previewSample)
	var ie *importer.Error
	switch {
	case errors.As(err, &ie):
		out.vm.Problem = ie.Message
		return out, nil
	case err != nil:
		return out, err
	}
	out.rows = p.Rows
	out.vm = views.ImportPreviewVM{Sampled: p.Sampled, WithConsent: p.WithConsent, WithoutConsent: p.WithoutConsent, Landlines: p.Landlines, Errors: p.Errors, Complete: p.Complete}
	l := web.LocaleFrom(ctx)
	columns := map[string]int{}
	for _, col := range m.Columns {
		columns[col.Field] = col.Index
	}
	for _, r := range p.Rows {
		row := views.ImportPreviewRow{Row: r.Row}
		if r.Err != nil {
			row.Problem, row.Field = r.Err.Message, previewField(r.Err.Field)
			raw := func(field string) string {
				if i, ok := columns[field]; ok && i < len(r.Raw) {
					return r.Raw[i]
				}
				return ""
			}
			row.Phone, row.Email, row.Tags, row.Language = raw(importer.FieldPhone), raw(importer.FieldEmail), raw(importer.FieldTags), raw(importer.FieldLanguage)
			row.Name = raw(importer.FieldName)
			if row.Name == "" {
				row.Name = strings.TrimSpace(raw(importer.FieldFirstName) + " " + raw(importer.FieldLastName))
			}
			row.OptIn = strings.TrimSpace(raw(importer.FieldOptInAt) + " " + raw(importer.FieldOptInSource))
			out.vm.Rows = append(out.vm.Rows, row)
			continue
		}
		ct := r.Contact
		row.Phone, row.Email, row.Language = ct.Phone, ct.Email, ct.Language
		row.Name = ct.Name
		if row.Name == "" {
			row.Name = strings.TrimSpace(ct.FirstName + " " + ct.LastName)
		}
		tags := make([]string, 0, len(ct.Tags))
		for _, tg := range ct.Tags {
			if tg = contacts.NormalizeTag(tg); !slices.Contains(tags, tg) {
				tags = append(tags, tg)
			}
		}
		row.Tags = strings.Join(tags, ", ")
		row.Landline = ct.Landline
		if ct.HasConsent() {
			row.Messageable = !ct.Landline
			row.OptIn = l.Date(*ct.OptInAt, imp.Location()) + " · " + sourceLabel(c, ct)
		}
		keys := slices.Sorted(maps.Keys(ct.Attrs))
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+ct.Attrs[k])
		}
		row.Attrs = strings.Join(parts, "; ")
		out.vm.Rows = append(out.vm.Rows, row)
	}
	return out, nil
}

// previewField is the preview column a row error belongs to.
func previewField(f string) string {
	switch f {
	case importer.FieldPhone, importer.FieldName, importer.FieldEmail, importer.FieldTags, importer.FieldLanguage:
		return f
	case importer.FieldFirstName, importer.FieldLastName:
		return importer.FieldName
	case importer.FieldOptInAt, importer.FieldOptInSource:
		return "optin"
	}
	return ""
}

func sourceLabel(c echo.Context, ct importer.Contact) string {
	s := t(c, views.ImportKey("source", ct.OptInSource))
	if ct.OptInSource == importer.SourceOther && ct.OptInSourceText != "" {
		s = ct.OptInSourceText
	}
	if ct.ConsentFromFile {
		s += " " + t(c, "imports.preview.declared")
	}
	return s
}

// samples lists the first distinct values of column i, to recognise it.
func (p preview) samples(i int) string {
	var out []string
	for _, r := range p.rows {
		if i >= len(r.Raw) {
			continue
		}
		v := strings.TrimSpace(strings.ReplaceAll(r.Raw[i], "\n", " "))
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if utf8.RuneCountInString(v) > 28 {
			v = string([]rune(v)[:27]) + "…"
		}
		out = append(out, v)
		if len(out) == 3 {
			break
		}
	}
	return strings.Join(out, ", ")
}
