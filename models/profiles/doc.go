// Package profiles is a business's public face and its verified badge:
// the messaging profile (names, about, photo, websites), the legal and
// billing details, the checklist before a badge may be requested, the
// verification requests with their documents, and the administrators'
// decisions. Profile and verification live together because their rules
// meet: renaming a verified business sends it back to review in the same
// transaction.
//
// Functions take the tenant first (profiles.Get(ctx, tn)); whole-platform
// reads for administrators take the *models.DB.
package profiles
