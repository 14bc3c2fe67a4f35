package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

var legalFields = []string{"legal_name", "registered_address", "country", "vat_id", "billing_email", "time_zone", "currency", "confirm_reverify"}

func legalForm(p *profiles.Profile) *views.Form {
	f := views.NewForm()
	f.Values["legal_name"] = p.LegalName
	f.Values["registered_address"] = p.RegisteredAddress
	f.Values["country"] = p.Country
	f.Values["vat_id"] = p.VATID
	f.Values["billing_email"] = p.BillingEmail
	f.Values["time_zone"] = p.TimeZone
	f.Values["currency"] = p.Currency
	return f
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
		f = legalForm(prof)
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
	f := formFrom(c, legalFields...)
	in := profiles.LegalInput{LegalName: f.Value("legal_name"), RegisteredAddress: f.Value("registered_address"), Country: f.Value("country"),
		VATID: f.Value("vat_id"), BillingEmail: f.Value("billing_email"), TimeZone: f.Value("time_zone"), Currency: f.Value("currency"),
		ConfirmReverify: f.Value("confirm_reverify") == "1"}
	res, err := profiles.SaveLegal(c.Request().Context(), tn, actor(c).User, in, c.RealIP())
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
