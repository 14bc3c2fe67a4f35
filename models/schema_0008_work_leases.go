package models

// Schema 8: an import carries a lease: the token of the job working it and
// that job's heartbeat, refreshed every few seconds while a slice runs. A
// job may only work an import whose lease is free, its own, or whose
// heartbeat is older than WorkStale; the resume loop re-enqueues imports
// whose heartbeat went stale (a crashed process), so a restarted portal
// takes them up within seconds instead of waiting for the queue's rescue.
const schema0008 = `
ALTER TABLE imports ADD COLUMN lease_token VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN heartbeat_at {{ts}};
`
