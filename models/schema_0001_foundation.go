package models

const schema0001 = `
CREATE TABLE users (
	id {{id}},
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	is_admin {{bool}} NOT NULL DEFAULT FALSE,
	locale TEXT NOT NULL DEFAULT 'en',
	suspended_at {{ts}},
	password_changed_at {{ts}} NOT NULL,
	last_login_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE businesses (
	id {{id}},
	name TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'active',
	suspended_at {{ts}},
	suspended_reason TEXT NOT NULL DEFAULT '',
	verification_state TEXT NOT NULL DEFAULT 'unverified',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);

CREATE TABLE memberships (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	user_id {{bigint}} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX memberships_user_key ON memberships (user_id);
CREATE INDEX memberships_business_idx ON memberships (business_id);

CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	user_id {{bigint}} REFERENCES users(id) ON DELETE CASCADE,
	data TEXT NOT NULL DEFAULT '{}',
	created_at {{ts}} NOT NULL,
	last_seen_at {{ts}} NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

CREATE TABLE invitations (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	role TEXT NOT NULL,
	token_hash TEXT NOT NULL,
	invited_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	accepted_at {{ts}},
	revoked_at {{ts}}
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
CREATE INDEX invitations_business_idx ON invitations (business_id);

CREATE TABLE login_throttles (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL DEFAULT 0,
	window_start {{ts}} NOT NULL,
	locked_until {{ts}}
);

CREATE TABLE audit_events (
	id {{id}},
	at {{ts}} NOT NULL,
	actor_id {{bigint}},
	actor_email TEXT NOT NULL DEFAULT '',
	business_id {{bigint}},
	action TEXT NOT NULL,
	target_type TEXT NOT NULL DEFAULT '',
	target_id TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_business_idx ON audit_events (business_id, at);
`
