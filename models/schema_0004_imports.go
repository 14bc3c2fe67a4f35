package models

// Schema 4: contact imports.
//
//   - imports: one uploaded file and its way through mapping, the queue and
//     the import job. format, headers, mapping and settings are JSON text;
//     the counters and rows_done (the checkpoint: data rows handled through
//     the last committed batch) are updated in one statement per batch, so
//     a restarted job resumes exactly after the last committed batch.
//   - import_row_errors: the rejected rows, keyed by (import, row), so a
//     batch replayed after a restart cannot add a row twice. The error
//     report is written from this table on demand.
const schema0004 = `
CREATE TABLE imports (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_by_name TEXT NOT NULL DEFAULT '',
	file_name TEXT NOT NULL,
	file_key TEXT NOT NULL DEFAULT '',
	file_size {{bigint}} NOT NULL DEFAULT 0,
	file_sha256 TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'uploaded' CHECK (status IN ('uploaded', 'mapping', 'queued', 'running', 'done', 'failed', 'cancelled')),
	format TEXT NOT NULL DEFAULT '{}',
	headers TEXT NOT NULL DEFAULT '[]',
	mapping TEXT NOT NULL DEFAULT '{}',
	settings TEXT NOT NULL DEFAULT '{}',
	policy TEXT NOT NULL DEFAULT 'update' CHECK (policy IN ('update', 'skip')),
	consent_source TEXT NOT NULL DEFAULT '',
	consent_at {{ts}},
	consent_confirmed_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	consent_confirmed_by TEXT NOT NULL DEFAULT '',
	consent_confirmed_at {{ts}},
	rows_total {{bigint}} NOT NULL DEFAULT 0,
	rows_done {{bigint}} NOT NULL DEFAULT 0,
	imported {{bigint}} NOT NULL DEFAULT 0,
	updated {{bigint}} NOT NULL DEFAULT 0,
	skipped {{bigint}} NOT NULL DEFAULT 0,
	suppressed {{bigint}} NOT NULL DEFAULT 0,
	failed {{bigint}} NOT NULL DEFAULT 0,
	duplicates {{bigint}} NOT NULL DEFAULT 0,
	blank {{bigint}} NOT NULL DEFAULT 0,
	bytes_done {{bigint}} NOT NULL DEFAULT 0,
	bytes_total {{bigint}} NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	queued_at {{ts}},
	started_at {{ts}},
	progress_at {{ts}},
	finished_at {{ts}}
);
CREATE INDEX imports_business_idx ON imports (business_id, id);

CREATE TABLE import_row_errors (
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	import_id {{bigint}} NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
	row_num {{bigint}} NOT NULL,
	field TEXT NOT NULL DEFAULT '',
	code TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL DEFAULT '',
	cells INTEGER NOT NULL DEFAULT 0,
	raw TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (import_id, row_num)
);
`
