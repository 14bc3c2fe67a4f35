package models

const schema0002 = `
CREATE TABLE business_profiles (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	about TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	vertical TEXT NOT NULL DEFAULT 'UNDEFINED',
	address TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	website1 TEXT NOT NULL DEFAULT '',
	website2 TEXT NOT NULL DEFAULT '',
	phone_e164 TEXT NOT NULL DEFAULT '',
	photo_key TEXT NOT NULL DEFAULT '',
	photo_type TEXT NOT NULL DEFAULT '',
	photo_size {{bigint}} NOT NULL DEFAULT 0,
	photo_px INTEGER NOT NULL DEFAULT 0,
	photo_updated_at {{ts}},
	legal_name TEXT NOT NULL DEFAULT '',
	registered_address TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	vat_id TEXT NOT NULL DEFAULT '',
	billing_email TEXT NOT NULL DEFAULT '',
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	currency TEXT NOT NULL DEFAULT 'EUR',
	staff_can_edit {{bool}} NOT NULL DEFAULT FALSE,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX business_profiles_business_key ON business_profiles (business_id);

CREATE TABLE verification_requests (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending',
	revision INTEGER NOT NULL DEFAULT 1,
	display_name TEXT NOT NULL DEFAULT '',
	legal_name TEXT NOT NULL DEFAULT '',
	registration_number TEXT NOT NULL DEFAULT '',
	website TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	links TEXT NOT NULL DEFAULT '',
	further_info TEXT NOT NULL DEFAULT '',
	submitted_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	submitted_by_email TEXT NOT NULL DEFAULT '',
	submitted_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	decided_at {{ts}},
	decided_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	decided_by_email TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	refile_after {{ts}}
);
CREATE INDEX verification_requests_business_idx ON verification_requests (business_id, id);
CREATE INDEX verification_requests_queue_idx ON verification_requests (state, submitted_at, id);
CREATE INDEX verification_requests_decided_idx ON verification_requests (decided_at);
CREATE UNIQUE INDEX verification_requests_one_pending ON verification_requests (business_id) WHERE state = 'pending';

CREATE TABLE verification_documents (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	blob_key TEXT NOT NULL,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size {{bigint}} NOT NULL,
	sha256 TEXT NOT NULL,
	uploaded_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL,
	removed_at {{ts}}
);
CREATE INDEX verification_documents_business_idx ON verification_documents (business_id, id);

CREATE TABLE verification_request_documents (
	request_id {{bigint}} NOT NULL REFERENCES verification_requests(id) ON DELETE CASCADE,
	document_id {{bigint}} NOT NULL REFERENCES verification_documents(id) ON DELETE CASCADE,
	PRIMARY KEY (request_id, document_id)
);
`
