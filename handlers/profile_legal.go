package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// legalForm is the legal and billing details form.
type legalForm struct {
	LegalName         string `form:"legal_name"`
	RegisteredAddress string `form:"registered_address"`
	Country           string `form:"country"`
	VATID             string `form:"vat_id"`
	BillingEmail      string `form:"billing_email"`
	TimeZone          string `form:"time_zone"`
	Currency          string `form:"currency"`
	ConfirmReverify   bool   `form:"confirm_reverify"`
}

func (f legalForm) input() profiles.LegalInput {
	return profiles.LegalInput{LegalName: f.LegalName, RegisteredAddress: f.RegisteredAddress, Country: f.Country,
		VATID: f.VATID, BillingEmail: f.BillingEmail, TimeZone: f.TimeZone, Currency: f.Currency, ConfirmReverify: f.ConfirmReverify}
}

// savedLegalForm is the form filled with the saved details.
func savedLegalForm(p *profiles.Profile) *views.Form {
	return formView(legalForm{LegalName: p.LegalName, RegisteredAddress: p.RegisteredAddress, Country: p.Country,
		VATID: p.VATID, BillingEmail: p.BillingEmail, TimeZone: p.TimeZone, Currency: p.Currency})
}

func (ph *profileHandler) legalVM(c echo.Context, f *views.Form) (views.LegalVM, error) {
	ctx := c.Request().Context()
	tn, err := ph.tenant(c)
	if err != nil {
		return views.LegalVM{}, err
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return views.LegalVM{}, err
	}
	prof, err := profiles.Get(ctx, tn)
	if err != nil {
		return views.LegalVM{}, err
	}
	if f == nil {
		f = savedLegalForm(prof)
	}
	vm := views.LegalVM{Form: f, CanEdit: actor(c).IsOwner(), State: b.VerificationState, SavedLegal: prof.LegalName,
		Countries: countryOptions(c), Currencies: currencyOptions(c), TimeZones: commonTimeZones}
	vm.ShowConfirm = b.Verified() && f.Value("legal_name") != prof.LegalName
	return vm, nil
}

// showLegal shows the legal and billing details (an owner-only route: the
// registered address, VAT ID and billing e-mail are the owner's business).
func (ph *profileHandler) showLegal(c echo.Context) error {
	vm, err := ph.legalVM(c, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.LegalPage(web.NewPage(c, "legal.title", "profile"), vm))
}

// saveLegal stores the legal and billing details (owners only).
func (ph *profileHandler) saveLegal(c echo.Context) error {
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	var in legalForm
	f := bindForm(c, &in)
	res, err := profiles.SaveLegal(c.Request().Context(), tn, actor(c).User, in.input(), c.RealIP())
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		vm, verr := ph.legalVM(c, f)
		if verr != nil {
			return verr
		}
		vm.ShowConfirm = vm.ShowConfirm || f.Error("confirm_reverify") != ""
		return web.Render(c, http.StatusUnprocessableEntity, views.LegalPage(web.NewPage(c, "legal.title", "profile"), vm))
	}
	flashSave(c, res, "legal.saved")
	return redirect(c, "/profile/legal")
}

// setStaffAccess lets the owner allow staff to edit the messaging profile.
func (ph *profileHandler) setStaffAccess(c echo.Context) error {
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	allow := c.FormValue("staff_can_edit") == "1"
	if err := profiles.SetStaffCanEdit(c.Request().Context(), tn, actor(c).User, allow, c.RealIP()); err != nil {
		return err
	}
	if allow {
		web.Flash(c, "success", t(c, "profile.staff_allowed"))
	} else {
		web.Flash(c, "success", t(c, "profile.staff_forbidden"))
	}
	return redirect(c, "/profile")
}
