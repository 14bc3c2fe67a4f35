package models

// Schema 17: campaigns.
//
// campaigns is one template campaign of a business: the template and how
// its variables are filled (mapping, JSON), the audience (segments, or
// every messageable contact, minus an exclusion segment), when it goes
// (now, or scheduled at a UTC instant chosen in the business's time zone,
// with an optional daily send window in that zone), the owner's choice
// when it does not fit the messaging tier or budget (refuse, or send to
// as many as fit), and its state. The run is one job at a time under the
// campaign's work lease (lease_token, heartbeat_at; see lease.go).
//
// messages gains what a campaign message needs: the variables as sent
// (rendered at send time, plain text, JSON arrays), the recipient's
// country and the template's category (what billing prices by), whether a
// customer-service window was open when it was sent, the send attempts
// with the time the next may go, when the send was claimed, and why a
// message was skipped. One message per campaign and contact: freezing the
// audience twice cannot double a recipient.
//
// businesses gains the messaging tier (unique recipients per moving 24
// hours outside a customer-service window; 0 is unlimited), set by
// administrators, and the owner's monthly spending limit (NULL: none).
const schema0017 = `
CREATE TABLE campaigns (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	template_id {{bigint}} NOT NULL,
	template_name TEXT NOT NULL DEFAULT '',
	template_language TEXT NOT NULL DEFAULT '',
	category TEXT NOT NULL DEFAULT '',
	mapping TEXT NOT NULL DEFAULT '[]',
	segment_ids TEXT NOT NULL DEFAULT '[]',
	all_contacts {{bool}} NOT NULL DEFAULT FALSE,
	exclude_segment_id {{bigint}},
	skip_landlines {{bool}} NOT NULL DEFAULT TRUE,
	fit_mode TEXT NOT NULL DEFAULT 'refuse',
	state TEXT NOT NULL,
	state_reason TEXT NOT NULL DEFAULT '',
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	scheduled_at {{ts}},
	window_start INTEGER,
	window_end INTEGER,
	recipients INTEGER NOT NULL DEFAULT 0,
	left_out INTEGER NOT NULL DEFAULT 0,
	estimate {{decimal}},
	currency VARCHAR(3) NOT NULL DEFAULT '',
	frozen_at {{ts}},
	started_at {{ts}},
	finished_at {{ts}},
	cancelled_at {{ts}},
	lease_token TEXT,
	heartbeat_at {{ts}},
	created_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX campaigns_business_idx ON campaigns (business_id, id);
CREATE INDEX campaigns_due_idx ON campaigns (state, scheduled_at);

ALTER TABLE messages ADD COLUMN header_params TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN body_params TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN url_params TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN country VARCHAR(2) NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN category VARCHAR(20) NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN window_open {{bool}};
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at {{ts}};
ALTER TABLE messages ADD COLUMN claimed_at {{ts}};
ALTER TABLE messages ADD COLUMN skip_reason TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX messages_campaign_contact_key ON messages (campaign_id, contact_id) WHERE campaign_id IS NOT NULL AND contact_id IS NOT NULL;

ALTER TABLE businesses ADD COLUMN messaging_tier INTEGER NOT NULL DEFAULT 250;
ALTER TABLE businesses ADD COLUMN monthly_limit {{decimal}};
`
