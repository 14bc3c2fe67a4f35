// Package campaigns is a business's template campaigns: what is sent
// (an approved template and how each variable is filled), to whom (the
// audience: segments or every messageable contact, minus an exclusion
// segment), when (now, or at a time in the business's time zone, within
// an optional daily send window), and what happened (the report). The
// messages themselves are models/messages rows; the engine that sends
// them is package sending.
//
// # States
//
//	draft → scheduled → sending ⇄ paused → done
//	   ↘──────────────↗    ↘ cancelled (from draft, scheduled, sending, paused)
//
// draft: being composed; scheduled: confirmed, waiting for its time;
// sending: the audience is frozen into messages and the sender works on
// them (waiting outside the send window is still sending, with a reason);
// paused: by staff, or by the platform (the template was paused or
// disabled, the business suspended), with the reason in state_reason;
// done: every message reached a final state or the sender gave up on it;
// cancelled: staff stopped it, queued messages were skipped.
package campaigns
