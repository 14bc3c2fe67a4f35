package models

// Schema 11: password resets. A reset is a one-time link to set a new
// password, e-mailed on request (when SMTP is configured) or made by a
// business owner for a staff member or by an administrator for anyone.
// Only the token's SHA-256 is stored; a newer reset of a user revokes
// the older ones; the cleanup job removes spent and expired ones.
const schema0011 = `
CREATE TABLE password_resets (
	id {{id}},
	user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	token_hash TEXT NOT NULL,
	via TEXT NOT NULL,
	created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	revoked_at {{ts}}
);
CREATE UNIQUE INDEX password_resets_token_key ON password_resets (token_hash);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);
`
