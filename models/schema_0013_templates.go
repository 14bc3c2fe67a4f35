package models

// Schema 13: message templates. A business's templates, unique by name
// and language; body samples and buttons are JSON text. status is DRAFT
// (ours) or the platform's state; external_id is the platform's template
// id (unique on the platform, so unique here) and account_id the business
// account it was submitted under; status_at and quality_at are the times
// of the last applied events, so that older events arriving late are
// ignored.
const schema0013 = `
CREATE TABLE message_templates (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	name VARCHAR(512) NOT NULL,
	language VARCHAR(16) NOT NULL,
	category VARCHAR(32) NOT NULL,
	header TEXT NOT NULL DEFAULT '',
	header_sample TEXT NOT NULL DEFAULT '',
	body TEXT NOT NULL,
	body_samples TEXT NOT NULL DEFAULT '[]',
	footer TEXT NOT NULL DEFAULT '',
	buttons TEXT NOT NULL DEFAULT '[]',
	status VARCHAR(16) NOT NULL DEFAULT 'DRAFT',
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	quality VARCHAR(16) NOT NULL DEFAULT 'UNKNOWN',
	external_id VARCHAR(64) NOT NULL DEFAULT '',
	account_id VARCHAR(64) NOT NULL DEFAULT '',
	submitted_at {{ts}},
	status_at {{ts}},
	quality_at {{ts}},
	created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX message_templates_name_key ON message_templates (business_id, name, language);
CREATE UNIQUE INDEX message_templates_external_key ON message_templates (external_id) WHERE external_id <> '';
CREATE INDEX message_templates_status_idx ON message_templates (status, updated_at);
`
