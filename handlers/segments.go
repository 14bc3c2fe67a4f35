package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) listSegments(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	segs, err := contacts.Segments(ctx, tn)
	if err != nil {
		return err
	}
	vm := views.SegmentsVM{Rows: make([]views.SegmentRow, len(segs)), CountNowURL: "/segments?counts=now"}
	switch c.QueryParam("counts") {
	case "now":
	case "later":
		vm.Lazy = len(segs) > 0
	default:
		// A large book gets its page at once and the counts one by one
		// from the page's script: each is a pass over the members.
		_, big, err := contacts.CountUpTo(ctx, tn, contacts.ContactFilter{}, lazySegmentCountsAbove)
		if err != nil {
			return err
		}
		vm.Lazy = big && len(segs) > 0
	}
	for i, s := range segs {
		vm.Rows[i] = views.SegmentRow{Segment: s}
		if vm.Lazy {
			vm.Rows[i].CountURL = "/segments/count?" + segmentRuleQuery(s.Rule())
			continue
		}
		if vm.Rows[i].Count, err = contacts.SegmentCount(ctx, tn, s.Rule()); err != nil {
			return err
		}
	}
	return web.Render(c, http.StatusOK, views.SegmentsPage(segmentsPage(c, "segments.title"), vm))
}

// lazySegmentCountsAbove is the book size above which the segment list
// leaves its counts to the page's script.
const lazySegmentCountsAbove = 20000

// segmentRuleQuery is the rule as /segments/count reads it.
func segmentRuleQuery(r contacts.SegmentRule) string {
	return url.Values{"all_tags": {strings.Join(r.All, ", ")}, "any_tags": {strings.Join(r.Any, ", ")}, "none_tags": {strings.Join(r.None, ", ")}}.Encode()
}

// segmentForm is the segment form: a name and three comma-separated tag
// lists (all of, any of, none of). /segments/count reads it from a GET.
type segmentForm struct {
	Name     string `form:"name"`
	AllTags  string `form:"all_tags"`
	AnyTags  string `form:"any_tags"`
	NoneTags string `form:"none_tags"`
}

func (f segmentForm) input() contacts.SegmentInput {
	return contacts.SegmentInput{Name: f.Name, All: []string{f.AllTags}, Any: []string{f.AnyTags}, None: []string{f.NoneTags}}
}

// renderSegmentForm shows the form with the live count of its rule when
// the rule is valid.
func (h *Handler) renderSegmentForm(c echo.Context, status int, id int64, name string, in segmentForm, f *views.Form) error {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	vm := views.SegmentFormVM{ID: id, Name: name, Form: f}
	if rule, rerr := contacts.CleanRule(in.input()); rerr == nil {
		if vm.Count, err = contacts.SegmentCount(ctx, tn, rule); err != nil {
			return err
		}
		vm.HasCount = true
	}
	if vm.Tags, err = contacts.Tags(ctx, tn); err != nil {
		return err
	}
	key := "segment.new_title"
	if id != 0 {
		key = "segments.title"
	}
	return web.Render(c, status, views.SegmentFormPage(segmentsPage(c, key), vm))
}

func (h *Handler) newSegment(c echo.Context) error {
	return h.renderSegmentForm(c, http.StatusOK, 0, "", segmentForm{}, views.NewForm())
}

func (h *Handler) createSegment(c echo.Context) error {
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	var in segmentForm
	f := bindForm(c, &in)
	if c.FormValue("preview") != "" {
		return h.previewSegment(c, 0, "", in, f)
	}
	seg, err := contacts.CreateSegment(c.Request().Context(), tn, in.input())
	if err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderSegmentForm(c, http.StatusUnprocessableEntity, 0, "", in, f)
	}
	h.auditContacts(c, "segment.created", "segment", contactIDText(seg.ID), seg.Name)
	web.Flash(c, "success", t(c, "segment.saved"))
	return redirect(c, "/segments/"+contactIDText(seg.ID))
}

// previewSegment counts the typed rule without saving it (the form's
// Count button, for browsers without the live count).
func (h *Handler) previewSegment(c echo.Context, id int64, name string, in segmentForm, f *views.Form) error {
	status := http.StatusOK
	if _, err := contacts.CleanRule(in.input()); err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		status = http.StatusUnprocessableEntity
	}
	return h.renderSegmentForm(c, status, id, name, in, f)
}

func (h *Handler) segmentFromPath(c echo.Context) (models.Tenant, *contacts.Segment, error) {
	return fromPath(h, c, contacts.SegmentByID)
}

func (h *Handler) editSegment(c echo.Context) error {
	_, seg, err := h.segmentFromPath(c)
	if err != nil {
		return err
	}
	in := segmentForm{Name: seg.Name, AllTags: strings.Join(seg.All, ", "), AnyTags: strings.Join(seg.Any, ", "),
		NoneTags: strings.Join(seg.None, ", ")}
	return h.renderSegmentForm(c, http.StatusOK, seg.ID, seg.Name, in, formView(in))
}

func (h *Handler) updateSegment(c echo.Context) error {
	tn, seg, err := h.segmentFromPath(c)
	if err != nil {
		return err
	}
	var in segmentForm
	f := bindForm(c, &in)
	if c.FormValue("preview") != "" {
		return h.previewSegment(c, seg.ID, seg.Name, in, f)
	}
	if _, err := contacts.UpdateSegment(c.Request().Context(), tn, seg.ID, in.input()); err != nil {
		if ferr := web.FormErrors(c, f, err); ferr != nil {
			return ferr
		}
		return h.renderSegmentForm(c, http.StatusUnprocessableEntity, seg.ID, seg.Name, in, f)
	}
	h.auditContacts(c, "segment.updated", "segment", contactIDText(seg.ID), in.Name)
	web.Flash(c, "success", t(c, "segment.saved"))
	return redirect(c, "/segments/"+contactIDText(seg.ID))
}

func (h *Handler) deleteSegment(c echo.Context) error {
	tn, seg, err := h.segmentFromPath(c)
	if err != nil {
		return err
	}
	if err := contacts.DeleteSegment(c.Request().Context(), tn, seg.ID); err != nil {
		return err
	}
	h.auditContacts(c, "segment.deleted", "segment", contactIDText(seg.ID), seg.Name)
	web.Flash(c, "success", t(c, "segment.deleted"))
	return redirect(c, "/segments")
}
