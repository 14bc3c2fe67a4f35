package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// showMapping is the second step: the detected columns with what each
// will become, the consent section and a preview. An import past this
// step goes to its progress page.
func (ih *importsHandler) showMapping(c echo.Context) error {
	_, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	if !imp.NeedsMapping() {
		return redirect(c, "/contacts/imports/"+strconv.FormatInt(imp.ID, 10))
	}
	return ih.renderMapping(c, http.StatusOK, imp, mappingForm(imp))
}

// mappingForm fills the form with the saved (or proposed) choices.
func mappingForm(imp *imports.Import) *views.Form {
	f := views.NewForm()
	byIndex := map[int]importer.ColumnMapping{}
	for _, col := range imp.Mapping.Columns {
		byIndex[col.Index] = col
	}
	fields := map[string]bool{}
	for i := range imp.Headers {
		col, ok := byIndex[i]
		if !ok {
			col.Field = importer.FieldIgnore
		}
		f.Values["col_"+strconv.Itoa(i)] = col.Field
		key := col.AttrKey
		if key == "" {
			key = importer.AttrSlug(imp.Headers[i])
		}
		f.Values["key_"+strconv.Itoa(i)] = key
		fields[col.Field] = true
	}
	f.Values["region"] = imp.Settings.Region
	f.Values["policy"] = string(imp.Policy)
	f.Values["consent_mode"] = imp.Settings.ConsentMode
	if f.Values["consent_mode"] == "" && fields[importer.FieldOptInAt] && fields[importer.FieldOptInSource] {
		f.Values["consent_mode"] = imports.ConsentFromColumns
	}
	f.Values["consent_source"] = imp.ConsentSource
	return f
}

// mappingFields names the form's fields for a file with n columns.
func mappingFields(n int) []string {
	out := []string{"region", "policy", "consent_mode", "consent_source", "consent_date", "consent_confirm"}
	for i := range n {
		out = append(out, "col_"+strconv.Itoa(i), "key_"+strconv.Itoa(i))
	}
	return out
}

// planFrom reads the form into the model's plan.
func planFrom(f *views.Form, n int) imports.ImportPlan {
	p := imports.ImportPlan{Region: f.Value("region"), Policy: f.Value("policy"), ConsentMode: f.Value("consent_mode"),
		ConsentSource: f.Value("consent_source"), ConsentDate: f.Value("consent_date"), ConsentConfirmed: f.Value("consent_confirm") == "yes",
		Fields: make([]string, n), AttrKeys: make([]string, n)}
	for i := range n {
		p.Fields[i] = f.Value("col_" + strconv.Itoa(i))
		p.AttrKeys[i] = f.Value("key_" + strconv.Itoa(i))
	}
	return p
}

func (ih *importsHandler) renderMapping(c echo.Context, status int, imp *imports.Import, f *views.Form) error {
	plan := planFrom(f, len(imp.Headers))
	m := plan.BuildMapping(imp.Headers)
	vm := views.ImportMappingVM{Import: imp, Form: f, Countries: regionOptions(c), FieldOptions: fieldOptions(c),
		SourceOptions: sourceOptions(c), FormatText: formatText(c, imp.Format), Today: ih.s.DB.Now().In(imp.Location()).Format("2006-01-02"),
		NoPhone: true}
	for _, col := range m.Columns {
		if col.Field == importer.FieldPhone {
			vm.NoPhone = false
		}
	}
	pv, err := ih.preview(c, imp, plan, m)
	if err != nil {
		return err
	}
	vm.Preview = pv.vm
	for i, h := range imp.Headers {
		vm.Columns = append(vm.Columns, views.MapColumn{Index: i, Letter: importer.ColumnLetter(i), Header: h, Samples: pv.samples(i)})
	}
	return web.Render(c, status, views.ImportMappingPage(web.NewPage(c, "imports.mapping.title", "contacts"), vm))
}

func fieldOptions(c echo.Context) []views.Option {
	out := make([]views.Option, 0, len(imports.ImportFields))
	for _, fd := range imports.ImportFields {
		out = append(out, views.Option{Value: fd, Label: t(c, views.ImportKey("field", fd))})
	}
	return out
}

func sourceOptions(c echo.Context) []views.Option {
	out := []views.Option{{Value: "", Label: t(c, "imports.consent.source_choose")}}
	for _, s := range imports.ImportConsentSources {
		out = append(out, views.Option{Value: s, Label: t(c, views.ImportKey("source", s))})
	}
	return out
}

// formatText describes how the file is read: "UTF-8, separated by semicolons".
func formatText(c echo.Context, f importer.Format) string {
	enc := string(f.Encoding)
	switch f.Encoding {
	case importer.UTF8:
		enc = "UTF-8"
	case importer.Windows1252:
		enc = t(c, "imports.format.windows1252")
	case importer.UTF16:
		enc = t(c, "imports.format.utf16")
	}
	delim := imports.DelimiterName(f.Delimiter)
	if delim == "" {
		delim = "comma"
	}
	return t(c, "imports.format.text", enc, t(c, views.ImportKey("delim", delim)))
}
