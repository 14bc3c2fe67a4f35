// Package contacts is a business's contact book: contacts with their
// consent and its history, tags and attributes, segments, opt-outs and the
// suppression list that outlives erasure, the list with its search and
// filters, exports, bulk actions, and the bulk write an import's batches
// go through (bulk*.go: shared rules in bulk.go and bulk_plan.go, one file
// per database).
//
// Functions take the tenant first (contacts.List(ctx, tn, filter)), so
// every query is scoped to one business; a tenant from models.Tenant.Tx
// runs them in that transaction.
package contacts
