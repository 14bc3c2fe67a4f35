package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
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
	checklist, err := profiles.LoadChecklist(ctx, tn)
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

// keyNewInvite holds the link of the invitation just made until the team
// page after the redirect shows it, once. Sessions live in the database;
// the cookie carries only their token.
const keyNewInvite = "team_new_invite"

func (h *Handler) teamFormReload(c echo.Context) error { return redirect(c, "/team") }

func (h *Handler) showTeam(c echo.Context) error {
	f := views.NewForm()
	f.Values["role"] = string(models.RoleStaff)
	vm, err := h.teamVM(c, f)
	if err != nil {
		return err
	}
	if raw, _ := web.Session(c).Values[keyNewInvite].(string); raw != "" {
		web.SetSessionValue(c, keyNewInvite, "")
		var n newInvite
		if json.Unmarshal([]byte(raw), &n) == nil && actor(c).IsOwner() {
			vm.NewLink, vm.NewEmail, vm.Mailed = n.Link, n.Email, n.Mailed
		}
	}
	if actor(c).IsOwner() {
		vm.NewReset = h.takeNewReset(c, 0)
	}
	return web.Render(c, http.StatusOK, views.TeamPage(web.NewPage(c, "team.title", "team"), vm))
}

// newInvite is the invitation just made, shown once on the team page.
type newInvite struct {
	Link   string `json:"l"`
	Email  string `json:"e"`
	Mailed bool   `json:"m"`
}

// createInvitation makes an invitation and redirects to the team page,
// which shows the one-time link once (only its hash is kept); the link is
// e-mailed too when SMTP is configured. A refused form comes back at
// this address, which a GET (a reload) turns into the team page.
func (h *Handler) createInvitation(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	var in inviteForm
	f := bindForm(c, &in)
	tn, err := h.tenant(c)
	if err != nil {
		return err
	}
	inv, token, err := tn.Invite(ctx, a.User, in.Email, models.Role(in.Role), c.RealIP())
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
	n := newInvite{Link: h.s.Config.BaseURL.String() + "/invite/" + token, Email: inv.Email}
	if h.s.Mailer.Enabled() {
		l := web.LocaleFrom(ctx)
		if err := h.s.Mailer.Send(inv.Email, l.T("invite.mail_subject", a.Business.Name), l.T("invite.mail_body", a.User.Name, a.Business.Name, n.Link)); err != nil {
			h.s.Log.Warn("invitation mail failed", "invitation", inv.ID, "error", err)
		} else {
			n.Mailed = true
		}
	}
	b, _ := json.Marshal(n)
	web.SetSessionValue(c, keyNewInvite, string(b))
	web.Flash(c, "success", t(c, "team.invited", inv.Email))
	return redirect(c, "/team")
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
	var in acceptInviteForm
	f := bindForm(c, &in)
	u, err := h.s.DB.AcceptInvitation(ctx, token, models.NewUserInput{Name: in.Name, Password: in.Password, Locale: web.LocaleFrom(ctx).Tag})
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
