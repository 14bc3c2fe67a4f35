package models

// migrations is every schema step, oldest first: the whole history of the
// schema in one place. A new step is appended here with the next version
// and its DDL (or Go function) in a schema_NNNN_<what>.go file beside it.
// A released step is never edited: databases in the field have run it.
var migrations = []Migration{
	{Version: 1, Name: "foundation: users, businesses, sessions, invitations, audit", SQL: schema0001},
	{Version: 2, Name: "profiles: business profiles, verification requests and documents", SQL: schema0002},
	{Version: 3, Name: "contacts: contacts, tags, consent events, suppressions, segments", SQL: schema0003},
	{Version: 4, Name: "imports: contact imports and their rejected rows", SQL: schema0004},
	{Version: 5, Name: "contacts: drop the national-number and name-sort indexes", SQL: schema0005},
	{Version: 6, Name: "contacts: accent-folded search text with e-mail domains", Func: refoldContactSearch},
	{Version: 7, Name: "imports: messageable contacts of a finished import", SQL: schema0007},
	{Version: 8, Name: "imports: work lease and heartbeat", SQL: schema0008},
	{Version: 9, Name: "contacts: likely landlines; imports: repeated numbers", SQL: schema0009, Func: flagStoredLandlines},
	{Version: 10, Name: "contacts: FTS5 word index for search on SQLite", Func: sqliteContactsFTS},
	{Version: 11, Name: "password resets: one-time links, hashed", SQL: schema0011},
	{Version: 12, Name: "businesses: messaging sender (phone-number id, business account id)", SQL: schema0012},
	{Version: 13, Name: "message templates", SQL: schema0013},
	{Version: 14, Name: "messages and webhooks: messages, raw webhook events, unmatched events, inbound messages", SQL: schema0014},
	{Version: 15, Name: "billing: rate cards with prices per category and country", SQL: schema0015, Func: seedExampleRateCard},
	{Version: 16, Name: "sending: a shared budget per sender number", SQL: schema0016},
	{Version: 17, Name: "campaigns; campaign columns of messages; messaging tier and monthly limit of businesses", SQL: schema0017},
	{Version: 18, Name: "billing: usage records, invoices and credit notes with gapless numbers, documents, issuer settings; issued invoices immutable", SQL: schema0018, Func: billingTriggers},
	{Version: 19, Name: "messages: foreign keys kept by triggers on the referenced tables (PostgreSQL)", Func: relaxMessageKeys},
}
