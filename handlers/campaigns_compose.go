package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/templates"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// composeHandler is the campaign composer: the wizard, the review page
// with its figures and the confirmation, and the spending settings.
type composeHandler struct {
	*Handler
	engine *sending.Engine
	// spending is this month's spending: billing's usage records.
	spending campaigns.Spending
}

// registerCampaignCompose adds the composer's routes.
func registerCampaignCompose(h *Handler, member, owner, admin web.Routes, d Deps) {
	ch := &composeHandler{Handler: h, engine: d.Campaigns, spending: billing.Spending{DB: h.s.DB}}
	member.GET("/campaigns/new", ch.newCampaign)
	member.POST("/campaigns", ch.create)
	member.GET("/campaigns/:id/edit", ch.edit)
	member.POST("/campaigns/:id/edit", ch.update)
	member.POST("/campaigns/:id/delete", ch.delete)
	member.GET("/campaigns/:id/review", ch.review)
	member.POST("/campaigns/:id/confirm", ch.confirm)
	// A refused confirmation is shown at its POST address; reloading it
	// leads back to the review page.
	member.GET("/campaigns/:id/confirm", ch.confirmReload)
	owner.GET("/campaigns/settings", ch.showSettings)
	owner.POST("/campaigns/settings", ch.saveSettings)
	admin.POST("/admin/businesses/:id/tier", ch.setTier)
}

// composeForm is the wizard's fixed fields; the variables' fields
// (var_<part>_<n>_source|attr|text|fallback) and the segment check
// boxes (segment_ids) are read beside it.
type composeForm struct {
	Name             string `form:"name"`
	TemplateID       string `form:"template_id"`
	AllContacts      bool   `form:"all_contacts"`
	ExcludeSegmentID string `form:"exclude_segment_id"`
	SkipLandlines    bool   `form:"skip_landlines"`
	FitMode          string `form:"fit_mode"`
	SendMode         string `form:"send_mode"` // now | later
	SendAt           string `form:"send_at"`
	WindowStart      string `form:"window_start"`
	WindowEnd        string `form:"window_end"`
}

// The variable's value choices besides the contact fields.
const (
	varSourceAttr = "attr"
	varSourceText = "text"
)

// composeState is a wizard page being filled: the form as typed, the
// input it makes and the template it names (nil when none or unknown).
type composeState struct {
	form     *views.Form
	in       campaigns.Input
	template *templates.Template
	segments []int64
}

// readCompose binds the wizard from the request.
func (ch *composeHandler) readCompose(c echo.Context, tn models.Tenant) (*composeState, error) {
	var cf composeForm
	st := &composeState{form: bindForm(c, &cf)}
	in := campaigns.Input{Name: cf.Name, AllContacts: cf.AllContacts, SkipLandlines: cf.SkipLandlines, FitMode: cf.FitMode,
		SendNow: cf.SendMode != "later", SendAt: cf.SendAt, WindowStart: cf.WindowStart, WindowEnd: cf.WindowEnd}
	if id, err := strconv.ParseInt(cf.TemplateID, 10, 64); err == nil && id > 0 {
		in.TemplateID = id
		tpl, err := templates.Get(c.Request().Context(), tn, id)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
		st.template = tpl
	}
	if cf.ExcludeSegmentID != "" {
		id, err := strconv.ParseInt(cf.ExcludeSegmentID, 10, 64)
		if err != nil {
			id = -1
		}
		in.ExcludeSegmentID = &id
	}
	for _, raw := range c.Request().Form["segment_ids"] {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id <= 0 {
			id = -1 // reported as a segment that does not exist
		}
		in.SegmentIDs = append(in.SegmentIDs, id)
	}
	st.segments = in.SegmentIDs
	if st.template != nil {
		for _, v := range campaigns.TemplateVars(st.template) {
			field := campaigns.VarField(v.Part, v.N)
			got := bindFields(c, st.form, field+"_source", field+"_attr", field+"_text", field+"_fallback")
			m := campaigns.Var{Part: v.Part, N: v.N, Fallback: got[field+"_fallback"]}
			switch src := got[field+"_source"]; {
			case src == varSourceAttr:
				m.Source, m.Key = campaigns.SourceAttr, got[field+"_attr"]
			case src == varSourceText:
				m.Source, m.Key = campaigns.SourceText, got[field+"_text"]
			case slices.Contains(campaigns.ContactFields, src):
				m.Source, m.Key = campaigns.SourceField, src
			}
			in.Mapping = append(in.Mapping, m)
		}
	}
	st.in = in
	return st, nil
}

// formOf shows a stored draft in the wizard.
func formOf(c *campaigns.Campaign) (*views.Form, []int64) {
	in := campaigns.InputOf(c)
	cf := composeForm{Name: in.Name, TemplateID: strconv.FormatInt(in.TemplateID, 10), AllContacts: in.AllContacts,
		SkipLandlines: in.SkipLandlines, FitMode: in.FitMode, SendMode: "now", SendAt: in.SendAt, WindowStart: in.WindowStart, WindowEnd: in.WindowEnd}
	if !in.SendNow {
		cf.SendMode = "later"
	}
	if in.ExcludeSegmentID != nil {
		cf.ExcludeSegmentID = strconv.FormatInt(*in.ExcludeSegmentID, 10)
	}
	f := formView(cf)
	for _, v := range in.Mapping {
		field := campaigns.VarField(v.Part, v.N)
		switch v.Source {
		case campaigns.SourceField:
			f.Values[field+"_source"] = v.Key
		case campaigns.SourceAttr:
			f.Values[field+"_source"], f.Values[field+"_attr"] = varSourceAttr, v.Key
		case campaigns.SourceText:
			f.Values[field+"_source"], f.Values[field+"_text"] = varSourceText, v.Key
		}
		f.Values[field+"_fallback"] = v.Fallback
	}
	return f, in.SegmentIDs
}

// renderCompose shows the wizard: approved templates, the chosen one's
// variables, the segments and the schedule in the business's zone.
func (ch *composeHandler) renderCompose(c echo.Context, status int, id int64, st *composeState) error {
	ctx := c.Request().Context()
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	all, err := templates.List(ctx, tn)
	if err != nil {
		return err
	}
	segs, err := contacts.Segments(ctx, tn)
	if err != nil {
		return err
	}
	loc, err := campaigns.BusinessZone(ctx, tn)
	if err != nil {
		return err
	}
	vm := views.ComposeVM{ID: id, Form: st.form, Segments: segs, Picked: map[int64]bool{}, Zone: loc.String(),
		ZoneNow: ch.s.DB.Now().In(loc).Format("2006-01-02 15:04"), ContactFields: campaigns.ContactFields}
	for _, sid := range st.segments {
		vm.Picked[sid] = true
	}
	for _, tp := range all {
		if tp.Status == templates.StateApproved {
			vm.Templates = append(vm.Templates, views.ComposeTemplate{ID: tp.ID, Name: tp.Name, Language: tp.Language, Category: tp.Category, Body: tp.Body})
		}
	}
	if tp := st.template; tp != nil && tp.Status == templates.StateApproved {
		vm.Chosen = &views.ComposeTemplate{ID: tp.ID, Name: tp.Name, Language: tp.Language, Category: tp.Category, Body: tp.Body}
		samples := tp.Samples()
		buttons := tp.ButtonList()
		for _, v := range campaigns.TemplateVars(tp) {
			row := views.ComposeVar{Field: campaigns.VarField(v.Part, v.N), Part: v.Part, N: v.N}
			switch v.Part {
			case "header":
				row.Context, row.Sample = tp.Header, tp.HeaderSample
			case "body":
				row.Context = tp.Body
				if v.N-1 < len(samples) {
					row.Sample = samples[v.N-1]
				}
			case "url":
				if v.N < len(buttons) {
					row.Context, row.Sample = buttons[v.N].URL, buttons[v.N].URLSample
				}
			}
			vm.Vars = append(vm.Vars, row)
		}
	}
	key := "campaign.new_title"
	if id != 0 {
		key = "campaign.edit_title"
	}
	return web.Render(c, status, views.ComposePage(web.NewPage(c, key, "campaigns"), vm))
}

func (ch *composeHandler) newCampaign(c echo.Context) error {
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["skip_landlines"], f.Values["send_mode"], f.Values["fit_mode"] = "1", "now", campaigns.FitRefuse
	st := &composeState{form: f}
	// ?template_id= picks the template (the templates page links here).
	if id, err := strconv.ParseInt(c.QueryParam("template_id"), 10, 64); err == nil && id > 0 {
		tpl, err := templates.Get(c.Request().Context(), tn, id)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		if tpl != nil {
			st.template, f.Values["template_id"] = tpl, strconv.FormatInt(id, 10)
		}
	}
	return ch.renderCompose(c, http.StatusOK, 0, st)
}

// save creates (id 0) or updates a draft from the wizard; "Show the
// variables" (refresh) re-renders the page with the chosen template's
// variables without saving.
func (ch *composeHandler) save(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	tn, err := ch.tenant(c)
	if err != nil {
		return err
	}
	st, err := ch.readCompose(c, tn)
	if err != nil {
		return err
	}
	if c.FormValue("refresh") != "" {
		return ch.renderCompose(c, http.StatusOK, id, st)
	}
	var saved *campaigns.Campaign
	if id == 0 {
		saved, err = campaigns.Create(ctx, tn, actor(c).User, st.in)
	} else {
		saved, err = campaigns.Update(ctx, tn, actor(c).User, id, st.in)
	}
	if errors.Is(err, campaigns.ErrNotDraft) {
		web.Flash(c, "error", t(c, "campaign.not_draft"))
		return redirect(c, campaignURL(id, ""))
	}
	if err != nil {
		if ferr := web.FormErrors(c, st.form, err); ferr != nil {
			return ferr
		}
		return ch.renderCompose(c, http.StatusUnprocessableEntity, id, st)
	}
	web.Flash(c, "success", t(c, "campaign.saved"))
	return redirect(c, campaignURL(saved.ID, "/review"))
}

func (ch *composeHandler) create(c echo.Context) error { return ch.save(c, 0) }

func (ch *composeHandler) update(c echo.Context) error {
	_, id, err := ch.scopedID(c)
	if err != nil {
		return err
	}
	return ch.save(c, id)
}

func (ch *composeHandler) edit(c echo.Context) error {
	tn, camp, err := fromPath(ch.Handler, c, campaigns.Get)
	if err != nil {
		return err
	}
	if camp.State != campaigns.Draft {
		return redirect(c, campaignURL(camp.ID, ""))
	}
	f, segs := formOf(camp)
	st := &composeState{form: f, segments: segs}
	tpl, err := templates.Get(c.Request().Context(), tn, camp.TemplateID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	st.template = tpl
	return ch.renderCompose(c, http.StatusOK, camp.ID, st)
}

func (ch *composeHandler) delete(c echo.Context) error {
	tn, id, err := ch.scopedID(c)
	if err != nil {
		return err
	}
	err = campaigns.Delete(c.Request().Context(), tn, actor(c).User, id)
	if errors.Is(err, campaigns.ErrNotDraft) {
		web.Flash(c, "error", t(c, "campaign.not_draft"))
		return redirect(c, campaignURL(id, ""))
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "campaign.deleted"))
	return redirect(c, "/campaigns")
}

func campaignURL(id int64, suffix string) string {
	return "/campaigns/" + strconv.FormatInt(id, 10) + suffix
}
