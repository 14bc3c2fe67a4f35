package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func (h *Handler) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	members, err := tn.Members(ctx)
	if err != nil {
		return err
	}
	invs, err := tn.PendingInvitations(ctx)
	if err != nil {
		return err
	}
	checklist, err := tn.ProfileChecklist(ctx)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "nav.dashboard", "dashboard")
	vm := views.DashboardVM{Members: len(members), PendingInvites: len(invs), Verification: p.Business.VerificationState, Checklist: checklist}
	return web.Render(c, http.StatusOK, views.DashboardPage(p, vm))
}

func (h *Handler) teamVM(c echo.Context, f *views.Form) (views.TeamVM, error) {
	ctx := c.Request().Context()
	tn, err := h.tenant(c)
	if err != nil {
		return views.TeamVM{}, err
	}
	vm := views.TeamVM{Form: f, MyUserID: actor(c).User.ID}
	if vm.Members, err = tn.Members(ctx); err != nil {
		return vm, err
	}
	if actor(c).IsOwner() {
		vm.Invitations, err = tn.PendingInvitations(ctx)
	}
	return vm, err
}

func (h *Handler) showTeam(c echo.Context) error {
	f := views.NewForm()
	f.Values["role"] = string(models.RoleStaff)
	vm, err := h.teamVM(c, f)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, views.TeamPage(web.NewPage(c, "team.title", "team"), vm))
}

// createInvitation shows the one-time link once (only its hash is kept)
// and e-mails it when SMTP is configured.
func (h *Handler) createInvitation(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	f := formFrom(c, "email", "role")
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	inv, token, err := tn.Invite(ctx, a.User, f.Value("email"), models.Role(f.Value("role")), c.RealIP())
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		vm, verr := h.teamVM(c, f)
		if verr != nil {
			return verr
		}
		return web.Render(c, http.StatusUnprocessableEntity, views.TeamPage(web.NewPage(c, "team.title", "team"), vm))
	}
	link := h.s.Config.BaseURL.String() + "/invite/" + token
	vm, err := h.teamVM(c, views.NewForm())
	if err != nil {
		return err
	}
	vm.NewLink, vm.NewEmail = link, inv.Email
	if h.s.Mailer.Enabled() {
		l := web.LocaleFrom(ctx)
		if err := h.s.Mailer.Send(inv.Email, l.T("invite.mail_subject", a.Business.Name), l.T("invite.mail_body", a.User.Name, a.Business.Name, link)); err != nil {
			h.s.Log.Warn("invitation mail failed", "invitation", inv.ID, "error", err)
		} else {
			vm.Mailed = true
		}
	}
	p := web.NewPage(c, "team.title", "team")
	p.Flashes = append(p.Flashes, views.Flash{Kind: "success", Text: t(c, "team.invited", inv.Email)})
	return web.Render(c, http.StatusOK, views.TeamPage(p, vm))
}

func (h *Handler) revokeInvitation(c echo.Context) error {
	tn, id, err := h.scopedID(c)
	if err != nil {
		return err
	}
	err = tn.RevokeInvitation(c.Request().Context(), actor(c).User, id, c.RealIP())
	switch {
	case errors.Is(err, models.ErrConflict):
		web.Flash(c, "error", t(c, "team.invitation_closed"))
	case err != nil:
		return err
	default:
		web.Flash(c, "success", t(c, "team.revoked"))
	}
	return redirect(c, "/team")
}

func (h *Handler) changeRole(c echo.Context) error {
	tn, id, err := h.scopedID(c)
	if err != nil {
		return err
	}
	return h.teamResult(c, tn.SetRole(c.Request().Context(), actor(c).User, id, models.Role(c.FormValue("role")), c.RealIP()), "team.role_changed")
}

func (h *Handler) removeMember(c echo.Context) error {
	tn, id, err := h.scopedID(c)
	if err != nil {
		return err
	}
	return h.teamResult(c, tn.RemoveMember(c.Request().Context(), actor(c).User, id, c.RealIP()), "team.removed")
}

func (h *Handler) teamResult(c echo.Context, err error, okKey string) error {
	switch {
	case errors.Is(err, models.ErrLastOwner):
		web.Flash(c, "error", t(c, "team.last_owner"))
	case err != nil:
		if v, ok := models.AsValidation(err); ok {
			web.Flash(c, "error", t(c, v.Problems[0].Key))
			break
		}
		return err
	default:
		web.Flash(c, "success", t(c, okKey))
	}
	return redirect(c, "/team")
}

func (h *Handler) showInvite(c echo.Context) error {
	inv, b, err := h.s.DB.InvitationByToken(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	p := web.NewPage(c, "invite.title", "")
	return web.Render(c, http.StatusOK, views.InviteAcceptPage(p, views.NewForm(), c.Param("token"), b.Name, inv.Email))
}

func (h *Handler) submitInvite(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	inv, b, err := h.s.DB.InvitationByToken(ctx, token)
	if err != nil {
		return err
	}
	f := formFrom(c, "name", "password")
	u, err := h.s.DB.AcceptInvitation(ctx, token, models.NewUserInput{Name: f.Value("name"), Password: f.Value("password"), Locale: web.LocaleFrom(ctx).Tag})
	if err != nil {
		if err := web.FormErrors(c, f, err); err != nil {
			return err
		}
		p := web.NewPage(c, "invite.title", "")
		return web.Render(c, http.StatusUnprocessableEntity, views.InviteAcceptPage(p, f, token, b.Name, inv.Email))
	}
	if err := h.s.LogIn(c, u); err != nil {
		return err
	}
	web.Flash(c, "success", t(c, "invite.joined", b.Name))
	return redirect(c, "/")
}
