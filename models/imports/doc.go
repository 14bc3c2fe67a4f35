// Package imports is the record of contact imports: an uploaded file, its
// checked mapping and consent declaration (plan.go), the queued and
// running states with their checkpoint and work lease (progress.go,
// lease.go), the rejected and repeated rows, and the clean-up of abandoned
// uploads (stale.go). The work itself — reading the file and writing
// batches into the contact book — is the contactimport engine's.
//
// Functions take the tenant first (imports.Get(ctx, tn, id)); the
// cross-business reads of the clean-up and the resume loop take the
// *models.DB.
package imports
