package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// invoiceStates are the states an invoice list can be narrowed to.
var invoiceStates = []string{billing.Draft, billing.Issued, billing.Paid, billing.Cancelled}

// invoiceRowVM is one invoice as a list shows it; base is where its
// detail page and downloads live.
func invoiceRowVM(c echo.Context, inv *billing.Invoice, base string) views.InvoiceRowVM {
	l := web.LocaleFrom(c.Request().Context())
	id := strconv.FormatInt(inv.ID, 10)
	r := views.InvoiceRowVM{ID: inv.ID, URL: base + "/" + id, Number: inv.NumberOr(), Kind: inv.Kind,
		KindLabel: t(c, "billing_ui.kind."+inv.Kind), State: inv.State, StateLabel: t(c, "billing_ui.state."+inv.State),
		Period: monthLabel(l, inv.Period), Net: money(l, inv.Net, inv.Currency), Gross: money(l, inv.Gross, inv.Currency)}
	if r.Number == "" {
		r.Number = t(c, "billing_ui.invoice.draft_number", inv.ID)
	}
	if inv.IssuedAt != nil {
		r.Issued = l.Date(*inv.IssuedAt, nil)
		r.HasDocs = true
		r.PDF, r.XML = r.URL+"/invoice.pdf", r.URL+"/invoice.xml"
	}
	if inv.DueAt != nil {
		r.Due = l.Date(*inv.DueAt, nil)
	}
	if inv.PaidAt != nil {
		r.Paid = l.Date(*inv.PaidAt, nil)
	}
	return r
}

// invoices lists the business's invoices and credit notes, newest first.
func (bh *billingHandler) invoices(c echo.Context) error {
	tn, err := bh.tenant(c)
	if err != nil {
		return err
	}
	f := billing.InvoiceFilter{Limit: 50}
	if st := c.QueryParam("state"); contains(invoiceStates, st) {
		f.State = st
	}
	if b := c.QueryParam("before"); b != "" {
		if f.BeforeID, err = parseID(b); err != nil {
			return err
		}
	}
	list, err := billing.Invoices(c.Request().Context(), tn, f)
	if err != nil {
		return err
	}
	vm := views.InvoicesVM{State: f.State, States: stateOptions(c)}
	for i := range list {
		vm.Rows = append(vm.Rows, invoiceRowVM(c, &list[i], "/billing/invoices"))
	}
	if len(list) == f.Limit {
		vm.Older = "/billing/invoices?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
		if f.State != "" {
			vm.Older += "&state=" + f.State
		}
	}
	return web.Render(c, http.StatusOK, views.InvoicesPage(web.NewPage(c, "billing_ui.invoices.title", "billing"), vm))
}

func stateOptions(c echo.Context) []views.Option {
	out := []views.Option{{Value: "", Label: t(c, "billing_ui.state.any")}}
	for _, s := range invoiceStates {
		out = append(out, views.Option{Value: s, Label: t(c, "billing_ui.state."+s)})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s && s != "" {
			return true
		}
	}
	return false
}

// invoiceDetail is the detail page's view of inv: its lines, VAT, totals,
// state, downloads and the credit notes that reference it (related).
func invoiceDetail(c echo.Context, inv *billing.Invoice, related []billing.Invoice, corrected *billing.Invoice, base string) views.InvoiceVM {
	l := web.LocaleFrom(c.Request().Context())
	vm := views.InvoiceVM{Row: invoiceRowVM(c, inv, base), Customer: inv.CustomerName, CustomerAddress: inv.CustomerAddress,
		CustomerCountry: countryName(c, inv.CustomerCountry), CustomerVATID: inv.CustomerVATID,
		Supply: l.Date(inv.PeriodStart, nil) + " – " + l.Date(inv.PeriodEnd, nil),
		Net:    money(l, inv.Net, inv.Currency), Tax: money(l, inv.Tax, inv.Currency), Gross: money(l, inv.Gross, inv.Currency),
		VATRate: vatRate(l, inv), VATNote: vatNote(c, inv), Note: inv.Note, Reason: inv.Reason}
	if inv.CancelledAt != nil {
		vm.Cancelled = l.Date(*inv.CancelledAt, nil)
	}
	for _, ln := range inv.Lines {
		vm.Lines = append(vm.Lines, views.InvoiceLineVM{Description: lineDescription(c, ln), Country: ln.Country,
			Category: t(c, "billing_ui.category."+ln.Category), Quantity: l.Int(ln.Quantity),
			Unit: unitMoney(l, ln.UnitPrice, inv.Currency), Amount: money(l, ln.Amount, inv.Currency)})
	}
	for i := range related {
		if related[i].CorrectsID != nil && *related[i].CorrectsID == inv.ID {
			vm.CreditNotes = append(vm.CreditNotes, invoiceRowVM(c, &related[i], base))
		}
	}
	if corrected != nil {
		r := invoiceRowVM(c, corrected, base)
		vm.Corrects = &r
	}
	return vm
}

// lineDescription is the line's text in the reader's language (the
// document itself is in the customer's).
func lineDescription(c echo.Context, ln billing.InvoiceLine) string {
	lang := "en"
	if strings.HasPrefix(web.LocaleFrom(c.Request().Context()).Tag, "de") {
		lang = "de"
	}
	return billing.LineDescription(ln.Category, ln.Country, lang)
}

// vatRate is "19 %" (or "0 %", "7.7 %").
func vatRate(l *i18n.Locale, inv *billing.Invoice) string {
	if inv.VATRate.Equal(inv.VATRate.Round(0)) {
		return l.Decimal(inv.VATRate.IntPart(), 0) + "\u00a0%"
	}
	return l.Decimal(inv.VATRate.Shift(1).Round(0).IntPart(), 1) + "\u00a0%"
}

// vatNote explains the VAT treatment (reverse charge, not taxable here).
func vatNote(c echo.Context, inv *billing.Invoice) string {
	key := "billing_ui.vat." + strings.ToLower(inv.VATTreatment)
	if web.LocaleFrom(c.Request().Context()).Has(key) {
		return t(c, key)
	}
	return inv.VATTreatment
}

// invoiceWithRelated loads an invoice and, through the same scope, the
// credit notes referencing it and the invoice a credit note corrects.
func invoiceWithRelated(ctx context.Context, tn models.Tenant, id int64) (*billing.Invoice, []billing.Invoice, *billing.Invoice, error) {
	inv, err := billing.InvoiceByID(ctx, tn, id)
	if err != nil {
		return nil, nil, nil, err
	}
	var related []billing.Invoice
	if inv.Kind == billing.KindInvoice {
		if related, err = billing.Invoices(ctx, tn, billing.InvoiceFilter{Kind: billing.KindCreditNote, Limit: 200}); err != nil {
			return nil, nil, nil, err
		}
	}
	var corrected *billing.Invoice
	if inv.CorrectsID != nil {
		if corrected, err = billing.InvoiceByID(ctx, tn, *inv.CorrectsID); err != nil {
			return nil, nil, nil, err
		}
	}
	return inv, related, corrected, nil
}

// invoice is an invoice's detail page (another business's: 404).
func (bh *billingHandler) invoice(c echo.Context) error {
	tn, id, err := bh.scopedID(c)
	if err != nil {
		return err
	}
	inv, related, corrected, err := invoiceWithRelated(c.Request().Context(), tn, id)
	if err != nil {
		return err
	}
	vm := invoiceDetail(c, inv, related, corrected, "/billing/invoices")
	vm.UsageCSV = "/billing/usage.csv?invoice=" + strconv.FormatInt(inv.ID, 10)
	vm.UsageXLSX = "/billing/usage.xlsx?invoice=" + strconv.FormatInt(inv.ID, 10)
	return web.Render(c, http.StatusOK, views.InvoicePage(web.NewPage(c, "billing_ui.invoice.title", "billing"), vm))
}

func (bh *billingHandler) invoicePDF(c echo.Context) error { return bh.document(c, billing.DocPDF) }
func (bh *billingHandler) invoiceXML(c echo.Context) error { return bh.document(c, billing.DocXML) }

// document sends an issued invoice's stored PDF or XML, the bytes as
// stored at issue (another business's, or a draft's: 404).
func (bh *billingHandler) document(c echo.Context, kind string) error {
	tn, id, err := bh.scopedID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	inv, err := billing.InvoiceByID(ctx, tn, id)
	if err != nil {
		return err
	}
	body, err := billing.DocumentOf(ctx, tn, id, kind)
	if err != nil {
		return err
	}
	return sendDocument(c, inv, kind, body)
}

// sendDocument is the download of a stored document, named by the
// invoice's number.
func sendDocument(c echo.Context, inv *billing.Invoice, kind string, body []byte) error {
	name := inv.NumberOr()
	if name == "" {
		name = "invoice-" + strconv.FormatInt(inv.ID, 10)
	}
	ct := "application/pdf"
	if kind == billing.DocXML {
		ct = "application/xml; charset=utf-8"
	}
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+"."+kind+`"`)
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ct, body)
}
