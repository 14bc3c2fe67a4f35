package campaigns

// The report: what happened to a campaign's messages, read from the
// messages table (one row per recipient, see models/messages) and never
// stored twice. List is the campaigns list; Progress the live figures
// while sending; Funnel, DeliveryOverTime and Failures the report after;
// Messages the message list with each message's timeline; Export the
// list as CSV or XLSX; ContactMessages what a contact was sent.
//
// Definitions (also in the README):
//   - recipients: the campaign's messages that were meant to go (every
//     frozen row except those left out to fit the tier or the budget);
//   - accepted: the platform took the message (it has a wamid), whatever
//     happened after;
//   - sent / delivered / read: reached that state (read counts as
//     delivered and sent; a failure reported after delivery does not
//     un-deliver, see models/messages);
//   - replied: recipients who wrote to the business within 24 hours after
//     the message was sent (their first inbound message after it);
//   - opted out after: recipients opted out at or after the campaign
//     started (by any route: STOP, staff, import);
//   - rates: sent of recipients, delivered of sent, read of delivered.

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/billing"
	"github.com/optline/optline/models/messages"
)

// reportCampaign loads one of tn's campaigns (models.ErrNotFound for
// another business's).
func reportCampaign(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	var c Campaign
	if err := tn.First(ctx, &c, id); err != nil {
		return nil, models.Wrap("campaigns.report", err)
	}
	return &c, nil
}

// ForReport is the campaign for its report pages (models.ErrNotFound for
// another business's).
func ForReport(ctx context.Context, tn models.Tenant, id int64) (*Campaign, error) {
	return reportCampaign(ctx, tn, id)
}

// StateCounts are a campaign's messages by state, with the skipped ones by
// reason.
type StateCounts struct {
	ByState map[string]int
	// SkippedBy counts skipped messages by skip_reason ("" when none was
	// recorded); LeftOut ones are counted here too.
	SkippedBy map[string]int
	// Accepted: messages the platform took (a wamid stored).
	Accepted int
	// SentOnce: messages with a sent time or a later state.
	SentOnce int
}

// Total is every message row.
func (s StateCounts) Total() int {
	n := 0
	for _, v := range s.ByState {
		n += v
	}
	return n
}

// LeftOut is the rows left out to fit.
func (s StateCounts) LeftOut() int { return s.SkippedBy[SkipLeftOut] }

// Recipients is the rows that were meant to go.
func (s StateCounts) Recipients() int { return s.Total() - s.LeftOut() }

// Delivered counts delivered and read messages.
func (s StateCounts) Delivered() int { return s.ByState[messages.Delivered] + s.ByState[messages.Read] }

// Pending counts messages not yet handled (queued or being sent).
func (s StateCounts) Pending() int { return s.ByState[messages.Queued] + s.ByState[messages.Sending] }

type stateRow struct {
	CampaignID int64
	State      string
	SkipReason string
	N          int
	Accepted   int
	SentOnce   int
}

// countStates counts the messages of the given campaigns by state in one
// query.
func countStates(ctx context.Context, tn models.Tenant, ids []int64) (map[int64]*StateCounts, error) {
	out := make(map[int64]*StateCounts, len(ids))
	for _, id := range ids {
		out[id] = &StateCounts{ByState: map[string]int{}, SkippedBy: map[string]int{}}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []stateRow
	err := tn.Scoped(ctx).Table("messages").
		Select(`campaign_id, state, skip_reason, COUNT(*) AS n,
			SUM(CASE WHEN wamid IS NOT NULL THEN 1 ELSE 0 END) AS accepted,
			SUM(CASE WHEN sent_at IS NOT NULL OR state IN ('sent', 'delivered', 'read') THEN 1 ELSE 0 END) AS sent_once`).
		Where("campaign_id IN ?", ids).Group("campaign_id, state, skip_reason").Scan(&rows).Error
	if err != nil {
		return nil, models.Wrap("campaigns.countStates", err)
	}
	for _, r := range rows {
		sc := out[r.CampaignID]
		if sc == nil {
			continue
		}
		sc.ByState[r.State] += r.N
		if r.State == messages.Skipped {
			sc.SkippedBy[r.SkipReason] += r.N
		}
		sc.Accepted += r.Accepted
		sc.SentOnce += r.SentOnce
	}
	return out, nil
}

// Counts are one campaign's messages by state.
func Counts(ctx context.Context, tn models.Tenant, id int64) (StateCounts, error) {
	m, err := countStates(ctx, tn, []int64{id})
	if err != nil {
		return StateCounts{}, err
	}
	return *m[id], nil
}

// LiveProgress is a campaign's live progress.
type LiveProgress struct {
	State       string
	StateReason string
	Counts      StateCounts
	Total       int // recipients
	Handled     int // recipients no longer queued or being sent
	Percent     int // Handled of Total, 0–100
	// PerSecond is the rate since the start (0 before there is one).
	PerSecond float64
	// ETA is the time left at that rate (0 when unknown or over).
	ETA time.Duration
	// Waiting: outside the send window, WindowOpens is when it opens.
	Waiting     bool
	WindowOpens time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	ScheduledAt *time.Time
	Over        bool
}

// ProgressAt is campaign id with its progress at now.
func ProgressAt(ctx context.Context, tn models.Tenant, id int64, now time.Time) (*Campaign, LiveProgress, error) {
	c, err := reportCampaign(ctx, tn, id)
	if err != nil {
		return nil, LiveProgress{}, err
	}
	sc, err := Counts(ctx, tn, id)
	if err != nil {
		return nil, LiveProgress{}, err
	}
	return c, progressFrom(c, sc, now), nil
}

// Progress is campaign id's progress by the database's clock.
func Progress(ctx context.Context, tn models.Tenant, id int64) (LiveProgress, error) {
	_, p, err := ProgressAt(ctx, tn, id, tn.DB().Now())
	return p, err
}

func progressFrom(c *Campaign, sc StateCounts, now time.Time) LiveProgress {
	p := LiveProgress{State: c.State, StateReason: c.StateReason, Counts: sc, Total: sc.Recipients(),
		StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, ScheduledAt: c.ScheduledAt, Over: c.Over()}
	p.Handled = p.Total - sc.Pending()
	if p.Handled < 0 {
		p.Handled = 0
	}
	if p.Total > 0 {
		p.Percent = p.Handled * 100 / p.Total
	}
	if c.State == Done {
		p.Percent = 100
	}
	if c.StartedAt != nil && p.Handled > 0 {
		end := now
		if c.FinishedAt != nil {
			end = *c.FinishedAt
		}
		if secs := end.Sub(*c.StartedAt).Seconds(); secs > 0 {
			p.PerSecond = float64(p.Handled) / secs
			if c.State == Sending && p.Total > p.Handled {
				p.ETA = time.Duration(float64(p.Total-p.Handled) / p.PerSecond * float64(time.Second))
			}
		}
	}
	if c.State == Sending {
		if in, opens := c.InWindow(now); !in {
			p.Waiting, p.WindowOpens, p.ETA = true, opens, 0
		}
	}
	return p
}

// ListRow is one campaign in the campaigns list.
type ListRow struct {
	ID          int64
	Name        string
	State       string
	StateReason string
	// The audience: segment names (a deleted segment is "#id"), or every
	// messageable contact, minus an exclusion segment.
	AllContacts   bool
	Segments      []string
	Exclude       string
	SkipLandlines bool
	TemplateName  string
	Recipients    int
	Sent          int
	Delivered     int
	Read          int
	Failed        int
	Cost          Cost
	CreatedAt     time.Time
	ScheduledAt   *time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
	// Loc is the campaign's time zone (its times are shown in it).
	Loc *time.Location
}

// Rate is part of total in tenths of a percent (0 when total is 0).
func Rate(part, total int) int64 {
	if total <= 0 {
		return 0
	}
	return int64((part*1000 + total/2) / total)
}

// List is tn's campaigns, newest first, with their figures.
func List(ctx context.Context, tn models.Tenant) ([]ListRow, error) {
	var cs []Campaign
	if err := tn.Scoped(ctx).Order("id DESC").Limit(500).Find(&cs).Error; err != nil {
		return nil, models.Wrap("campaigns.List", err)
	}
	ids := make([]int64, len(cs))
	var segIDs []int64
	for i, c := range cs {
		ids[i] = c.ID
		segIDs = append(segIDs, c.SegmentIDs...)
		if c.ExcludeSegmentID != nil {
			segIDs = append(segIDs, *c.ExcludeSegmentID)
		}
	}
	counts, err := countStates(ctx, tn, ids)
	if err != nil {
		return nil, err
	}
	names, err := segmentNames(ctx, tn, segIDs)
	if err != nil {
		return nil, err
	}
	var cards []billing.Card
	out := make([]ListRow, len(cs))
	for i := range cs {
		c := &cs[i]
		sc := counts[c.ID]
		r := ListRow{ID: c.ID, Name: c.Name, State: c.State, StateReason: c.StateReason, AllContacts: c.AllContacts,
			SkipLandlines: c.SkipLandlines, TemplateName: c.TemplateName, Recipients: sc.Recipients(), Sent: sc.SentOnce,
			Delivered: sc.Delivered(), Read: sc.ByState[messages.Read], Failed: sc.ByState[messages.Failed],
			CreatedAt: c.CreatedAt, ScheduledAt: c.ScheduledAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, Loc: c.Location()}
		if r.Recipients == 0 && c.FrozenAt == nil {
			r.Recipients = c.Recipients
		}
		for _, s := range c.SegmentIDs {
			r.Segments = append(r.Segments, segName(names, s))
		}
		if c.ExcludeSegmentID != nil {
			r.Exclude = segName(names, *c.ExcludeSegmentID)
		}
		if sc.Delivered() > 0 {
			if cards == nil {
				if cards, err = rateCards(ctx, tn); err != nil {
					return nil, err
				}
			}
			if r.Cost, err = costWith(ctx, tn, c, cards); err != nil {
				return nil, err
			}
		}
		out[i] = r
	}
	return out, nil
}

// AudienceNames names campaign c's segments and its exclusion segment
// (a deleted segment by "#id").
func AudienceNames(ctx context.Context, tn models.Tenant, c *Campaign) (segments []string, exclude string, err error) {
	ids := append([]int64(nil), c.SegmentIDs...)
	if c.ExcludeSegmentID != nil {
		ids = append(ids, *c.ExcludeSegmentID)
	}
	names, err := segmentNames(ctx, tn, ids)
	if err != nil {
		return nil, "", err
	}
	for _, s := range c.SegmentIDs {
		segments = append(segments, segName(names, s))
	}
	if c.ExcludeSegmentID != nil {
		exclude = segName(names, *c.ExcludeSegmentID)
	}
	return segments, exclude, nil
}

func segName(names map[int64]string, id int64) string {
	if n, ok := names[id]; ok {
		return n
	}
	return "#" + itoa64(id)
}

func segmentNames(ctx context.Context, tn models.Tenant, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	err := tn.Scoped(ctx).Table("segments").Select("id, name").Where("id IN ?", ids).Scan(&rows).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Wrap("campaigns.segmentNames", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
