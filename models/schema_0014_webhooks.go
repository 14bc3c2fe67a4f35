package models

// Schema 14: messages and webhooks.
//
// messages is one row per template message sent (campaigns fill it): its
// recipient, template, state and the platform's answers. state_rank is the
// state's place in the order events may move it (see models/messages), so
// a status event is applied by one conditional UPDATE on either database.
// No index covers a column a status changes, and PostgreSQL leaves 30% of
// each page free, so status updates are HOT (no index writes).
//
// webhook_events is every POST the platform made to /webhooks/whatsapp (or
// the sandbox delivered in-process), stored raw before it is answered and
// processed later by the queue. webhook_unmatched keeps the parts of those
// bodies that could not be applied: an unknown phone-number id, or a status
// for a message we do not know (yet). inbound_messages is what customers
// wrote; its newest row per contact opens the customer-service window.
// Bodies are stored uncompressed out of line on PostgreSQL (STORAGE
// EXTERNAL): compressing each body as it arrives cost the intake a third
// of its throughput with 100 statuses per body (cmd/webhookbench).
const schema0014 = `
CREATE TABLE messages (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	contact_id {{bigint}} REFERENCES contacts(id) ON DELETE SET NULL,
	campaign_id {{bigint}},
	template_id {{bigint}},
	template_name TEXT NOT NULL DEFAULT '',
	template_language TEXT NOT NULL DEFAULT '',
	to_phone TEXT NOT NULL DEFAULT '',
	user_id TEXT NOT NULL DEFAULT '',
	wamid TEXT,
	state TEXT NOT NULL,
	state_rank INTEGER NOT NULL DEFAULT 0,
	error_code INTEGER,
	error_title TEXT NOT NULL DEFAULT '',
	error_detail TEXT NOT NULL DEFAULT '',
	error_explanation TEXT NOT NULL DEFAULT '',
	pricing_model TEXT NOT NULL DEFAULT '',
	pricing_category TEXT NOT NULL DEFAULT '',
	pricing_type TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	sent_at {{ts}},
	delivered_at {{ts}},
	read_at {{ts}},
	failed_at {{ts}},
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX messages_wamid_key ON messages (wamid) WHERE wamid IS NOT NULL;
CREATE INDEX messages_business_idx ON messages (business_id, id);
CREATE INDEX messages_campaign_idx ON messages (campaign_id, id) WHERE campaign_id IS NOT NULL;
ALTER TABLE messages SET (fillfactor = 70); -- pg-only
CREATE INDEX messages_contact_idx ON messages (contact_id) WHERE contact_id IS NOT NULL;

CREATE TABLE webhook_events (
	id {{id}},
	received_at {{ts}} NOT NULL,
	body {{blob}} NOT NULL,
	claimed_until {{ts}},
	processed_at {{ts}},
	error TEXT NOT NULL DEFAULT ''
);
ALTER TABLE webhook_events ALTER COLUMN body SET STORAGE EXTERNAL; -- pg-only
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE processed_at IS NULL;
ALTER TABLE webhook_events SET (fillfactor = 80); -- pg-only

CREATE TABLE webhook_unmatched (
	id {{id}},
	event_id {{bigint}} NOT NULL,
	reason TEXT NOT NULL,
	phone_number_id TEXT NOT NULL DEFAULT '',
	business_id {{bigint}},
	wamid TEXT NOT NULL DEFAULT '',
	callback TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL,
	received_at {{ts}} NOT NULL,
	matched_at {{ts}}
);
CREATE INDEX webhook_unmatched_open_idx ON webhook_unmatched (reason, received_at) WHERE matched_at IS NULL;

CREATE TABLE inbound_messages (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	contact_id {{bigint}} REFERENCES contacts(id) ON DELETE SET NULL,
	from_phone TEXT NOT NULL DEFAULT '',
	user_id TEXT NOT NULL DEFAULT '',
	wamid TEXT NOT NULL,
	kind TEXT NOT NULL,
	body TEXT NOT NULL DEFAULT '',
	opt_out {{bool}} NOT NULL DEFAULT FALSE,
	sent_at {{ts}} NOT NULL,
	received_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX inbound_messages_wamid_key ON inbound_messages (business_id, wamid);
CREATE INDEX inbound_messages_contact_idx ON inbound_messages (contact_id, sent_at) WHERE contact_id IS NOT NULL;
`
