// Package handlers is Optline's route table and one file per page or
// action. Handlers parse forms into form structs, call models and
// engines, and render views.
package handlers

import (
	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/invoicing"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/web"
)

// Deps is what the handlers use beyond the server: built once, in
// cmd/portal (and the same way by the test harness), and passed in.
type Deps struct {
	// Files keeps uploads: photos, verification documents, import files.
	Files blobstore.Store
	// Imports starts contact imports (their job runs on the queue).
	Imports *contactimport.Engine
	// ResetMails queues password-reset mails (their job runs on the queue).
	ResetMails *jobs.ResetMail
	// Channel is the messaging platform's provider (template submissions,
	// sends); nil when the deployment has none, and submitting says so.
	Channel channel.Provider
	// Webhooks is the platform's webhook intake (nil: no webhook route).
	Webhooks *webhook.Engine
	// Campaigns starts, pauses, resumes and cancels campaign sends.
	Campaigns *sending.Engine
	// Invoicing runs the month-end and issues invoices.
	Invoicing *invoicing.Engine
}

// Handler carries what every handler needs.
type Handler struct {
	s          *web.Server
	files      blobstore.Store
	resetMails *jobs.ResetMail
}

// Register adds every route to the server: this is the whole route
// table. Each route names its access level (anything not Public needs a
// logged-in user; Member: staff and owners of a business; Owner: owners
// only; Admin: platform administrators), so who may do what is read here.
func Register(s *web.Server, d Deps) *Handler {
	h := &Handler{s: s, files: d.Files, resetMails: d.ResetMails}
	ih := &importsHandler{Handler: h, files: d.Files, imports: d.Imports}
	ph := &profileHandler{Handler: h, files: d.Files}
	th := &templatesHandler{Handler: h, channel: d.Channel}
	pub, any, member, owner, admin := s.Public(), s.LoggedIn(), s.Member(), s.Owner(), s.Admin()

	// Accounts.
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

	// Team.
	member.GET("/team", h.showTeam)
	owner.POST("/team/invitations", h.createInvitation)
	// A refused invitation form is shown at its POST address; reloading
	// it leads back to the team page instead of "method not allowed".
	owner.GET("/team/invitations", h.teamFormReload)
	owner.POST("/team/invitations/:id/revoke", h.revokeInvitation)
	owner.POST("/team/members/:id/role", h.changeRole)
	owner.POST("/team/members/:id/remove", h.removeMember)

	// Password resets: "Forgot password?" (mailed when SMTP is set, else
	// it says whom to ask) and one-time links made by an owner for staff
	// or by an administrator for anyone.
	pub.GET("/forgot", h.showForgot)
	pub.POST("/forgot", h.submitForgot)
	pub.GET("/forgot/sent", h.showForgotSent)
	pub.GET("/reset/:token", h.showReset)
	pub.POST("/reset/:token", h.submitReset)
	owner.POST("/team/members/:id/reset-link", h.staffResetLink)
	admin.GET("/admin/businesses/:id", h.adminBusiness)
	admin.POST("/admin/users/:id/reset-link", h.adminResetLink)

	// Business profile and verification.
	member.GET("/profile", ph.showProfile)
	member.POST("/profile", ph.saveProfile)
	member.POST("/profile/photo", ph.uploadPhoto)
	member.POST("/profile/photo/remove", ph.removePhoto)
	any.GET("/profile/photo/:bid", ph.servePhoto) // members and administrators
	owner.GET("/profile/legal", ph.showLegal)
	owner.POST("/profile/legal", ph.saveLegal)
	owner.POST("/profile/staff-access", ph.setStaffAccess)
	owner.GET("/verification", ph.showVerification)
	owner.POST("/verification", ph.submitVerification)
	owner.POST("/verification/documents", ph.uploadDocument)
	owner.POST("/verification/documents/:id/remove", ph.removeDocument)
	any.GET("/verification/documents/:id", ph.serveDocument) // owners and administrators

	// Contacts and segments.
	member.GET("/contacts", h.listContacts)
	member.GET("/contacts/new", h.newContact)
	member.POST("/contacts", h.createContact)
	member.GET("/contacts/export", h.exportContacts)
	member.POST("/contacts/bulk", h.bulkContacts)
	member.GET("/contacts/:id", h.showContact)
	member.GET("/contacts/:id/edit", h.editContact)
	member.POST("/contacts/:id/edit", h.updateContact)
	member.POST("/contacts/:id/tags", h.addContactTag)
	member.POST("/contacts/:id/tags/remove", h.removeContactTag)
	member.POST("/contacts/:id/consent", h.recordConsent)
	member.GET("/contacts/:id/opt-out", h.confirmOptOut)
	member.POST("/contacts/:id/opt-out", h.optOutContact)
	member.GET("/contacts/:id/delete", h.confirmDeleteContact)
	member.POST("/contacts/:id/delete", h.deleteContact)
	member.GET("/segments", h.listSegments)
	member.GET("/segments/new", h.newSegment)
	member.POST("/segments", h.createSegment)
	member.GET("/segments/count", h.countSegment)
	member.GET("/segments/:id", h.editSegment)
	member.POST("/segments/:id", h.updateSegment)
	member.POST("/segments/:id/delete", h.deleteSegment)
	member.GET("/segments/:id/export", h.exportSegment)

	// Contact imports.
	member.GET("/contacts/imports", ih.list)
	member.GET("/contacts/imports/new", ih.showUpload)
	member.POST("/contacts/imports", ih.upload)
	member.GET("/contacts/imports/:id", ih.showProgress)
	member.GET("/contacts/imports/:id/progress", ih.progressJSON)
	member.GET("/contacts/imports/:id/mapping", ih.showMapping)
	member.POST("/contacts/imports/:id/mapping", ih.submitMapping)
	member.POST("/contacts/imports/:id/cancel", ih.cancel)
	member.GET("/contacts/imports/:id/errors.csv", ih.errorReport)
	member.GET("/contacts/imports/:id/repeats.csv", ih.repeatsReport)

	// Message templates: staff write, copy and delete them and submit
	// them for the platform's review; the preview is server-rendered.
	member.GET("/templates", th.list)
	member.GET("/templates/new", th.newTemplate)
	member.POST("/templates", th.create)
	member.POST("/templates/preview", th.preview)
	member.GET("/templates/:id", th.show)
	member.GET("/templates/:id/edit", th.edit)
	member.POST("/templates/:id/edit", th.update)
	member.POST("/templates/:id/copy", th.copy)
	member.GET("/templates/:id/delete", th.confirmDelete)
	member.POST("/templates/:id/delete", th.delete)
	member.POST("/templates/:id/submit", th.submit)
	admin.GET("/admin/templates", th.adminList)

	registerCampaignCompose(h, member, owner, admin, d)
	// Campaigns: the list, each campaign's report and its buttons.
	registerCampaignReport(h, member, d)

	// Platform administration.
	admin.GET("/admin", h.adminHome)
	admin.GET("/admin/businesses", h.adminBusinesses)
	admin.POST("/admin/businesses/:id/suspend", h.suspendBusiness)
	admin.POST("/admin/businesses/:id/reinstate", h.reinstateBusiness)
	// The business's sender on the messaging platform (channel.Sender).
	admin.POST("/admin/businesses/:id/sender", h.setSender)
	admin.GET("/admin/businesses/:id/sender", h.senderReload)
	admin.GET("/admin/audit", h.auditLog)
	admin.GET("/admin/verification", ph.adminQueue)
	admin.GET("/admin/verification/:id", ph.adminReview)
	admin.POST("/admin/verification/:id/approve", ph.approveRequest)
	admin.POST("/admin/verification/:id/reject", ph.rejectRequest)
	// A refused rejection is shown at its POST address; reloading it
	// leads back to the review page.
	admin.GET("/admin/verification/:id/approve", reviewReload)
	admin.GET("/admin/verification/:id/reject", reviewReload)

	// The platform's webhook: server to server, outside sessions and
	// CSRF (web.WebhookPath is no page path); POSTs are authenticated by
	// their signature and take a raw JSON body of up to 4 MB.
	if d.Webhooks != nil {
		wh := &webhooksHandler{intake: d.Webhooks}
		pub.GET(web.WebhookPath, wh.handshake)
		pub.POST(web.WebhookPath, wh.receive)
		s.AllowRawBody(web.WebhookPath, webhook.MaxBodyBytes)
	}
	admin.GET("/admin/webhooks", h.adminWebhooks)

	// Only these routes take multipart bodies, each with its own limit;
	// every other route is capped at web.SmallBodyBytes and refuses
	// multipart (no temporary files). Their forms send _csrf first.
	s.AllowUpload("/contacts/imports", s.Config.MaxUploadBytes)
	s.AllowUpload("/profile/photo", profiles.PhotoMaxBytes)
	s.AllowUpload("/verification/documents", profiles.DocumentMaxBytes)
	return h
}
