// Package messages is the record of every template message Optline sends
// and of what customers write back: one row per message (table messages),
// its state as the platform reports it, and inbound messages (table
// inbound_messages) that open the customer-service window.
//
// # States
//
//	queued → sending → accepted → sent → delivered → read
//	                 ↘ unconfirmed ↗        (reconciled by a status event)
//	failed, skipped (terminal)
//
// queued: the campaign made the row; sending: the send is under way;
// accepted: the platform took it and gave its wamid (MarkAccepted);
// unconfirmed: the send may have happened but its answer was lost (a crash
// between the call and storing the wamid) — a status event carrying our id
// in biz_opaque_callback_data reconciles it; skipped: never sent (opted out
// meanwhile, suppressed); failed: the platform refused it or reported that
// it failed.
//
// # The rule for status events
//
// Status webhooks come at least once and in any order, so a state only
// moves forward, by rank:
//
//	queued 0, skipped 0, sending 1, accepted 2, unconfirmed 2, sent 3,
//	failed 4, delivered 5, read 6
//
// An event whose rank is not above the row's changes no state: a late
// "delivered" after "read" changes nothing, the same event three times
// changes the state once. Each time stamp (sent_at, delivered_at, read_at,
// failed_at) is set by the first event of its kind and never moved, so
// "read" before "delivered" gives a read message whose delivered_at is
// filled in when the delivered event comes.
//
// failed sits below delivered: a failure reported after the message was
// delivered or read is recorded — failed_at and the error are stored, so it
// is seen — but does not un-deliver it (the customer has the message; it is
// billed as delivered). "delivered" after "failed" moves the message on to
// delivered: the platform saw it on the phone, which outweighs an earlier
// failure report (the error stays recorded).
//
// The pricing object and the business-scoped user id are stored from
// whichever event carries them (the latest non-empty value wins).
//
// Events are matched by wamid, or by our message id echoed in
// biz_opaque_callback_data; the latter also stores the wamid of a message
// whose answer was never stored. Events that match no message are not
// applied (the caller keeps them for review).
package messages
