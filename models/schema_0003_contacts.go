package models

// Schema 3: the contact book.
//
// The import writes hundreds of thousands of rows a minute, so the tables
// carry only the indexes the pages need, and the three high-volume tables
// (contacts, contact_tags, consent_events) have no foreign-key triggers:
// the write paths keep them consistent (contacts are only ever written
// through a Tenant, whose business exists; DeleteContact removes tags and
// unlinks events itself). The check of contacts.business_id against
// businesses cost about a sixth of the import's COPY; businesses are never
// deleted, and deleting one would have to remove its contacts, tags and
// events explicitly.
//
//   - contacts: one row per phone number per business. name_key and search
//     are derived columns (sort key and lower-cased search words) written
//     by every write path; attrs holds custom attributes as a JSON object.
//     Search matches word prefixes: on PostgreSQL through a GIN index of
//     the name and e-mail words as lexemes (a few entries per contact and
//     no text parsing; a trigram index tripled the import's cost). The
//     number words follow two spaces in search and stay out of the GIN
//     index, which is searched only for terms that are not all digits
//     (searchCondition); numbers are b-tree ranges. A larger GIN
//     pending list (16 MB) made the import's COPY a third cheaper but every
//     search through the index scans that list: number searches became
//     three times slower, so it stays at the default. phone is in byte
//     order ("C") on PostgreSQL so that a number prefix is a range of the
//     (business_id, phone) index; contacts_national_idx does the same for
//     the national number, which searchText writes as the last search word
//     (numberCondition in contact_list.go). The id
//     sequences hand out ids in blocks of 1,000 per connection, so ids of
//     contacts created at the same time by two connections interleave.
//   - contact_tags: lower-case tags, one row per contact and tag.
//   - consent_events: every opt-in and opt-out with when, how and who. The
//     link to the contact is cut on erasure; the phone hash stays.
//   - suppressions: who said stop, keyed by a hash of the number so the
//     record outlives erasure without keeping the number in clear.
//   - segments: saved tag rules.
//   - contact_import_batches: a ledger of applied import batches, so a
//     batch replayed after a restart is not applied twice.
const schema0003 = `
CREATE TABLE contacts (
	id {{id}},
	business_id {{bigint}} NOT NULL,
	phone TEXT NOT NULL, -- sqlite-only
	phone TEXT COLLATE "C" NOT NULL, -- pg-only
	phone_hash TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT '',
	attrs {{json}} NOT NULL DEFAULT '{}',
	consent_state TEXT NOT NULL DEFAULT 'no_consent' CHECK (consent_state IN ('opted_in', 'no_consent', 'opted_out')),
	opted_in_at {{ts}},
	opt_in_source TEXT NOT NULL DEFAULT '',
	opted_out_at {{ts}},
	import_id {{bigint}},
	name_key TEXT NOT NULL DEFAULT '', -- sqlite-only
	name_key TEXT COLLATE "C" NOT NULL DEFAULT '', -- pg-only
	search TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX contacts_phone_key ON contacts (business_id, phone);
CREATE INDEX contacts_page_idx ON contacts (business_id, id);
CREATE INDEX contacts_name_idx ON contacts (business_id, name_key, id);
CREATE INDEX contacts_state_idx ON contacts (business_id, consent_state, id) WHERE consent_state <> 'opted_in';
CREATE INDEX contacts_search_idx ON contacts USING gin (array_to_tsvector(string_to_array(split_part(search, '  ', 1), ' '))); -- pg-only
CREATE INDEX contacts_national_idx ON contacts (business_id, (split_part(search, ' ', -1) COLLATE "C")); -- pg-only
ALTER SEQUENCE contacts_id_seq CACHE 1000; -- pg-only

CREATE TABLE contact_tags (
	business_id {{bigint}} NOT NULL,
	contact_id {{bigint}} NOT NULL,
	tag TEXT NOT NULL,
	PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag_idx ON contact_tags (business_id, tag, contact_id);

CREATE TABLE consent_events (
	id {{id}},
	business_id {{bigint}} NOT NULL,
	contact_id {{bigint}},
	phone_hash TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('opt_in', 'opt_out')),
	at {{ts}} NOT NULL,
	source TEXT NOT NULL DEFAULT '',
	source_text TEXT NOT NULL DEFAULT '',
	wording TEXT NOT NULL DEFAULT '',
	recorded_by TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
ALTER SEQUENCE consent_events_id_seq CACHE 1000; -- pg-only
CREATE INDEX consent_events_contact_idx ON consent_events (contact_id, at);
CREATE INDEX consent_events_unlinked_idx ON consent_events (business_id, phone_hash) WHERE contact_id IS NULL;

CREATE TABLE suppressions (
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	phone_hash TEXT NOT NULL,
	opted_out_at {{ts}} NOT NULL,
	source TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (business_id, phone_hash)
);

CREATE TABLE segments (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	all_tags {{json}} NOT NULL DEFAULT '[]',
	any_tags {{json}} NOT NULL DEFAULT '[]',
	none_tags {{json}} NOT NULL DEFAULT '[]',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX segments_name_key ON segments (business_id, name);

CREATE TABLE contact_import_batches (
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	import_id {{bigint}} NOT NULL,
	first_row {{bigint}} NOT NULL,
	result TEXT NOT NULL DEFAULT '',
	applied_at {{ts}} NOT NULL,
	PRIMARY KEY (business_id, import_id, first_row)
);
`
