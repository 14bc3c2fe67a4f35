package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// issuerForm is the issuer details form (what every invoice states
// about the platform as its issuer).
type issuerForm struct {
	Name             string `form:"name"`
	Street           string `form:"street"`
	Postcode         string `form:"postcode"`
	City             string `form:"city"`
	Country          string `form:"country"`
	VATID            string `form:"vat_id"`
	TaxNumber        string `form:"tax_number"`
	ContactName      string `form:"contact_name"`
	ContactPhone     string `form:"contact_phone"`
	ContactEmail     string `form:"contact_email"`
	BankAccountName  string `form:"bank_account_name"`
	IBAN             string `form:"iban"`
	BIC              string `form:"bic"`
	BankName         string `form:"bank_name"`
	PaymentTermsDays string `form:"payment_terms_days"`
	BuyerReference   string `form:"buyer_reference"`
}

func (f issuerForm) input() billing.SettingsInput {
	return billing.SettingsInput{Name: f.Name, Street: f.Street, Postcode: f.Postcode, City: f.City, Country: f.Country,
		VATID: f.VATID, TaxNumber: f.TaxNumber, ContactName: f.ContactName, ContactPhone: f.ContactPhone,
		ContactEmail: f.ContactEmail, BankAccountName: f.BankAccountName, IBAN: f.IBAN, BIC: f.BIC, BankName: f.BankName,
		PaymentTermsDays: f.PaymentTermsDays, BuyerReference: f.BuyerReference}
}

func savedSettingsForm(s billing.IssuerSettings) *views.Form {
	return formView(issuerForm{Name: s.Name, Street: s.Street, Postcode: s.Postcode, City: s.City, Country: s.Country,
		VATID: s.VATID, TaxNumber: s.TaxNumber, ContactName: s.ContactName, ContactPhone: s.ContactPhone,
		ContactEmail: s.ContactEmail, BankAccountName: s.BankAccountName, IBAN: s.IBAN, BIC: s.BIC, BankName: s.BankName,
		PaymentTermsDays: strconv.Itoa(s.PaymentTermsDays), BuyerReference: s.BuyerReference})
}

// showSettings is the issuer details form.
func (bh *billingHandler) showSettings(c echo.Context) error {
	s, err := billing.Settings(c.Request().Context(), bh.s.DB)
	if err != nil {
		return err
	}
	return bh.settingsPage(c, http.StatusOK, savedSettingsForm(s), s)
}

func (bh *billingHandler) settingsPage(c echo.Context, status int, f *views.Form, s billing.IssuerSettings) error {
	vm := views.BillingSettingsVM{Form: f, Countries: countryOptions(c)}
	if s.UpdatedAt != nil {
		vm.Updated = web.LocaleFrom(c.Request().Context()).DateTime(*s.UpdatedAt, nil)
	}
	return web.Render(c, status, views.BillingSettingsPage(web.NewPage(c, "billing_ui.settings.title", "admin-billing"), vm))
}

// saveSettings stores the issuer details, or shows the form again with a
// message at each bad field and everything typed kept.
func (bh *billingHandler) saveSettings(c echo.Context) error {
	var in issuerForm
	f := bindForm(c, &in)
	ctx := c.Request().Context()
	_, err := billing.SaveSettings(ctx, bh.s.DB, actor(c).User, in.input(), c.RealIP())
	if err == nil {
		web.Flash(c, "success", t(c, "billing_ui.settings.saved"))
		return redirect(c, "/admin/billing/settings")
	}
	if err := web.FormErrors(c, f, err); err != nil {
		return err
	}
	old, err := billing.Settings(ctx, bh.s.DB)
	if err != nil {
		return err
	}
	return bh.settingsPage(c, http.StatusUnprocessableEntity, f, old)
}
