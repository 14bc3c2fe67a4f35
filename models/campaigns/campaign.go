package campaigns

import (
	"database/sql/driver"
	"encoding/json"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// Campaign states (see the package doc).
const (
	Draft     = "draft"
	Scheduled = "scheduled"
	Sending   = "sending"
	Paused    = "paused"
	Done      = "done"
	Cancelled = "cancelled"
)

// Fit modes: what to do when the audience does not fit the messaging
// tier's headroom or the month's budget.
const (
	FitRefuse  = "refuse"  // do not send; say by how much it is over
	FitPartial = "partial" // send to as many as fit; list who was left out
)

// Variable sources.
const (
	SourceField = "field" // a contact field: name, first_name, last_name, phone, email, language
	SourceAttr  = "attr"  // a custom attribute, by key
	SourceText  = "text"  // a fixed text
)

// ContactFields are the contact fields a variable may take.
var ContactFields = []string{"first_name", "last_name", "name", "phone", "email", "language"}

// Var fills one template variable: from a contact field, a custom
// attribute or a fixed text, with Fallback when the contact lacks the
// value. Part is "header", "body" or "url" (a URL button's suffix); N is
// the variable's number ({{N}}) or, for "url", the button's index.
type Var struct {
	Part     string `json:"part"`
	N        int    `json:"n"`
	Source   string `json:"source"`
	Key      string `json:"key"` // field name, attribute key or the fixed text
	Fallback string `json:"fallback"`
}

// Mapping is how a campaign fills its template's variables.
type Mapping []Var

// Value stores a mapping as JSON text.
func (m Mapping) Value() (driver.Value, error) {
	if m == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Var(m))
	return string(b), models.Wrap("Mapping.Value", err)
}

// Scan reads a mapping from JSON text.
func (m *Mapping) Scan(v any) error { return scanJSON(v, (*[]Var)(m)) }

// IDList is a list of ids stored as JSON text.
type IDList []int64

// Value stores the list as JSON text.
func (l IDList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]int64(l))
	return string(b), models.Wrap("IDList.Value", err)
}

// Scan reads the list from JSON text.
func (l *IDList) Scan(v any) error { return scanJSON(v, (*[]int64)(l)) }

func scanJSON(v any, into any) error {
	var b []byte
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(t)
	case []byte:
		b = t
	default:
		return models.Wrap("campaigns.scan", models.ErrNotFound)
	}
	if len(b) == 0 {
		return nil
	}
	return models.Wrap("campaigns.scan", json.Unmarshal(b, into))
}

// Campaign is one campaign (table campaigns, schema 17).
type Campaign struct {
	ID               int64
	BusinessID       int64
	Name             string
	TemplateID       int64
	TemplateName     string
	TemplateLanguage string
	Category         string // the template's category when composed (MARKETING, UTILITY, AUTHENTICATION)
	Mapping          Mapping
	SegmentIDs       IDList
	AllContacts      bool
	ExcludeSegmentID *int64
	SkipLandlines    bool
	FitMode          string
	State            string
	StateReason      string
	TimeZone         string // IANA name, the business's when composed
	ScheduledAt      *time.Time
	// WindowStart and WindowEnd are minutes after midnight in TimeZone
	// (e.g. 540 and 1200 for 09:00–20:00); both nil: no window.
	WindowStart *int
	WindowEnd   *int
	Recipients  int // messages frozen
	LeftOut     int // recipients left out to fit the tier or budget
	Estimate    decimal.NullDecimal
	Currency    string
	FrozenAt    *time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	CancelledAt *time.Time
	LeaseToken  *string
	HeartbeatAt *time.Time
	CreatedByID *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName is the campaigns table.
func (Campaign) TableName() string { return "campaigns" }

// Active reports whether the campaign is confirmed and not over.
func (c *Campaign) Active() bool {
	return c.State == Scheduled || c.State == Sending || c.State == Paused
}

// Over reports whether the campaign is done or cancelled.
func (c *Campaign) Over() bool { return c.State == Done || c.State == Cancelled }

// Location is the campaign's time zone (UTC when the name is unknown).
func (c *Campaign) Location() *time.Location {
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// InWindow reports whether t falls inside the campaign's send window (in
// its time zone) and, when it does not, when the window next opens. A
// window whose end is before its start runs over midnight (22:00–06:00).
// Without a window every time is inside.
func (c *Campaign) InWindow(t time.Time) (in bool, opens time.Time) {
	if c.WindowStart == nil || c.WindowEnd == nil || *c.WindowStart == *c.WindowEnd {
		return true, t
	}
	loc := c.Location()
	lt := t.In(loc)
	minute := lt.Hour()*60 + lt.Minute()
	start, end := *c.WindowStart, *c.WindowEnd
	if start < end {
		in = minute >= start && minute < end
	} else {
		in = minute >= start || minute < end
	}
	if in {
		return true, t
	}
	// The next opening: today's start if still ahead, else tomorrow's
	// (by the calendar, so a DST change keeps the wall-clock time).
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	open := time.Date(day.Year(), day.Month(), day.Day(), start/60, start%60, 0, 0, loc)
	if !open.After(t) {
		open = time.Date(day.Year(), day.Month(), day.Day()+1, start/60, start%60, 0, 0, loc)
	}
	return false, open
}

// Render fills the template's variables for one recipient, as plain
// text: header, body (by variable number, 1-based, so body[0] is {{1}})
// and URL button suffixes by button index. A value the contact lacks
// takes the variable's fallback; missing reports the variables that had
// neither (the message cannot be sent as composed).
func (m Mapping) Render(r contacts.Recipient) (header, body []string, urls map[int]string, missing []Var) {
	for _, v := range m {
		val := strings.TrimSpace(v.value(r))
		if val == "" {
			val = strings.TrimSpace(v.Fallback)
		}
		if val == "" {
			missing = append(missing, v)
		}
		switch v.Part {
		case "header":
			header = place(header, v.N, val)
		case "body":
			body = place(body, v.N, val)
		case "url":
			if urls == nil {
				urls = map[int]string{}
			}
			urls[v.N] = val
		}
	}
	return header, body, urls, missing
}

func place(list []string, n int, val string) []string {
	if n < 1 {
		return list
	}
	for len(list) < n {
		list = append(list, "")
	}
	list[n-1] = val
	return list
}

func (v Var) value(r contacts.Recipient) string {
	switch v.Source {
	case SourceText:
		return v.Key
	case SourceAttr:
		return r.Attrs[v.Key]
	case SourceField:
		switch v.Key {
		case "first_name":
			return r.FirstName
		case "last_name":
			return r.LastName
		case "name":
			return r.Name
		case "phone":
			return r.Phone
		case "email":
			return r.Email
		case "language":
			return r.Language
		}
	}
	return ""
}
