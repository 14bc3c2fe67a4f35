// Package handlers is Optline's route table and one file per page or
// action. Handlers parse forms into form structs, call models and
// engines, and render views.
package handlers

import (
	"sort"

	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

// An area (profile, contacts, campaigns…) registers its routes from an
// init function in its own file, so areas never edit a shared table.
type area struct {
	name     string
	register func(h *Handler)
}

var areas []area

func registerArea(name string, fn func(h *Handler)) {
	areas = append(areas, area{name, fn})
	sort.Slice(areas, func(i, j int) bool { return areas[i].name < areas[j].name })
}

// Handler carries what every handler needs.
type Handler struct {
	s    *web.Server
	jobs *jobs.Queue
}

// Register adds every route to the server. Access levels are spelled out
// per route; anything not registered as Public needs a logged-in user.
func Register(s *web.Server, q *jobs.Queue) *Handler {
	h := &Handler{s: s, jobs: q}
	pub, any, member, owner, admin := s.Public(), s.LoggedIn(), s.Member(), s.Owner(), s.Admin()

	pub.GET("/setup", h.showSetup)
	pub.POST("/setup", h.submitSetup)
	pub.GET("/login", h.showLogin)
	pub.POST("/login", h.submitLogin)
	pub.GET("/signup", h.showSignup)
	pub.POST("/signup", h.submitSignup)
	pub.GET("/invite/:token", h.showInvite)
	pub.POST("/invite/:token", h.submitInvite)

	any.GET("/", h.home)
	any.POST("/logout", h.logout)
	any.GET("/account", h.showAccount)
	any.POST("/account/password", h.changePassword)

	member.GET("/team", h.showTeam)
	owner.POST("/team/invitations", h.createInvitation)
	owner.POST("/team/invitations/:id/revoke", h.revokeInvitation)
	owner.POST("/team/members/:id/role", h.changeRole)
	owner.POST("/team/members/:id/remove", h.removeMember)

	admin.GET("/admin", h.adminHome)
	admin.GET("/admin/businesses", h.adminBusinesses)
	admin.POST("/admin/businesses/:id/suspend", h.suspendBusiness)
	admin.POST("/admin/businesses/:id/reinstate", h.reinstateBusiness)
	admin.GET("/admin/audit", h.auditLog)

	for _, a := range areas {
		a.register(h)
	}

	// Only these routes take multipart bodies, each with its own limit;
	// every other route is capped at web.SmallBodyBytes and refuses
	// multipart (no temporary files). Their forms send _csrf first.
	s.AllowUpload("/contacts/imports", s.Config.MaxUploadBytes)
	s.AllowUpload("/profile/photo", models.PhotoMaxBytes)
	s.AllowUpload("/verification/documents", models.DocumentMaxBytes)
	return h
}
