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

var requestFields = []string{"registration_number", "website", "country", "links", "further_info"}

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
		f = views.NewForm()
		f.Values["website"], f.Values["country"] = prof.Website1, prof.Country
		if vm.Latest != nil {
			f.Values["registration_number"], f.Values["links"], f.Values["further_info"] = vm.Latest.RegistrationNumber, vm.Latest.Links, vm.Latest.FurtherInfo
			f.Values["website"], f.Values["country"] = vm.Latest.Website, vm.Latest.Country
		}
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
	f := formFrom(c, requestFields...)
	in := profiles.VerificationInput{RegistrationNumber: f.Value("registration_number"), Website: f.Value("website"),
		Country: f.Value("country"), Links: f.Value("links"), FurtherInfo: f.Value("further_info")}
	_, err = profiles.SubmitVerification(c.Request().Context(), tn, actor(c).User, in, c.RealIP())
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
