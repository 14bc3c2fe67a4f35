package campaigns

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/messages"
)

// ReplyWindow is how long after a message was sent a customer's message
// counts as a reply to it.
const ReplyWindow = 24 * time.Hour

// epoch is col as seconds since 1970 in the store's dialect.
func epoch(d models.Dialect, col string) string {
	if d == models.Postgres {
		return epochPG(col)
	}
	return epochSQLite(col)
}

// FunnelCounts is the campaign's funnel (see the definitions at the top of
// report.go).
type FunnelCounts struct {
	Recipients  int
	Accepted    int
	Sent        int
	Delivered   int
	Read        int
	Replied     int
	Failed      int
	Unconfirmed int
	Pending     int // queued or being sent
	Skipped     int // not sent (left out not included)
	// SkippedBy counts skipped messages by reason, largest first (left out
	// not included).
	SkippedBy []Reason
	LeftOut   int
	OptedOut  int // recipients opted out since the campaign started
}

// Reason is a count with its reason.
type Reason struct {
	Reason string
	N      int
}

// Funnel is campaign id's funnel.
func Funnel(ctx context.Context, tn models.Tenant, id int64) (FunnelCounts, error) {
	c, err := reportCampaign(ctx, tn, id)
	if err != nil {
		return FunnelCounts{}, err
	}
	sc, err := Counts(ctx, tn, id)
	if err != nil {
		return FunnelCounts{}, err
	}
	f := FunnelCounts{Recipients: sc.Recipients(), Accepted: sc.Accepted, Sent: sc.SentOnce, Delivered: sc.Delivered(),
		Read: sc.ByState[messages.Read], Failed: sc.ByState[messages.Failed], Unconfirmed: sc.ByState[messages.Unconfirmed],
		Pending: sc.Pending(), LeftOut: sc.LeftOut()}
	for r, n := range sc.SkippedBy {
		if r == SkipLeftOut {
			continue
		}
		f.Skipped += n
		f.SkippedBy = append(f.SkippedBy, Reason{Reason: r, N: n})
	}
	sort.Slice(f.SkippedBy, func(i, j int) bool {
		if f.SkippedBy[i].N != f.SkippedBy[j].N {
			return f.SkippedBy[i].N > f.SkippedBy[j].N
		}
		return f.SkippedBy[i].Reason < f.SkippedBy[j].Reason
	})
	if f.Replied, err = replied(ctx, tn, c.ID); err != nil {
		return FunnelCounts{}, err
	}
	if f.OptedOut, err = optedOutAfter(ctx, tn, c); err != nil {
		return FunnelCounts{}, err
	}
	return f, nil
}

// replied counts the campaign's sent messages whose recipient wrote to the
// business within ReplyWindow after the message was sent.
func replied(ctx context.Context, tn models.Tenant, id int64) (int, error) {
	d := tn.DB().Dialect
	sentAt := "COALESCE(m.sent_at, m.delivered_at, m.read_at)"
	var n int64
	err := tn.Gorm(ctx).Table("messages m").
		Where("m.business_id = ? AND m.campaign_id = ? AND m.contact_id IS NOT NULL", tn.BusinessID(), id).
		Where(sentAt+" IS NOT NULL").
		Where(`EXISTS (SELECT 1 FROM inbound_messages i WHERE i.business_id = m.business_id AND i.contact_id = m.contact_id
			AND i.sent_at > `+sentAt+` AND `+epoch(d, "i.sent_at")+" - "+epoch(d, sentAt)+` <= ?)`, int64(ReplyWindow/time.Second)).
		Count(&n).Error
	return int(n), models.Wrap("campaigns.replied", err)
}

// optedOutAfter counts the campaign's recipients (left out ones not
// included) now opted out, whose opt-out came at or after the campaign
// started (its freeze when it has no start yet).
func optedOutAfter(ctx context.Context, tn models.Tenant, c *Campaign) (int, error) {
	since := c.StartedAt
	if since == nil {
		since = c.FrozenAt
	}
	if since == nil {
		return 0, nil
	}
	var n int64
	err := tn.Gorm(ctx).Table("messages m").Joins("JOIN contacts ct ON ct.id = m.contact_id AND ct.business_id = m.business_id").
		Where("m.business_id = ? AND m.campaign_id = ? AND m.skip_reason <> ?", tn.BusinessID(), c.ID, SkipLeftOut).
		Where("ct.consent_state = ? AND ct.opted_out_at >= ?", "opted_out", since.UTC()).Count(&n).Error
	return int(n), models.Wrap("campaigns.optedOutAfter", err)
}

// Buckets is delivery over time: for each bucket (its start, in UTC) the
// messages sent, delivered and read in it.
type Buckets struct {
	Step                  time.Duration // a minute, five, fifteen, an hour, six or a day
	Starts                []time.Time
	Sent, Delivered, Read []int
}

// bucketSteps are the bucket sizes, smallest first; a span gets the
// smallest that keeps it within maxBuckets.
var bucketSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

const maxBuckets = 72

// StepFor is the bucket size for a span.
func StepFor(span time.Duration) time.Duration {
	for _, s := range bucketSteps {
		if span <= s*maxBuckets {
			return s
		}
	}
	return bucketSteps[len(bucketSteps)-1]
}

// DeliveryOverTime is campaign id's messages sent, delivered and read per
// bucket, from its first to its last event (by minute for a short
// campaign, by hour, day or week for a long one; at most maxBuckets+1
// buckets, and never more than 4×maxBuckets).
func DeliveryOverTime(ctx context.Context, tn models.Tenant, id int64) (Buckets, error) {
	if _, err := reportCampaign(ctx, tn, id); err != nil {
		return Buckets{}, err
	}
	d := tn.DB().Dialect
	cols := []string{"sent_at", "delivered_at", "read_at"}
	// The span first: the first and last of the three times.
	var first, last *int64
	for _, col := range cols {
		var r struct{ Lo, Hi *int64 }
		err := tn.Scoped(ctx).Table("messages").Select("MIN("+epoch(d, col)+") AS lo, MAX("+epoch(d, col)+") AS hi").
			Where("campaign_id = ? AND "+col+" IS NOT NULL", id).Scan(&r).Error
		if err != nil {
			return Buckets{}, models.Wrap("campaigns.DeliveryOverTime", err)
		}
		if r.Lo != nil && (first == nil || *r.Lo < *first) {
			first = r.Lo
		}
		if r.Hi != nil && (last == nil || *r.Hi > *last) {
			last = r.Hi
		}
	}
	if first == nil {
		return Buckets{Step: time.Minute}, nil
	}
	step := StepFor(time.Duration(*last-*first) * time.Second)
	secs := int64(step / time.Second)
	base := *first - *first%secs
	n := int((*last-base)/secs) + 1
	if n > 4*maxBuckets {
		// Events years apart (a clock gone wrong): only the first
		// 4×maxBuckets weeks are drawn and listed.
		n = 4 * maxBuckets
	}
	b := Buckets{Step: step, Starts: make([]time.Time, n), Sent: make([]int, n), Delivered: make([]int, n), Read: make([]int, n)}
	for i := range b.Starts {
		b.Starts[i] = time.Unix(base+int64(i)*secs, 0).UTC()
	}
	for ci, col := range cols {
		var rows []struct {
			B int64
			N int
		}
		expr := "(" + epoch(d, col) + " - ?) / ?"
		err := tn.Scoped(ctx).Table("messages").Select(expr+" AS b, COUNT(*) AS n", base, secs).
			Where("campaign_id = ? AND "+col+" IS NOT NULL", id).Group("b").Scan(&rows).Error
		if err != nil {
			return Buckets{}, models.Wrap("campaigns.DeliveryOverTime", err)
		}
		into := [][]int{b.Sent, b.Delivered, b.Read}[ci]
		for _, r := range rows {
			if r.B >= 0 && int(r.B) < n {
				into[r.B] += r.N
			}
		}
	}
	return b, nil
}

// FailureGroup is the campaign's failed messages with one error code.
type FailureGroup struct {
	Code  int // 0: no code (a transport error)
	Title string
	// Explanation is the catalogue key of what the code means and what to
	// do (see ExplanationKey).
	Explanation string
	N           int
	Retryable   bool
	// RetryN counts the group's messages "Retry failed" queues again: a
	// retryable code and never accepted by the platform (RequeueFailed).
	RetryN int
}

// Failures is campaign id's failed messages grouped by error code, the
// largest group first.
func Failures(ctx context.Context, tn models.Tenant, id int64) ([]FailureGroup, error) {
	if _, err := reportCampaign(ctx, tn, id); err != nil {
		return nil, err
	}
	var rows []struct {
		Code   *int
		Title  string
		N      int
		Unsent int
	}
	err := tn.Scoped(ctx).Table("messages").
		Select("error_code AS code, MAX(error_title) AS title, COUNT(*) AS n, SUM(CASE WHEN wamid IS NULL THEN 1 ELSE 0 END) AS unsent").
		Where("campaign_id = ? AND state = ?", id, messages.Failed).Group("error_code").Scan(&rows).Error
	if err != nil {
		return nil, models.Wrap("campaigns.Failures", err)
	}
	out := make([]FailureGroup, 0, len(rows))
	for _, r := range rows {
		code := 0
		if r.Code != nil {
			code = *r.Code
		}
		g := FailureGroup{Code: code, Title: r.Title, Explanation: ExplanationKey(code), N: r.N, Retryable: RetryableCode(code)}
		if g.Retryable {
			g.RetryN = r.Unsent
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// explained are the codes with an explanation of their own in the report's
// catalogue (i18n campaigns_report.json, "report.error.<code>.means" and
// ".todo"); models/messages.Explanation's codes are among them.
var explained = map[int]bool{
	0: true, 100: true, 190: true, 368: true, 130429: true, 131000: true, 131008: true, 131009: true,
	131016: true, 131026: true, 131031: true, 131042: true, 131047: true, 131048: true, 131049: true,
	131050: true, 131051: true, 131056: true, 132000: true, 132001: true, 132015: true, 133010: true,
}

// ExplanationKey is the catalogue key prefix of code's explanation:
// "report.error.<code>" (add ".means" and ".todo"), the 132000 series
// sharing "report.error.132000" unless it has its own, others
// "report.error.other".
func ExplanationKey(code int) string {
	if explained[code] {
		return "report.error." + itoa64(int64(code))
	}
	if code >= 132000 && code < 133000 {
		return "report.error.132000"
	}
	if k := messages.Explanation(code); k != "" && k != "message.error.other" {
		return "report.error." + strings.TrimPrefix(k, "message.error.")
	}
	return "report.error.other"
}

// RetryableCode reports whether a message that failed with code may be
// sent again by "Retry failed" (the sender's RetryableCodes: transport
// errors and time-outs, the platform's temporary errors, rate limits, and
// 131049, held back for the customer's experience). Not: undeliverable
// numbers (131026), a closed window (131047), a customer who stopped
// marketing (131050), template and parameter errors, account problems —
// they would fail again.
func RetryableCode(code int) bool { return slices.Contains(RetryableCodes, code) }
