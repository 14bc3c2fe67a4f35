package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/templates"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// templatesHandler serves the message templates: the list, the editor
// with its live preview, the detail page with the review state, and the
// administrators' list of every business's templates.
type templatesHandler struct {
	*Handler
	channel channel.Provider
}

// templateForm is the editor's fixed fields; samples and buttons have
// numbered names (sample_1…, button_1_text…) bound by templateInput.
type templateForm struct {
	Name         string `form:"name"`
	Language     string `form:"language"`
	Category     string `form:"category"`
	Header       string `form:"header"`
	HeaderSample string `form:"header_sample"`
	Body         string `form:"body"`
	Footer       string `form:"footer"`
}

// maxSamples bounds the sample fields read: a body of 1,024 characters
// cannot hold more variables than this.
const maxSamples = templates.BodyMax / 5

var buttonParts = []string{"type", "text", "url", "sample", "phone"}

// templateInput binds the editor. Button rows set to "no button" are
// dropped and the others renumbered in the form, so that a problem's
// field (button_2_text) is the row the user sees as button 2.
func templateInput(c echo.Context) (templates.Input, *views.Form) {
	var tf templateForm
	f := bindForm(c, &tf)
	in := templates.Input{Name: tf.Name, Language: tf.Language, Category: tf.Category, Header: tf.Header,
		HeaderSample: tf.HeaderSample, Body: tf.Body, Footer: tf.Footer}
	n := min(templates.VarCount(tf.Body), maxSamples)
	for i := 1; i <= n; i++ {
		name := templates.SampleField(i)
		vals := bindFields(c, f, name)
		in.BodySamples = append(in.BodySamples, vals[name])
	}
	for i := 0; i < templates.ButtonsMax; i++ {
		names := make([]string, len(buttonParts))
		for k, part := range buttonParts {
			names[k] = templates.ButtonField(i, part)
		}
		v := bindFields(c, views.NewForm(), names...)
		b := channel.Button{Type: v[names[0]], Text: v[names[1]], URL: v[names[2]], URLSample: v[names[3]], Phone: v[names[4]]}
		if b.Type == "" {
			continue
		}
		in.Buttons = append(in.Buttons, b)
	}
	setButtons(f, in.Buttons)
	return in, f
}

// setButtons writes buttons into the form's numbered fields.
func setButtons(f *views.Form, bs []channel.Button) {
	for i, b := range bs {
		f.Values[templates.ButtonField(i, "type")] = b.Type
		f.Values[templates.ButtonField(i, "text")] = b.Text
		f.Values[templates.ButtonField(i, "url")] = b.URL
		f.Values[templates.ButtonField(i, "sample")] = b.URLSample
		f.Values[templates.ButtonField(i, "phone")] = b.Phone
	}
}

// inputForm is the editor filled with a stored or default template.
func inputForm(in templates.Input) *views.Form {
	f := formView(templateForm{Name: in.Name, Language: in.Language, Category: in.Category, Header: in.Header,
		HeaderSample: in.HeaderSample, Body: in.Body, Footer: in.Footer})
	for i, s := range in.BodySamples {
		f.Values[templates.SampleField(i+1)] = s
	}
	setButtons(f, in.Buttons)
	return f
}

// previewOfTemplate renders the template with its samples, as the chat
// app shows it, through the one renderer of template text.
func previewOfTemplate(in templates.Input) views.TemplatePreviewVM {
	v := views.TemplatePreviewVM{Header: templates.Fill(in.Header, []string{in.HeaderSample}),
		Body: templates.Fill(in.Body, in.BodySamples), Footer: in.Footer}
	for _, b := range in.Buttons {
		v.Buttons = append(v.Buttons, views.PreviewButton{Type: b.Type, Text: b.Text})
	}
	return v
}

func (th *templatesHandler) editorVM(c echo.Context, id int64, in templates.Input, f *views.Form) views.TemplateEditorVM {
	vm := views.TemplateEditorVM{ID: id, Form: f, Languages: templateLanguageOptions(c), Categories: categoryOptions(c),
		ButtonTypes: buttonTypeOptions(c), Samples: templates.VarCount(in.Body), HeaderVar: templates.VarCount(in.Header) > 0,
		OptOutWarning: templates.OptOutMissing(in), Preview: previewOfTemplate(in)}
	vm.Samples = min(vm.Samples, maxSamples)
	rows := 0
	for i := 0; i < templates.ButtonsMax; i++ {
		if f.Value(templates.ButtonField(i, "type")) != "" {
			rows = i + 1
		}
	}
	vm.ButtonRows = min(max(rows+1, 3), templates.ButtonsMax)
	return vm
}

func templateLanguageOptions(c echo.Context) []views.Option {
	loc := web.LocaleFrom(c.Request().Context())
	out := make([]views.Option, len(templates.Languages))
	for i, l := range templates.Languages {
		out[i] = views.Option{Value: l, Label: views.LanguageNameIn(loc, strings.ReplaceAll(l, "_", "-")) + " (" + l + ")"}
	}
	return out
}

func categoryOptions(c echo.Context) []views.Option {
	out := make([]views.Option, len(templates.Categories))
	for i, k := range templates.Categories {
		out[i] = views.Option{Value: k, Label: t(c, "templates.category."+k)}
	}
	return out
}

func buttonTypeOptions(c echo.Context) []views.Option {
	out := []views.Option{{Value: "", Label: t(c, "templates.button_type.none")}}
	for _, k := range []string{channel.ButtonQuickReply, channel.ButtonURL, channel.ButtonPhone} {
		out = append(out, views.Option{Value: k, Label: t(c, "templates.button_type."+k)})
	}
	return out
}

func (th *templatesHandler) list(c echo.Context) error {
	tn, err := th.tenant(c)
	if err != nil {
		return err
	}
	list, err := templates.List(c.Request().Context(), tn)
	if err != nil {
		return err
	}
	vm := views.TemplatesListVM{}
	for _, tp := range list {
		vm.Rows = append(vm.Rows, views.TemplateRow{ID: tp.ID, Name: tp.Name, Language: tp.Language, Category: tp.Category,
			State: tp.Status, Quality: tp.Quality, Updated: tp.UpdatedAt})
	}
	return web.Render(c, http.StatusOK, views.TemplatesPage(web.NewPage(c, "templates.title", "templates"), vm))
}

func (th *templatesHandler) newTemplate(c echo.Context) error {
	in := templates.NewInput(c.QueryParam("category"))
	return th.renderEditor(c, http.StatusOK, 0, in, inputForm(in))
}

func (th *templatesHandler) renderEditor(c echo.Context, status int, id int64, in templates.Input, f *views.Form) error {
	title := "templates.new_title"
	if id != 0 {
		title = "templates.edit_title"
	}
	return web.Render(c, status, views.TemplateEditorPage(web.NewPage(c, title, "templates"), th.editorVM(c, id, in, f)))
}

// create saves a new draft; "Update preview" (action=preview) shows the
// editor again with the preview and the sample fields, saving nothing:
// the preview without script.
func (th *templatesHandler) create(c echo.Context) error {
	tn, err := th.tenant(c)
	if err != nil {
		return err
	}
	in, f := templateInput(c)
	if c.FormValue("action") == "preview" {
		return th.renderEditor(c, http.StatusOK, 0, in, f)
	}
	tpl, err := templates.Create(c.Request().Context(), tn, actor(c).User, in, c.RealIP())
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return th.renderEditor(c, http.StatusUnprocessableEntity, 0, in, f)
	}
	web.Flash(c, "success", t(c, "templates.created"))
	return redirect(c, templateURL(tpl.ID, ""))
}

// preview answers the editor's script with the preview and the sample
// fields, rendered by the server from what is typed.
func (th *templatesHandler) preview(c echo.Context) error {
	if _, err := th.tenant(c); err != nil {
		return err
	}
	in, f := templateInput(c)
	vm := th.editorVM(c, 0, in, f)
	return web.Render(c, http.StatusOK, views.TemplatePreviewFragment(web.NewPage(c, "templates.preview.title", "templates"), vm))
}

func templateURL(id int64, suffix string) string {
	return "/templates/" + strconv.FormatInt(id, 10) + suffix
}

func (th *templatesHandler) load(c echo.Context) (models.Tenant, *templates.Template, error) {
	return fromPath(th.Handler, c, templates.Get)
}

func (th *templatesHandler) show(c echo.Context) error {
	_, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	return th.renderDetail(c, http.StatusOK, tpl, views.NewForm())
}

func (th *templatesHandler) renderDetail(c echo.Context, status int, tpl *templates.Template, f *views.Form) error {
	vm := views.TemplateDetailVM{Template: tpl, Preview: previewOfTemplate(tpl.Input()), Form: f,
		Buttons: tpl.ButtonList(), Samples: tpl.Samples(), ReasonText: reasonText(c, tpl.Reason)}
	return web.Render(c, status, views.TemplateDetailPage(web.NewPage(c, "templates.title", "templates"), vm))
}

// reasonText explains the platform's rejection reason in plain words.
func reasonText(c echo.Context, reason string) string {
	if reason == "" {
		return ""
	}
	key := "templates.reason." + reason
	if web.LocaleFrom(c.Request().Context()).Has(key) {
		return t(c, key)
	}
	return t(c, "templates.reason.other", reason)
}

func (th *templatesHandler) edit(c echo.Context) error {
	_, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	if !tpl.Editable() {
		return redirect(c, templateURL(tpl.ID, ""))
	}
	in := tpl.Input()
	return th.renderEditor(c, http.StatusOK, tpl.ID, in, inputForm(in))
}

func (th *templatesHandler) update(c echo.Context) error {
	tn, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	in, f := templateInput(c)
	if c.FormValue("action") == "preview" {
		return th.renderEditor(c, http.StatusOK, tpl.ID, in, f)
	}
	if _, err := templates.Update(c.Request().Context(), tn, actor(c).User, tpl.ID, in, c.RealIP()); err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return th.renderEditor(c, http.StatusUnprocessableEntity, tpl.ID, in, f)
	}
	web.Flash(c, "success", t(c, "templates.saved"))
	return redirect(c, templateURL(tpl.ID, ""))
}

func (th *templatesHandler) copy(c echo.Context) error {
	tn, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	cp, err := templates.Copy(c.Request().Context(), tn, actor(c).User, tpl.ID, c.RealIP())
	if err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "templates.copied"))
	return redirect(c, templateURL(cp.ID, "/edit"))
}

func (th *templatesHandler) confirmDelete(c echo.Context) error {
	_, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	vm := views.ConfirmVM{Title: t(c, "templates.delete_title", tpl.Name+" ("+tpl.Language+")"), Intro: t(c, "templates.delete_text"),
		Action: templateURL(tpl.ID, "/delete"), Submit: t(c, "templates.delete_confirm"), Cancel: templateURL(tpl.ID, ""), Danger: true}
	return web.Render(c, http.StatusOK, views.ConfirmPage(web.NewPage(c, "templates.delete_confirm", "templates"), vm))
}

func (th *templatesHandler) delete(c echo.Context) error {
	tn, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	if err := templates.Delete(c.Request().Context(), tn, actor(c).User, tpl.ID, c.RealIP()); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "templates.deleted"))
	return redirect(c, "/templates")
}

func (th *templatesHandler) submit(c echo.Context) error {
	tn, tpl, err := th.load(c)
	if err != nil {
		return err
	}
	res, err := templates.Submit(c.Request().Context(), tn, actor(c).User, th.channel, tpl.ID, c.RealIP())
	if err != nil {
		if _, ok := models.AsValidation(err); !ok {
			return err
		}
		f := views.NewForm()
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		return th.renderDetail(c, http.StatusUnprocessableEntity, tpl, f)
	}
	if res.Status == templates.StatePending {
		web.Flash(c, "success", t(c, "templates.submitted"))
	} else {
		web.Flash(c, "info", t(c, "templates.submitted_now", t(c, "templates.state."+res.Status)))
	}
	return redirect(c, templateURL(tpl.ID, ""))
}

// adminList is every business's templates, filtered by state.
func (th *templatesHandler) adminList(c echo.Context) error {
	state := c.QueryParam("state")
	known := state == ""
	for _, s := range templates.States {
		known = known || s == state
	}
	if !known {
		state = ""
	}
	rows, err := templates.All(c.Request().Context(), th.s.DB, state, 500)
	if err != nil {
		return err
	}
	vm := views.AdminTemplatesVM{State: state}
	vm.States = append(vm.States, views.Option{Value: "", Label: t(c, "templates.filter.all")})
	for _, s := range templates.States {
		vm.States = append(vm.States, views.Option{Value: s, Label: t(c, "templates.state."+s)})
	}
	for _, r := range rows {
		vm.Rows = append(vm.Rows, views.TemplateRow{ID: r.ID, Name: r.Name, Language: r.Language, Category: r.Category,
			State: r.Status, Quality: r.Quality, Updated: r.UpdatedAt, Business: r.BusinessName, BusinessID: r.BusinessID})
	}
	return web.Render(c, http.StatusOK, views.AdminTemplatesPage(web.NewPage(c, "templates.admin_title", "admin"), vm))
}
