package messages

import (
	"context"
	"strconv"
	"time"

	"github.com/optline/optline/models"
)

// Status is one status event of a message as the platform reports it.
type Status struct {
	WAMID string
	// MessageID is our message id from biz_opaque_callback_data (0 when
	// the event carries none or something else).
	MessageID int64
	State     string // sent, delivered, read, failed
	At        time.Time
	UserID    string
	// Error is set on failed events.
	ErrorCode   int
	ErrorTitle  string
	ErrorDetail string
	// Pricing, when the event carries it.
	PricingModel, PricingCategory, PricingType string
}

// CallbackID parses biz_opaque_callback_data as our message id (0 when
// it is not one).
func CallbackID(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// update is the merged effect of a batch's events on one message.
type update struct {
	idx       []int // the statuses merged into it
	mid       int64
	wamid     string
	state     string
	rank      int
	sent      *time.Time
	delivered *time.Time
	read      *time.Time
	failed    *time.Time
	errCode   *int32
	errTitle  string
	errDetail string
	errExpl   string
	pModel    string
	pCategory string
	pType     string
	priceAt   time.Time
	userID    string
}

func earliest(p **time.Time, at time.Time) {
	if *p == nil || at.Before(**p) {
		t := at
		*p = &t
	}
}

// merge folds the statuses into one update per message (a batch may hold
// sent, delivered and read of one message: one set-based UPDATE can apply
// only one row of its input to each message). Statuses in an unknown
// state are left out; their indexes are in skipped.
func merge(sts []Status) (ups []*update, skipped []int) {
	byKey := map[string]*update{}
	for i, s := range sts {
		r := Rank(s.State)
		if r < Rank(Sent) || (s.WAMID == "" && s.MessageID == 0) {
			skipped = append(skipped, i)
			continue
		}
		key := "w:" + s.WAMID
		if s.MessageID > 0 {
			key = "m:" + strconv.FormatInt(s.MessageID, 10)
		}
		u := byKey[key]
		if u == nil {
			u = &update{mid: s.MessageID, rank: -1}
			byKey[key] = u
			ups = append(ups, u)
		}
		u.idx = append(u.idx, i)
		if u.wamid == "" {
			u.wamid = s.WAMID
		}
		if r > u.rank {
			u.rank, u.state = r, s.State
		}
		at := s.At.UTC()
		switch s.State {
		case Sent:
			earliest(&u.sent, at)
		case Delivered:
			earliest(&u.delivered, at)
		case Read:
			earliest(&u.read, at)
		case Failed:
			if u.failed == nil || at.Before(*u.failed) {
				c := int32(s.ErrorCode)
				u.errCode, u.errTitle, u.errDetail, u.errExpl = &c, s.ErrorTitle, s.ErrorDetail, Explanation(s.ErrorCode)
			}
			earliest(&u.failed, at)
		}
		if s.PricingCategory != "" && !at.Before(u.priceAt) {
			u.pModel, u.pCategory, u.pType, u.priceAt = s.PricingModel, s.PricingCategory, s.PricingType, at
		}
		if s.UserID != "" {
			u.userID = s.UserID
		}
	}
	return ups, skipped
}

// ApplyStatuses applies status events to tn's messages by the rule of the
// package doc and returns the indexes of the statuses that matched none of
// tn's messages (unknown wamid and id, or in a state we do not know):
// the caller keeps those for review. Applying the same statuses again
// changes nothing. PostgreSQL applies the whole batch in one statement;
// SQLite runs one prepared statement per message in one transaction.
func ApplyStatuses(ctx context.Context, tn models.Tenant, sts []Status) (unmatched []int, err error) {
	ups, skipped := merge(sts)
	if len(ups) == 0 {
		return skipped, nil
	}
	now := tn.DB().Now().UTC()
	var matched []bool
	if tn.DB().Dialect == models.Postgres {
		matched, err = applyPG(ctx, tn, ups, now)
	} else {
		matched, err = applySQLite(ctx, tn, ups, now)
	}
	if err != nil {
		return nil, models.Wrap("messages.ApplyStatuses", err)
	}
	unmatched = skipped
	for i, u := range ups {
		if !matched[i] {
			unmatched = append(unmatched, u.idx...)
		}
	}
	return unmatched, nil
}
