package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// requestForm is the badge request form.
type requestForm struct {
	RegistrationNumber string `form:"registration_number"`
	Website            string `form:"website"`
	Country            string `form:"country"`
	Links              string `form:"links"`
	FurtherInfo        string `form:"further_info"`
}

func (f requestForm) input() profiles.VerificationInput {
	return profiles.VerificationInput{RegistrationNumber: f.RegistrationNumber, Website: f.Website,
		Country: f.Country, Links: f.Links, FurtherInfo: f.FurtherInfo}
}

// verificationVM builds the business's verification page. f holds the
// typed request (nil: prefilled from the last request and the profile);
// docForm carries an upload error.
func (ph *profileHandler) verificationVM(c echo.Context, f, docForm *views.Form) (views.VerificationVM, error) {
	ctx := c.Request().Context()
	tn, err := ph.tenant(c)
	if err != nil {
		return views.VerificationVM{}, err
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return views.VerificationVM{}, err
	}
	prof, err := profiles.Get(ctx, tn)
	if err != nil {
		return views.VerificationVM{}, err
	}
	vm := views.VerificationVM{State: b.VerificationState, Countries: countryOptions(c), DocForm: docForm}
	if vm.DocForm == nil {
		vm.DocForm = views.NewForm()
	}
	vm.Checklist = profiles.ChecklistOf(b, prof)
	if vm.History, err = profiles.VerificationRequests(ctx, tn); err != nil {
		return vm, err
	}
	if vm.Documents, err = profiles.CurrentDocuments(ctx, tn); err != nil {
		return vm, err
	}
	if len(vm.History) > 0 {
		vm.Latest = &vm.History[0]
	}
	vm.RefileOpensAt = vm.Latest.RefileOpensAt(ph.s.DB.Now())
	open := b.VerificationState == models.VerificationUnverified || b.VerificationState == models.VerificationRejected
	vm.CanEditDocuments = actor(c).IsOwner() && open
	vm.CanRequest = vm.CanEditDocuments && vm.RefileOpensAt.IsZero()
	if f == nil {
		saved := requestForm{Website: prof.Website1, Country: prof.Country}
		if r := vm.Latest; r != nil {
			saved = requestForm{RegistrationNumber: r.RegistrationNumber, Website: r.Website, Country: r.Country,
				Links: r.Links, FurtherInfo: r.FurtherInfo}
		}
		f = formView(saved)
	}
	f.Values["legal_name"] = prof.LegalName
	vm.Form = f
	return vm, nil
}

// showVerification is the business's verification page (an owner-only
// route).
func (ph *profileHandler) showVerification(c echo.Context) error {
	vm, err := ph.verificationVM(c, nil, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.VerificationPage(web.NewPage(c, "verify.title", "profile"), vm))
}

// submitVerification files a badge request (owners only).
func (ph *profileHandler) submitVerification(c echo.Context) error {
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	var in requestForm
	f := bindForm(c, &in)
	_, err = profiles.SubmitVerification(c.Request().Context(), tn, actor(c).User, in.input(), c.RealIP())
	var re *profiles.RefileError
	switch {
	case err == nil:
		web.Flash(c, "success", t(c, "verify.submitted"))
		return redirect(c, "/verification")
	case errors.Is(err, profiles.ErrRequestPending):
		web.Flash(c, "error", t(c, "verify.pending_exists"))
		return redirect(c, "/verification")
	case errors.Is(err, profiles.ErrAlreadyVerified):
		web.Flash(c, "error", t(c, "verify.already_verified"))
		return redirect(c, "/verification")
	case errors.As(err, &re):
		l := web.LocaleFrom(c.Request().Context())
		web.Flash(c, "error", t(c, "verify.refile_wait", l.Date(re.RejectedAt, nil), l.Date(re.OpensAt, nil)))
		return redirect(c, "/verification")
	}
	if err := web.FormErrors(c, f, err); err != nil {
		return err
	}
	vm, err := ph.verificationVM(c, f, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusUnprocessableEntity, views.VerificationPage(web.NewPage(c, "verify.title", "profile"), vm))
}
