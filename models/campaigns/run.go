package campaigns

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// What the sender (package sending) needs of the campaigns and their
// messages: the campaigns due to start or stalled, claiming the next
// messages of a run, and recording what became of them. Claims and
// outcomes are set-based (one statement per batch and kind on
// PostgreSQL) so that a run keeps up with the platform's 1,000 messages/s
// per number with room to spare.

// Work names one campaign of one business.
type Work struct{ ID, BusinessID int64 }

// Due lists the scheduled campaigns of every business whose time has come.
func Due(ctx context.Context, db *models.DB, now time.Time, limit int) ([]Work, error) {
	var out []Work
	err := db.WithContext(ctx).Raw(`SELECT id, business_id FROM campaigns WHERE state = ? AND (scheduled_at IS NULL OR scheduled_at <= ?)
		ORDER BY scheduled_at, id LIMIT ?`, Scheduled, now.UTC(), limit).Scan(&out).Error
	return out, models.Wrap("campaigns.Due", err)
}

// Stalled lists the sending campaigns whose run shows no sign of life
// since before: the heartbeat of its lease, or the time a waiting run
// said it would wake (Wake), is older. Their process died, or never came
// back; the sender queues a job for each.
func Stalled(ctx context.Context, db *models.DB, before time.Time, limit int) ([]models.StalledWork, error) {
	return db.StalledLeases(ctx, "campaigns", before, limit, "state = ?", Sending)
}

// Wake records, on a sending campaign whose run released its lease to
// wait (outside the send window, or for retries), when the run comes
// back: until then the campaign does not count as stalled. It changes
// nothing when another run holds the lease.
func Wake(ctx context.Context, tn models.Tenant, id int64, at time.Time) error {
	err := tn.Scoped(ctx).Model(&Campaign{}).Where("id = ? AND state = ? AND (lease_token IS NULL OR lease_token = '')", id, Sending).
		Update("heartbeat_at", at.UTC()).Error
	return models.Wrap("campaigns.Wake", err)
}

// Claimed is a message claimed for sending, with its recipient as they
// are now (nil Contact: the contact was deleted).
type Claimed struct {
	ID         int64
	ContactID  *int64
	ToPhone    string
	Attempts   int
	Contact    *contacts.Recipient
	OptedIn    bool // consent_state is opted_in now
	Suppressed bool // the number is on the business's suppression list now
	WindowOpen bool // the contact wrote within the last 24 hours
}

type claimRow struct {
	ID                                                int64
	ContactID                                         *int64
	ToPhone                                           string
	Attempts                                          int
	CID                                               *int64
	Phone, Name, FirstName, LastName, Language, Email string
	Attrs                                             contacts.Attrs
	ConsentState                                      string
	Suppressed, WindowOpen                            bool
}

// Claim takes up to n queued messages of the campaign due at now (no
// retry time, or one passed), with ids above after, in id order: they
// become "sending" with claimed_at now. On PostgreSQL rows another
// transaction holds are skipped (FOR UPDATE SKIP LOCKED). It returns them
// with their recipients' current consent, suppression and service window.
func Claim(ctx context.Context, tn models.Tenant, campaignID, after int64, n int, now time.Time) ([]Claimed, error) {
	if err := tn.Check(); err != nil {
		return nil, models.Wrap("campaigns.Claim", err)
	}
	now = now.UTC()
	biz := tn.BusinessID()
	if tn.DB().Dialect == models.Postgres {
		out, err := claimPG(ctx, tn, campaignID, after, n, now)
		return out, models.Wrap("campaigns.Claim", err)
	}
	var rows []claimRow
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		var ids []int64
		g := tx.Gorm(ctx)
		if err := g.Raw(`UPDATE messages SET state = 'sending', state_rank = 1, claimed_at = ?, updated_at = ?
			WHERE id IN (SELECT id FROM messages WHERE campaign_id = ? AND business_id = ? AND id > ? AND state = 'queued'
				AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?)
			RETURNING id`, now, now, campaignID, biz, after, now, n).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return g.Raw(`SELECT m.id, m.contact_id, m.to_phone, m.attempts, c.id AS c_id, c.phone, c.name, c.first_name, c.last_name,
				c.language, c.email, c.attrs, c.consent_state,
				EXISTS (SELECT 1 FROM suppressions s WHERE s.business_id = m.business_id AND s.phone_hash = c.phone_hash) AS suppressed,
				EXISTS (SELECT 1 FROM inbound_messages i WHERE i.contact_id = m.contact_id AND i.business_id = m.business_id
					AND i.sent_at > ? AND i.sent_at <= ?) AS window_open
			FROM messages m LEFT JOIN contacts c ON c.id = m.contact_id AND c.business_id = m.business_id
			WHERE m.business_id = ? AND m.id IN ? ORDER BY m.id`, now.Add(-24*time.Hour), now, biz, ids).Scan(&rows).Error
	})
	if err != nil {
		return nil, models.Wrap("campaigns.Claim", err)
	}
	out := make([]Claimed, len(rows))
	for i, r := range rows {
		out[i] = Claimed{ID: r.ID, ContactID: r.ContactID, ToPhone: r.ToPhone, Attempts: r.Attempts,
			OptedIn: r.ConsentState == "opted_in", Suppressed: r.Suppressed, WindowOpen: r.WindowOpen}
		if r.CID != nil {
			out[i].Contact = &contacts.Recipient{ContactID: *r.CID, Phone: r.Phone, Name: r.Name, FirstName: r.FirstName,
				LastName: r.LastName, Language: r.Language, Email: r.Email, Attrs: r.Attrs}
		}
	}
	return out, nil
}

// claimPG is Claim in one statement on the pgx pool (the claim, the
// recipients and their checks; rows another run holds are skipped).
func claimPG(ctx context.Context, tn models.Tenant, campaignID, after int64, n int, now time.Time) ([]Claimed, error) {
	rows, err := tn.DB().Pool.Query(ctx, `WITH picked AS (
			SELECT id FROM messages WHERE campaign_id = $1 AND business_id = $2 AND id > $3 AND state = 'queued'
				AND (next_attempt_at IS NULL OR next_attempt_at <= $4) ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED),
		claimed AS (
			UPDATE messages m SET state = 'sending', state_rank = 1, claimed_at = $4, updated_at = $4 FROM picked WHERE m.id = picked.id
			RETURNING m.id, m.contact_id, m.to_phone, m.attempts)
		SELECT cl.id, cl.contact_id, cl.to_phone, cl.attempts, c.id, c.phone, c.name, c.first_name, c.last_name, c.language, c.email,
			c.attrs::text, c.consent_state,
			EXISTS (SELECT 1 FROM suppressions s WHERE s.business_id = $2 AND s.phone_hash = c.phone_hash),
			EXISTS (SELECT 1 FROM inbound_messages i WHERE i.contact_id = cl.contact_id AND i.business_id = $2 AND i.sent_at > $6 AND i.sent_at <= $4)
		FROM claimed cl LEFT JOIN contacts c ON c.id = cl.contact_id AND c.business_id = $2 ORDER BY cl.id`,
		campaignID, tn.BusinessID(), after, now, n, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Claimed
	for rows.Next() {
		var m Claimed
		var cid *int64
		var phone, name, first, last, lang, email, attrs, consent *string
		if err := rows.Scan(&m.ID, &m.ContactID, &m.ToPhone, &m.Attempts, &cid, &phone, &name, &first, &last, &lang, &email, &attrs, &consent,
			&m.Suppressed, &m.WindowOpen); err != nil {
			return nil, err
		}
		if cid != nil {
			r := &contacts.Recipient{ContactID: *cid, Phone: deref(phone), Name: deref(name), FirstName: deref(first), LastName: deref(last),
				Language: deref(lang), Email: deref(email)}
			if attrs != nil && *attrs != "{}" {
				if err := r.Attrs.Scan(*attrs); err != nil {
					return nil, err
				}
			}
			m.Contact = r
			m.OptedIn = deref(consent) == "opted_in"
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Pending is what is left of a campaign's run.
type Pending struct {
	Queued  int // waiting to be sent (now or at a retry time)
	Sending int // claimed, the answer not stored yet
	// NextAttempt is the earliest retry time of a queued message (nil
	// when one may go now, or none is queued).
	NextAttempt *time.Time
}

// Left counts the campaign's messages still queued or being sent.
func Left(ctx context.Context, tn models.Tenant, campaignID int64, now time.Time) (Pending, error) {
	var r struct {
		Queued, Sending, DueNow int
	}
	err := tn.Gorm(ctx).Raw(`SELECT COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS queued,
		COALESCE(SUM(CASE WHEN state = 'sending' THEN 1 ELSE 0 END), 0) AS sending,
		COALESCE(SUM(CASE WHEN state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) THEN 1 ELSE 0 END), 0) AS due_now
		FROM messages WHERE campaign_id = ? AND business_id = ? AND state IN ('queued', 'sending')`, now.UTC(), campaignID, tn.BusinessID()).Scan(&r).Error
	if err != nil {
		return Pending{}, models.Wrap("campaigns.Left", err)
	}
	p := Pending{Queued: r.Queued, Sending: r.Sending}
	if r.Queued > 0 && r.DueNow == 0 {
		var next []time.Time
		if err := tn.Gorm(ctx).Table("messages").Where("campaign_id = ? AND business_id = ? AND state = 'queued'", campaignID, tn.BusinessID()).
			Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error; err != nil {
			return Pending{}, models.Wrap("campaigns.Left", err)
		}
		if len(next) == 1 {
			p.NextAttempt = &next[0]
		}
	}
	return p, nil
}

// Orphan is a message a dead run claimed: "sending" with no answer stored.
type Orphan struct {
	ID      int64
	ToPhone string
}

// Orphans lists the campaign's messages claimed before before and still
// "sending": the run that claimed them is gone (the caller holds the
// campaign's lease), so whether the platform got them is unknown.
func Orphans(ctx context.Context, tn models.Tenant, campaignID int64, before time.Time, limit int) ([]Orphan, error) {
	var out []Orphan
	err := tn.Gorm(ctx).Raw(`SELECT id, to_phone FROM messages WHERE campaign_id = ? AND business_id = ? AND state = 'sending' AND claimed_at < ?
		ORDER BY id LIMIT ?`, campaignID, tn.BusinessID(), before.UTC(), limit).Scan(&out).Error
	return out, models.Wrap("campaigns.Orphans", err)
}

// Outcome kinds of a send.
const (
	OutAccepted    = "accepted"    // the platform took it: WAMID
	OutFailed      = "failed"      // refused for good: Code, Title
	OutRetry       = "retry"       // refused for now: again at NextAttempt
	OutSkipped     = "skipped"     // not sent: Reason
	OutPutBack     = "put_back"    // claimed but not sent (the run stops): queued again as it was
	OutUnconfirmed = "unconfirmed" // the answer is unknown: a status event reconciles it
)

// Outcome is what became of one claimed message.
type Outcome struct {
	ID   int64
	Kind string
	// Rendered variables (JSON), the recipient's country and whether a
	// customer-service window was open: stored with every attempt.
	Header, Body, URLs string
	Country            string
	WindowOpen         *bool
	WAMID              string
	Code               int
	Title              string
	Explanation        string // catalogue key (messages.Explanation)
	Reason             string // skip reason
	NextAttempt        time.Time
	// Attempted: the send was tried (attempts counts it).
	Attempted bool
}

// Record stores the outcomes of one batch. State moves forward only
// where the rule of models/messages allows: a status event that arrived
// before the answer (matched by our id) keeps its later state, and keeps
// the wamid it stored. Only messages still "sending" are skipped, queued
// again or put back.
func Record(ctx context.Context, tn models.Tenant, outs []Outcome, now time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	if err := tn.Check(); err != nil {
		return models.Wrap("campaigns.Record", err)
	}
	now = now.UTC()
	// In id order, as the webhook intake updates messages, so that the
	// two rarely wait on each other's rows.
	outs = slices.Clone(outs)
	slices.SortFunc(outs, func(a, b Outcome) int { return cmp.Compare(a.ID, b.ID) })
	if tn.DB().Dialect == models.Postgres {
		return models.Wrap("campaigns.Record", recordPG(ctx, tn, outs, now))
	}
	return models.Wrap("campaigns.Record", tn.Tx(ctx, func(tx models.Tenant) error { return recordSQLite(ctx, tx, outs, now) }))
}

// The statements by kind; $-free so that both dialects share them (the
// PostgreSQL form joins unnest of arrays, see recordPG).
const (
	setAccepted = `state = CASE WHEN m.state_rank < 2 OR m.state = 'unconfirmed' THEN 'accepted' ELSE m.state END,
		state_rank = CASE WHEN m.state_rank < 2 THEN 2 ELSE m.state_rank END,
		wamid = COALESCE(m.wamid, v.wamid)`
	setFailed = `state = CASE WHEN m.state_rank < 4 THEN 'failed' ELSE m.state END,
		state_rank = CASE WHEN m.state_rank < 4 THEN 4 ELSE m.state_rank END,
		error_code = v.code, error_title = v.title, error_explanation = v.expl, failed_at = COALESCE(m.failed_at, @now)`
	setRetry   = `state = 'queued', state_rank = 0, next_attempt_at = v.next, error_code = v.code, error_title = v.title, error_explanation = v.expl`
	setSkipped = `state = 'skipped', state_rank = 0, skip_reason = v.reason`
	setPutBack = `state = 'queued', state_rank = 0, claimed_at = NULL`
	setUnconf  = `state = 'unconfirmed', state_rank = 2`
)

func setFor(kind string) (set, cond string) {
	switch kind {
	case OutAccepted:
		return setAccepted, "m.state_rank <= 2"
	case OutFailed:
		return setFailed, "m.state_rank <= 2"
	case OutRetry:
		return setRetry, "m.state = 'sending'"
	case OutSkipped:
		return setSkipped, "m.state = 'sending'"
	case OutPutBack:
		return setPutBack, "m.state = 'sending'"
	default:
		return setUnconf, "m.state = 'sending'"
	}
}

func boolOr(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

// recordPG applies each kind's outcomes in one statement over arrays, in
// one transaction on the pgx pool (GORM would expand the arrays).
func recordPG(ctx context.Context, tn models.Tenant, outs []Outcome, now time.Time) error {
	byKind := map[string][]Outcome{}
	for _, o := range outs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	ptx, err := tn.DB().Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	for kind, os := range byKind {
		n := len(os)
		ids, att := make([]int64, n), make([]int32, n)
		hdr, body, urls, country := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		wo := make([]*bool, n)
		wamid, title, expl, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		code := make([]*int32, n)
		next := make([]*time.Time, n)
		for i, o := range os {
			ids[i], hdr[i], body[i], urls[i], country[i], wo[i] = o.ID, o.Header, o.Body, o.URLs, o.Country, o.WindowOpen
			if o.Attempted {
				att[i] = 1
			}
			wamid[i], title[i], expl[i], reason[i] = o.WAMID, o.Title, o.Explanation, o.Reason
			if o.Code != 0 {
				c := int32(o.Code)
				code[i] = &c
			}
			if !o.NextAttempt.IsZero() {
				t := o.NextAttempt.UTC()
				next[i] = &t
			}
		}
		set, cond := setFor(kind)
		q := `UPDATE messages m SET ` + set + `, attempts = m.attempts + v.att,
			header_params = CASE WHEN v.hdr = '' THEN m.header_params ELSE v.hdr END,
			body_params = CASE WHEN v.body = '' THEN m.body_params ELSE v.body END,
			url_params = CASE WHEN v.urls = '' THEN m.url_params ELSE v.urls END,
			country = CASE WHEN v.country = '' THEN m.country ELSE v.country END,
			window_open = COALESCE(v.wo, m.window_open), updated_at = @now
		FROM (SELECT * FROM unnest(CAST(@ids AS bigint[]), CAST(@att AS int[]), CAST(@hdr AS text[]), CAST(@body AS text[]), CAST(@urls AS text[]), CAST(@country AS text[]), CAST(@wo AS boolean[]),
			CAST(@wamid AS text[]), CAST(@code AS int[]), CAST(@title AS text[]), CAST(@expl AS text[]), CAST(@reason AS text[]), CAST(@next AS timestamptz[]))
			AS t(id, att, hdr, body, urls, country, wo, wamid, code, title, expl, reason, next)) v
		WHERE m.id = v.id AND m.business_id = @biz AND ` + cond
		args := []any{now, ids, att, hdr, body, urls, country, wo, wamid, code, title, expl, reason, next, tn.BusinessID()}
		for i, name := range []string{"now", "ids", "att", "hdr", "body", "urls", "country", "wo", "wamid", "code", "title", "expl", "reason", "next", "biz"} {
			q = strings.ReplaceAll(q, "@"+name+" ", "$"+strconv.Itoa(i+1)+" ")
			q = strings.ReplaceAll(q, "@"+name+",", "$"+strconv.Itoa(i+1)+",")
			q = strings.ReplaceAll(q, "@"+name+"\n", "$"+strconv.Itoa(i+1)+"\n")
			q = strings.ReplaceAll(q, "@"+name+")", "$"+strconv.Itoa(i+1)+")")
		}
		if _, err := ptx.Exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return ptx.Commit(ctx)
}

func recordSQLite(ctx context.Context, tx models.Tenant, outs []Outcome, now time.Time) error {
	g := tx.Gorm(ctx)
	for _, o := range outs {
		set, cond := setFor(o.Kind)
		att := 0
		if o.Attempted {
			att = 1
		}
		var code any
		if o.Code != 0 {
			code = o.Code
		}
		var next any
		if !o.NextAttempt.IsZero() {
			next = o.NextAttempt.UTC()
		}
		// The same statement shapes as on PostgreSQL, over a one-row v.
		q := `UPDATE messages AS m SET ` + set + `, attempts = m.attempts + v.att,
			header_params = CASE WHEN v.hdr = '' THEN m.header_params ELSE v.hdr END,
			body_params = CASE WHEN v.body = '' THEN m.body_params ELSE v.body END,
			url_params = CASE WHEN v.urls = '' THEN m.url_params ELSE v.urls END,
			country = CASE WHEN v.country = '' THEN m.country ELSE v.country END,
			window_open = COALESCE(v.wo, m.window_open), updated_at = @now
		FROM (SELECT @id AS id, @att AS att, @hdr AS hdr, @body AS body, @urls AS urls, @country AS country, @wo AS wo, @wamid AS wamid,
			@code AS code, @title AS title, @expl AS expl, @reason AS reason, @next AS next) AS v
		WHERE m.id = v.id AND m.business_id = @biz AND ` + cond
		if err := g.Exec(q, map[string]any{"now": now, "id": o.ID, "att": att, "hdr": o.Header, "body": o.Body, "urls": o.URLs,
			"country": o.Country, "wo": boolOr(o.WindowOpen), "wamid": o.WAMID, "code": code, "title": o.Title, "expl": o.Explanation,
			"reason": o.Reason, "next": next, "biz": tx.BusinessID()}).Error; err != nil {
			return err
		}
	}
	return nil
}

// RetryableCodes are the platform's error codes of a failed send worth
// trying again later (rate limits, the platform's transient errors, and
// 131049: the platform held the message back for the ecosystem's sake);
// 0 is a transport failure (time-out, 5xx without a code).
var RetryableCodes = []int{0, 1, 2, 4, 80007, 130429, 131000, 131049, 131056}

// RequeueFailed queues again the campaign's failed messages that were
// never accepted by the platform (no wamid) and failed with a retryable
// code, and returns how many.
func RequeueFailed(ctx context.Context, tn models.Tenant, campaignID int64) (int, error) {
	now := tn.DB().Now().UTC()
	res := tn.Scoped(ctx).Table("messages").
		Where("campaign_id = ? AND state = 'failed' AND wamid IS NULL AND (error_code IS NULL OR error_code IN ?)", campaignID, RetryableCodes).
		Updates(map[string]any{"state": "queued", "state_rank": 0, "attempts": 0, "next_attempt_at": nil, "failed_at": nil,
			"error_code": nil, "error_title": "", "error_detail": "", "error_explanation": "", "claimed_at": nil, "updated_at": now})
	return int(res.RowsAffected), models.Wrap("campaigns.RequeueFailed", res.Error)
}

// Gate is what decides, before each batch, whether a run may go on: the
// campaign's state now, the business's status and sender, and the
// template's status (the platform may pause or disable it meanwhile).
type Gate struct {
	State, StateReason string
	Suspended          bool
	PhoneNumberID      string
	WABAID             string
	TemplateStatus     string // "" when the template is gone
}

// CheckGate reads the campaign's gate in one statement.
func CheckGate(ctx context.Context, tn models.Tenant, id int64) (Gate, error) {
	var r struct {
		State, StateReason, BizStatus, PhoneNumberID, WABAID string
		TemplateStatus                                       *string
	}
	res := tn.Gorm(ctx).Raw(`SELECT c.state, c.state_reason, b.status AS biz_status, b.phone_number_id, b.waba_id AS waba_id, t.status AS template_status
		FROM campaigns c JOIN businesses b ON b.id = c.business_id
		LEFT JOIN message_templates t ON t.id = c.template_id AND t.business_id = c.business_id
		WHERE c.id = ? AND c.business_id = ?`, id, tn.BusinessID()).Scan(&r)
	if res.Error != nil {
		return Gate{}, models.Wrap("campaigns.CheckGate", res.Error)
	}
	if res.RowsAffected == 0 {
		return Gate{}, models.ErrNotFound
	}
	g := Gate{State: r.State, StateReason: r.StateReason, Suspended: r.BizStatus == models.BusinessSuspended,
		PhoneNumberID: r.PhoneNumberID, WABAID: r.WABAID}
	if r.TemplateStatus != nil {
		g.TemplateStatus = *r.TemplateStatus
	}
	return g, nil
}

// TemplateReason is the pause reason for a template in status st, "" when
// it may be sent (APPROVED).
func TemplateReason(st string) string {
	switch st {
	case "APPROVED":
		return ""
	case "PAUSED":
		return ReasonTemplatePaused
	case "DISABLED":
		return ReasonTemplateDisabled
	}
	return ReasonTemplateOther
}
