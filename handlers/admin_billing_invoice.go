package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// adminInvoiceVM is an invoice's detail with the administrators' actions.
func (bh *billingHandler) adminInvoiceVM(c echo.Context, id int64) (views.InvoiceVM, error) {
	ctx := c.Request().Context()
	row, err := billing.AdminInvoice(ctx, bh.s.DB, id)
	if err != nil {
		return views.InvoiceVM{}, err
	}
	var related []billing.Invoice
	if row.Kind == billing.KindInvoice {
		all, err := billing.AllInvoices(ctx, bh.s.DB, billing.AdminFilter{Kind: billing.KindCreditNote, BusinessID: row.BusinessID, Limit: 200})
		if err != nil {
			return views.InvoiceVM{}, err
		}
		for i := range all {
			related = append(related, all[i].Invoice)
		}
	}
	var corrected *billing.Invoice
	if row.CorrectsID != nil {
		cr, err := billing.AdminInvoice(ctx, bh.s.DB, *row.CorrectsID)
		if err != nil {
			return views.InvoiceVM{}, err
		}
		corrected = &cr.Invoice
	}
	vm := invoiceDetail(c, &row.Invoice, related, corrected, "/admin/billing/invoices")
	vm.Row.Business, vm.Row.BusinessID = row.BusinessName, row.BusinessID
	vm.Admin = true
	vm.CanPay = row.Kind == billing.KindInvoice && row.State == billing.Issued
	vm.CanCancel = row.Kind == billing.KindInvoice && row.State == billing.Issued
	vm.CanIssue = row.State == billing.Draft
	vm.IssueAction = "/admin/billing/invoices/" + strconv.FormatInt(id, 10) + "/issue"
	vm.PaidAction = "/admin/billing/invoices/" + strconv.FormatInt(id, 10) + "/paid"
	vm.CancelURL = "/admin/billing/invoices/" + strconv.FormatInt(id, 10) + "/cancel"
	return vm, nil
}

// adminInvoice is any business's invoice, for administrators.
func (bh *billingHandler) adminInvoice(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	vm, err := bh.adminInvoiceVM(c, id)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.AdminInvoicePage(web.NewPage(c, "billing_ui.invoice.title", "admin-billing"), vm))
}

// markPaid records that an issued invoice was paid.
func (bh *billingHandler) markPaid(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	row, err := billing.AdminInvoice(ctx, bh.s.DB, id)
	if err != nil {
		return err
	}
	if err := billing.MarkPaid(ctx, bh.s.DB, actor(c).User, id, c.RealIP()); err != nil {
		if errors.Is(err, billing.ErrWrongState) {
			web.Flash(c, "error", t(c, "billing_ui.paid.not_possible"))
			return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
		}
		if v, ok := asValidationText(c, err); ok {
			web.Flash(c, "error", v)
			return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
		}
		return err
	}
	web.Flash(c, "success", t(c, "billing_ui.paid.done", row.NumberOr()))
	return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
}

// issueDraft issues a draft that the month-end could not issue (the
// issuer details were incomplete): it takes the next number and its
// documents are made.
func (bh *billingHandler) issueDraft(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	back := "/admin/billing/invoices/" + strconv.FormatInt(id, 10)
	if _, err := billing.AdminInvoice(c.Request().Context(), bh.s.DB, id); err != nil {
		return err
	}
	inv, err := bh.invoicing.Issue(c.Request().Context(), id)
	switch {
	case errors.Is(err, billing.ErrIssuerIncomplete):
		web.Flash(c, "error", t(c, "billing_ui.issue.issuer"))
	case errors.Is(err, billing.ErrWrongState):
		web.Flash(c, "error", t(c, "billing_ui.issue.not_draft"))
	case err != nil:
		return err
	default:
		web.Flash(c, "success", t(c, "billing_ui.issue.done", inv.NumberOr()))
	}
	return redirect(c, back)
}

// asValidationText is a model's refusal as one line for a flash.
func asValidationText(c echo.Context, err error) (string, bool) {
	f := views.NewForm()
	if web.FormErrors(c, f, err) != nil {
		return "", false
	}
	var parts []string
	for _, m := range f.Errors {
		parts = append(parts, m)
	}
	return strings.Join(parts, " "), true
}

// confirmCancel asks for the reason before an invoice is cancelled with
// a credit note.
func (bh *billingHandler) confirmCancel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return bh.cancelPage(c, http.StatusOK, id, views.NewForm())
}

func (bh *billingHandler) cancelPage(c echo.Context, status int, id int64, f *views.Form) error {
	vm, err := bh.adminInvoiceVM(c, id)
	if err != nil {
		return err
	}
	if !vm.CanCancel {
		web.Flash(c, "error", t(c, "billing_ui.cancel.not_possible"))
		return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
	}
	return web.Render(c, status, views.CancelInvoicePage(web.NewPage(c, "billing_ui.cancel.title", "admin-billing"), views.CancelInvoiceVM{Invoice: vm, Form: f}))
}

// cancel cancels an issued invoice with a credit note of its
// own number series; the reason is required and printed on the note.
func (bh *billingHandler) cancel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	f := views.NewForm()
	reason := strings.TrimSpace(c.FormValue("reason"))
	f.Values["reason"] = reason
	switch {
	case reason == "":
		f.SetError("reason", t(c, "billing_ui.cancel.error.reason"))
	case len([]rune(reason)) > 500:
		f.SetError("reason", t(c, "billing_ui.cancel.error.reason_long"))
	}
	if !f.HasErrors() {
		cn, err := billing.CancelWithCreditNote(c.Request().Context(), bh.s.DB, actor(c).User, id, reason, c.RealIP())
		if err == nil {
			web.Flash(c, "success", t(c, "billing_ui.cancel.done", cn.NumberOr()))
			return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
		}
		if errors.Is(err, billing.ErrWrongState) {
			web.Flash(c, "error", t(c, "billing_ui.cancel.not_possible"))
			return redirect(c, "/admin/billing/invoices/"+strconv.FormatInt(id, 10))
		}
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
	}
	return bh.cancelPage(c, http.StatusUnprocessableEntity, id, f)
}

func (bh *billingHandler) adminPDF(c echo.Context) error { return bh.adminDocument(c, billing.DocPDF) }
func (bh *billingHandler) adminXML(c echo.Context) error { return bh.adminDocument(c, billing.DocXML) }

func (bh *billingHandler) adminDocument(c echo.Context, kind string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	row, err := billing.AdminInvoice(ctx, bh.s.DB, id)
	if err != nil {
		return err
	}
	body, err := billing.AdminDocumentOf(ctx, bh.s.DB, id, kind)
	if err != nil {
		return err
	}
	return sendDocument(c, &row.Invoice, kind, body)
}
