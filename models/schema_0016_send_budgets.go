package models

// Schema 16: the sending budget of each sender number, shared by every
// portal process on the database: a token bucket (milli-messages, refilled
// at the number's rate up to one second's worth) and the time until which
// the platform asked us to slow down (130429/131056 with Retry-After).
const schema0016 = `
CREATE TABLE send_budgets (
	phone_number_id VARCHAR(64) PRIMARY KEY,
	milli_tokens {{bigint}} NOT NULL,
	refilled_at {{ts}} NOT NULL,
	paused_until {{ts}}
);
`
