package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/messages"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// reportMessagesPage is how many messages the list shows at a time.
const reportMessagesPage = 50

// reportMessageFilter reads the list's filter from the query: state, code
// (a number, "0" for failures without one), q and the cursor "after".
// A state or code that is not one is reported, and the filter ignores it.
func reportMessageFilter(c echo.Context) (campaigns.MessageFilter, string) {
	f := campaigns.MessageFilter{State: strings.TrimSpace(c.QueryParam("state")), Query: strings.TrimSpace(c.QueryParam("q")), Limit: reportMessagesPage}
	var problem string
	if f.State != "" && !campaigns.ValidState(f.State) {
		problem = t(c, "report.filter.bad_state")
		f.State = ""
	}
	if s := strings.TrimSpace(c.QueryParam("code")); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			f.Code = &n
		} else {
			problem = t(c, "report.filter.bad_code")
		}
	}
	if r := []rune(f.Query); len(r) > 100 {
		f.Query = string(r[:100])
	}
	if s := c.QueryParam("after"); s != "" {
		f.Cursor, _ = strconv.ParseInt(s, 10, 64)
	}
	return f, problem
}

// reportFilterQuery is the filter as a query string (without the cursor).
func reportFilterQuery(f campaigns.MessageFilter) url.Values {
	v := url.Values{}
	if f.State != "" {
		v.Set("state", f.State)
	}
	if f.Code != nil {
		v.Set("code", strconv.Itoa(*f.Code))
	}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	return v
}

func reportWithQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// messages is the campaign's message list with filters and each
// message's timeline, 50 at a time.
func (cr *campaignReport) messages(c echo.Context) error {
	tn, cp, err := cr.load(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	l := web.LocaleFrom(ctx)
	f, problem := reportMessageFilter(c)
	rows, next, err := campaigns.Messages(ctx, tn, cp.ID, f)
	if err != nil {
		return err
	}
	base := "/campaigns/" + contactIDText(cp.ID)
	q := reportFilterQuery(f)
	vm := views.CampaignMessagesVM{ID: cp.ID, Name: cp.Name, Query: f.Query, Error: problem,
		CSVHref: reportWithQuery(base+"/export.csv", q), XLSXHref: reportWithQuery(base+"/export.xlsx", q)}
	vm.States = append(vm.States, views.FilterOption{Value: "", Label: t(c, "report.filter.any_state"), Selected: f.State == ""})
	for _, s := range campaigns.MessageStates {
		vm.States = append(vm.States, views.FilterOption{Value: s, Label: t(c, "report.msg_state."+s), Selected: f.State == s})
	}
	failures, err := campaigns.Failures(ctx, tn, cp.ID)
	if err != nil {
		return err
	}
	vm.Codes = append(vm.Codes, views.FilterOption{Value: "", Label: t(c, "report.filter.any_code"), Selected: f.Code == nil})
	for _, g := range failures {
		label := strconv.Itoa(g.Code) + " " + g.Title
		if g.Code == 0 {
			label = t(c, "report.failures.untitled")
		}
		vm.Codes = append(vm.Codes, views.FilterOption{Value: strconv.Itoa(g.Code), Label: label, Selected: f.Code != nil && *f.Code == g.Code})
	}
	if f.Code != nil && !reportHasCode(failures, *f.Code) {
		vm.Codes = append(vm.Codes, views.FilterOption{Value: strconv.Itoa(*f.Code), Label: strconv.Itoa(*f.Code), Selected: true})
	}
	loc := cp.Location()
	for _, m := range rows {
		vm.Rows = append(vm.Rows, reportMessageRow(c, m, loc))
	}
	vm.Count = l.N("report.messages.count", int64(len(rows)))
	if next != 0 {
		q.Set("after", strconv.FormatInt(next, 10))
		vm.NextHref = reportWithQuery(base+"/messages", q)
	}
	p := web.NewPage(c, "report.messages.title", "campaigns")
	p.Title = t(c, "report.messages.page_title", cp.Name)
	return web.Render(c, http.StatusOK, views.CampaignMessages(p, vm))
}

func reportHasCode(gs []campaigns.FailureGroup, code int) bool {
	for _, g := range gs {
		if g.Code == code {
			return true
		}
	}
	return false
}

func reportMessageRow(c echo.Context, m campaigns.MessageRow, loc *time.Location) views.CampaignMessageRow {
	l := web.LocaleFrom(c.Request().Context())
	r := views.CampaignMessageRow{ID: m.ID, Name: m.ContactName, Phone: importer.DisplayPhone(m.Phone), State: m.State,
		StateText: t(c, "report.msg_state."+m.State), Detail: reportMessageDetail(c, m)}
	if r.Name == "" {
		r.Name = t(c, "report.messages.no_name")
	}
	if m.ContactID != nil && m.ContactName != "" {
		r.ContactHref = "/contacts/" + contactIDText(*m.ContactID)
	}
	for _, e := range campaigns.MessageEvents(m) {
		s := views.TimelineStep{Kind: e.Kind, Label: t(c, "report.event."+e.Kind)}
		if e.At != nil {
			s.At = l.DateTime(*e.At, loc) + e.At.In(loc).Format(":05")
		}
		r.Timeline = append(r.Timeline, s)
	}
	return r
}

// reportMessageDetail is why a message was skipped, or its error with our
// explanation.
func reportMessageDetail(c echo.Context, m campaigns.MessageRow) string {
	if m.State == messages.Skipped {
		return t(c, "report.skip."+reportSkipKey(m.SkipReason))
	}
	if m.ErrorCode == nil && m.FailedAt == nil {
		return ""
	}
	parts := []string{}
	if m.ErrorCode != nil {
		parts = append(parts, strconv.Itoa(*m.ErrorCode))
	}
	if m.ErrorTitle != "" {
		parts = append(parts, m.ErrorTitle)
	}
	s := strings.Join(parts, " ")
	if m.ErrorDetail != "" {
		s += " (" + m.ErrorDetail + ")"
	}
	if k := m.Explanation(); k != "" {
		s += " — " + t(c, k+".means")
	}
	if m.State != messages.Failed {
		s = t(c, "report.messages.failed_after", s)
	}
	return s
}

func (cr *campaignReport) exportCSV(c echo.Context) error  { return cr.export(c, false) }
func (cr *campaignReport) exportXLSX(c echo.Context) error { return cr.export(c, true) }

// export streams the campaign's messages matching the list's filter as a
// download. Nothing is sent before the first page of messages is read, so
// another business's campaign or a failing query gives the error page.
func (cr *campaignReport) export(c echo.Context, xlsx bool) error {
	tn, cp, err := cr.load(c)
	if err != nil {
		return err
	}
	f, _ := reportMessageFilter(c)
	f.Cursor = 0
	lw := &lazyCSV{c: c, name: "campaign-" + contactIDText(cp.ID) + "-messages-" + cr.s.DB.Now().Format("2006-01-02") + ".csv", contentType: "text/csv; charset=utf-8"}
	if xlsx {
		lw.name, lw.contentType = strings.TrimSuffix(lw.name, ".csv")+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	n, err := campaigns.Export(c.Request().Context(), tn, cp.ID, f, xlsx, lw)
	if err != nil {
		if !lw.started {
			return err
		}
		cr.s.Log.Warn("campaign export failed", "campaign", cp.ID, "rows", n, "error", err)
	}
	return nil
}

// contactMessages fills the contact page's "Messages sent": the newest 20
// messages sent to the contact, with campaign, state and time.
func contactMessages(ctx context.Context, tn models.Tenant, contactID int64, vm *views.ContactVM) error {
	rows, err := campaigns.ContactMessages(ctx, tn, contactID, 20)
	if err != nil {
		return err
	}
	l := web.LocaleFrom(ctx)
	for _, m := range rows {
		r := views.ContactMessageRow{ID: m.ID, Campaign: m.CampaignName, State: m.State, StateText: l.T("report.msg_state." + m.State)}
		if m.CampaignID != nil && m.CampaignName != "" {
			r.CampaignHref = "/campaigns/" + contactIDText(*m.CampaignID)
		}
		if r.Campaign == "" {
			r.Campaign = l.T("report.contact.no_campaign")
		}
		if m.State == messages.Skipped {
			r.Detail = l.T("report.skip." + reportSkipKey(m.SkipReason))
		} else if m.State == messages.Failed {
			if m.ErrorCode != nil {
				r.Detail = strconv.Itoa(*m.ErrorCode) + " " + m.ErrorTitle
			} else {
				r.Detail = m.ErrorTitle
			}
		}
		at := m.CreatedAt
		for _, tm := range []*time.Time{m.SentAt, m.DeliveredAt, m.ReadAt, m.FailedAt} {
			if tm != nil && tm.After(at) {
				at = *tm
			}
		}
		r.At = l.DateTime(at, nil)
		vm.Messages = append(vm.Messages, r)
	}
	return nil
}
