package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// reviewVM gathers one request with the business's current profile, its
// documents, what changed since the last decision and the history.
func (ph *profileHandler) reviewVM(c echo.Context, id int64, f *views.Form) (views.AdminReviewVM, error) {
	ctx := c.Request().Context()
	db := ph.s.DB
	r, err := profiles.RequestByID(ctx, db, id)
	if err != nil {
		return views.AdminReviewVM{}, err
	}
	vm := views.AdminReviewVM{Request: r, Form: f}
	if vm.Form == nil {
		vm.Form = views.NewForm()
	}
	if vm.Business, err = db.BusinessByID(ctx, r.BusinessID); err != nil {
		return vm, err
	}
	if vm.Profile, err = profiles.Of(ctx, db, r.BusinessID); err != nil {
		return vm, err
	}
	if vm.Documents, err = profiles.RequestDocuments(ctx, db, r.ID); err != nil {
		return vm, err
	}
	if vm.Previous, err = profiles.PreviousDecision(ctx, db, r); err != nil {
		return vm, err
	}
	if vm.Previous != nil {
		prevDocs, err := profiles.RequestDocuments(ctx, db, vm.Previous.ID)
		if err != nil {
			return vm, err
		}
		vm.Diff = profiles.DiffRequests(vm.Previous, r, prevDocs, vm.Documents)
	}
	tn, err := db.Tenant(r.BusinessID)
	if err != nil {
		return vm, err
	}
	if vm.History, err = profiles.VerificationRequests(ctx, tn); err != nil {
		return vm, err
	}
	vm.PhotoURL = photoURL(vm.Profile)
	vm.NameRelates = profiles.NameRelates(r.DisplayName, r.LegalName)
	vm.CountryName = countryName(c, r.Country)
	vm.Vertical = t(c, "vertical."+vm.Profile.Vertical)
	if vm.Profile.PhoneE164 != "" {
		vm.Phone = profiles.FormatPhone(vm.Profile.PhoneE164)
	}
	return vm, nil
}

func (ph *profileHandler) adminReview(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	vm, err := ph.reviewVM(c, id, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.AdminReviewPage(web.NewPage(c, "review.queue_title", "admin"), vm))
}

// reviewReload sends a GET of a decision form's address to the review.
func reviewReload(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return redirect(c, "/admin/verification/"+strconv.FormatInt(id, 10))
}

func (ph *profileHandler) approveRequest(c echo.Context) error { return ph.decide(c, true) }
func (ph *profileHandler) rejectRequest(c echo.Context) error  { return ph.decide(c, false) }

// decide records an approval or a rejection. When another administrator
// decided first, or the business changed the request meanwhile, nothing
// is applied and the page says so.
func (ph *profileHandler) decide(c echo.Context, approve bool) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in decisionForm
	f := bindForm(c, &in)
	rev, _ := strconv.Atoi(in.Revision)
	d := profiles.Decision{Approve: approve, Reason: in.Reason, Revision: rev, FixNow: in.Refile == "now"}
	r, err := profiles.Decide(c.Request().Context(), ph.s.DB, actor(c).User, id, d, c.RealIP())
	back := "/admin/verification/" + strconv.FormatInt(id, 10)
	var ad *profiles.AlreadyDecidedError
	switch {
	case err == nil:
		key := "review.approved_done"
		if !approve {
			key = "review.rejected_done"
		}
		web.Flash(c, "success", t(c, key, r.DisplayName))
		return redirect(c, "/admin/verification")
	case errors.As(err, &ad):
		l := web.LocaleFrom(c.Request().Context())
		web.Flash(c, "error", t(c, "review.already_decided", t(c, views.RequestStateKey(ad.State)), ad.By, l.DateTime(ad.At, nil)))
		return redirect(c, back)
	case errors.Is(err, profiles.ErrRequestChanged):
		web.Flash(c, "error", t(c, "review.changed"))
		return redirect(c, back)
	}
	if err := web.FormErrors(c, f, err); err != nil {
		return err
	}
	vm, verr := ph.reviewVM(c, id, f)
	if verr != nil {
		return verr
	}
	if strings.TrimSpace(in.Refile) == "" {
		f.Values["refile"] = "wait"
	}
	return web.Render(c, http.StatusUnprocessableEntity, views.AdminReviewPage(web.NewPage(c, "review.queue_title", "admin"), vm))
}
