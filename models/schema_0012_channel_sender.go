package models

// Schema 12: a business's sender on the messaging platform: the phone-number
// id its messages go out from and its business account (WABA) id, set by
// administrators. Incoming events are routed to a business by the
// phone-number id, so one id belongs to at most one business.
const schema0012 = `
ALTER TABLE businesses ADD COLUMN phone_number_id VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE businesses ADD COLUMN waba_id VARCHAR(64) NOT NULL DEFAULT '';
CREATE UNIQUE INDEX businesses_phone_number_id_key ON businesses (phone_number_id) WHERE phone_number_id <> '';
`
