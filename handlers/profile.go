package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// profileHandler serves the profile and verification area, both sides.
// Uploaded photos and documents live in the file store under
// PORTAL_DATA_DIR/files.
type profileHandler struct {
	*Handler
	files blobstore.Store
}

// profileForm is the messaging profile form.
type profileForm struct {
	DisplayName     string `form:"display_name"`
	About           string `form:"about"`
	Description     string `form:"description"`
	Vertical        string `form:"vertical"`
	Address         string `form:"address"`
	Email           string `form:"email"`
	Website1        string `form:"website1"`
	Website2        string `form:"website2"`
	Phone           string `form:"phone"`
	ConfirmReverify bool   `form:"confirm_reverify"`
}

func (f profileForm) input() profiles.ProfileInput {
	return profiles.ProfileInput{DisplayName: f.DisplayName, About: f.About, Description: f.Description,
		Vertical: f.Vertical, Address: f.Address, Email: f.Email, Website1: f.Website1, Website2: f.Website2,
		Phone: f.Phone, ConfirmReverify: f.ConfirmReverify}
}

// savedProfileForm is the form filled with the saved profile.
func savedProfileForm(b *models.Business, p *profiles.Profile) *views.Form {
	f := profileForm{DisplayName: b.Name, About: p.About, Description: p.Description, Vertical: p.Vertical,
		Address: p.Address, Email: p.Email, Website1: p.Website1, Website2: p.Website2}
	if p.PhoneE164 != "" {
		f.Phone = profiles.FormatPhone(p.PhoneE164)
	}
	return formView(f)
}

// photoURL is the tenant-checked address of a business's photo; the
// version makes browsers fetch a new photo after a change.
func photoURL(p *profiles.Profile) string {
	if !p.HasPhoto() || p.PhotoUpdatedAt == nil {
		return ""
	}
	return "/profile/photo/" + strconv.FormatInt(p.BusinessID, 10) + "?v=" + strconv.FormatInt(p.PhotoUpdatedAt.Unix(), 10)
}

// profileVM builds the page from the saved profile and the form (saved
// or typed values); photoForm carries an upload error.
func (ph *profileHandler) profileVM(c echo.Context, f, photoForm *views.Form) (views.ProfileVM, error) {
	ctx := c.Request().Context()
	tn, err := ph.tenant(c)
	if err != nil {
		return views.ProfileVM{}, err
	}
	b, err := tn.Business(ctx)
	if err != nil {
		return views.ProfileVM{}, err
	}
	prof, err := profiles.Get(ctx, tn)
	if err != nil {
		return views.ProfileVM{}, err
	}
	cl := profiles.ChecklistOf(b, prof)
	if f == nil {
		f = savedProfileForm(b, prof)
	}
	if photoForm == nil {
		photoForm = views.NewForm()
	}
	role := actor(c).Membership.Role
	vm := views.ProfileVM{Form: f, CanEdit: prof.CanEdit(role), State: b.VerificationState, SavedName: b.Name,
		StaffCanEdit: prof.StaffCanEdit, Checklist: cl, Verticals: verticalOptions(c), PhotoURL: photoURL(prof),
		PhotoPx: prof.PhotoPx, PhotoForm: photoForm}
	vm.ShowConfirm = b.Verified() && f.Value("display_name") != b.Name
	vm.Preview = previewOf(c, f, vm.PhotoURL, b.Verified())
	return vm, nil
}

// previewOf shows the form's values as the chat app would.
func previewOf(c echo.Context, f *views.Form, photo string, verified bool) views.PreviewVM {
	v := views.PreviewVM{Name: f.Value("display_name"), About: f.Value("about"), Description: f.Value("description"),
		Address: f.Value("address"), Email: f.Value("email"), Phone: f.Value("phone"), PhotoURL: photo, Verified: verified}
	if vert := f.Value("vertical"); vert != "" && vert != "UNDEFINED" {
		v.Category = t(c, "vertical."+vert)
	}
	if e164, err := profiles.NormalizePhone("phone", v.Phone, "ZZ"); err == nil && e164 != "" {
		v.Phone = profiles.FormatPhone(e164)
	}
	for _, w := range []string{f.Value("website1"), f.Value("website2")} {
		if w != "" {
			v.Websites = append(v.Websites, w)
		}
	}
	return v
}

func (ph *profileHandler) showProfile(c echo.Context) error {
	vm, err := ph.profileVM(c, nil, nil)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.ProfilePage(web.NewPage(c, "profile.title", "profile"), vm))
}

// saveProfile stores the messaging profile. A verified business that
// changes its display name gets the form back with a warning and a box
// to tick before the badge is removed.
func (ph *profileHandler) saveProfile(c echo.Context) error {
	a := actor(c)
	tn, err := ph.tenant(c)
	if err != nil {
		return err
	}
	var in profileForm
	f := bindForm(c, &in)
	res, err := profiles.Save(c.Request().Context(), tn, a.User, a.Membership.Role, in.input(), c.RealIP())
	if errors.Is(err, models.ErrForbidden) {
		return ph.denied(c)
	}
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		vm, verr := ph.profileVM(c, f, nil)
		if verr != nil {
			return verr
		}
		vm.ShowConfirm = vm.ShowConfirm || f.Error("confirm_reverify") != ""
		return web.Render(c, http.StatusUnprocessableEntity, views.ProfilePage(web.NewPage(c, "profile.title", "profile"), vm))
	}
	flashSave(c, res, "profile.saved")
	return redirect(c, "/profile")
}

func flashSave(c echo.Context, res profiles.SaveResult, okKey string) {
	switch {
	case res.Reverify:
		web.Flash(c, "info", t(c, "profile.saved_reverify"))
	case res.PendingUpdated:
		web.Flash(c, "info", t(c, "profile.saved_pending_updated"))
	case len(res.Changed) == 0:
		web.Flash(c, "info", t(c, "profile.saved_nothing"))
	default:
		web.Flash(c, "success", t(c, okKey))
	}
}

// denied answers a member whose role does not allow the action.
func (ph *profileHandler) denied(c echo.Context) error { return ph.s.Deny(c) }
