package campaigns

import (
	"context"
	"errors"
	"strings"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// Exclusion reasons, in the order a contact is judged: each excluded
// contact is counted once, under the first reason that applies.
const (
	ExcludedSegment    = "excluded_segment" // a member of the exclusion segment
	ExcludedLandline   = "landline"         // a likely landline, and the campaign skips them
	ExcludedOptedOut   = "opted_out"        // the contact opted out
	ExcludedNoConsent  = "no_consent"       // no opt-in recorded
	ExcludedSuppressed = "suppressed"       // the number is on the suppression list
	ExcludedMissing    = "missing_variable" // a variable has neither a value nor a fallback
)

// ExclusionReasons lists the reasons in the order they are judged.
var ExclusionReasons = []string{ExcludedSegment, ExcludedLandline, ExcludedOptedOut, ExcludedNoConsent, ExcludedSuppressed, ExcludedMissing}

// Count is the audience's figures: Candidates are the contacts the
// campaign picked (members of any of its segments' tag rules, or every
// contact), Recipients those it is sent to, Excluded the others by reason
// (every reason listed, zero or not; they add up to Candidates −
// Recipients).
type Count struct {
	Candidates int
	Recipients int
	Excluded   []Exclusion
}

// Exclusion is how many candidates one reason left out.
type Exclusion struct {
	Reason string
	N      int
}

// Audience resolves the campaign's segment ids to their rules.
func (c *Campaign) Audience(ctx context.Context, tn models.Tenant) (contacts.Audience, error) {
	a := contacts.Audience{All: c.AllContacts, SkipLandlines: c.SkipLandlines}
	if !c.AllContacts {
		for _, id := range c.SegmentIDs {
			s, err := contacts.SegmentByID(ctx, tn, id)
			if errors.Is(err, models.ErrNotFound) {
				return a, models.Invalid("audience", "campaign.audience.segment_gone")
			}
			if err != nil {
				return a, models.Wrap("campaigns.Audience", err)
			}
			a.Segments = append(a.Segments, s.Rule())
		}
	}
	if c.ExcludeSegmentID != nil {
		s, err := contacts.SegmentByID(ctx, tn, *c.ExcludeSegmentID)
		if errors.Is(err, models.ErrNotFound) {
			return a, models.Invalid("exclude_segment_id", "campaign.exclude.unknown")
		}
		if err != nil {
			return a, models.Wrap("campaigns.Audience", err)
		}
		r := s.Rule()
		a.Exclude = &r
	}
	return a, nil
}

// suppressedCond is the condition on contacts aliased c of being on the
// business's suppression list (as in contacts' messageable rule).
const suppressedCond = "EXISTS (SELECT 1 FROM suppressions s WHERE s.business_id = c.business_id AND s.phone_hash = c.phone_hash)"

// MissingWhere is the condition on contacts aliased c that some variable
// of the mapping has neither a value nor a fallback for the contact:
// such a contact cannot be sent the message as composed. It is how
// CountAudience counts "missing_variable", how Previews and EstimateCost
// leave such contacts out, and what Freeze uses to skip them (skip_reason
// "missing_variable"), so all four agree. "1=0" when no variable can be
// missing. Blank means empty after trimming spaces, tabs and line breaks
// (Mapping.Render trims the same way).
func (m Mapping) MissingWhere(d models.Dialect) (string, []any) {
	var conds []string
	var args []any
	for _, v := range m {
		if strings.TrimSpace(v.Fallback) != "" {
			continue
		}
		var expr string
		switch v.Source {
		case SourceText:
			if strings.TrimSpace(v.Key) != "" {
				continue
			}
			conds = append(conds, "1=1")
			continue
		case SourceField:
			switch v.Key {
			case "first_name", "last_name", "name", "phone", "email", "language":
				expr = "c." + v.Key
			default:
				conds = append(conds, "1=1")
				continue
			}
		case SourceAttr:
			if !contacts.ValidAttrKey(v.Key) {
				conds = append(conds, "1=1")
				continue
			}
			// The key is [a-z][a-z0-9_]*: safe in a JSON path, and bound.
			if d == models.Postgres {
				expr = "(c.attrs ->> ?)"
				args = append(args, v.Key)
			} else {
				expr = "json_extract(c.attrs, ?)"
				args = append(args, "$."+v.Key)
			}
		default:
			conds = append(conds, "1=1")
			continue
		}
		if d == models.Postgres {
			conds = append(conds, "BTRIM(COALESCE("+expr+", ''), ' '||chr(9)||chr(10)||chr(13)) = ''")
		} else {
			conds = append(conds, "TRIM(COALESCE("+expr+", ''), ' '||char(9)||char(10)||char(13)) = ''")
		}
	}
	if len(conds) == 0 {
		return "1=0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// sqlCond is one SQL condition with its arguments.
type sqlCond struct {
	sql  string
	args []any
}

func (s sqlCond) and(o sqlCond) sqlCond {
	return sqlCond{"(" + s.sql + ") AND (" + o.sql + ")", append(append([]any{}, s.args...), o.args...)}
}

func (s sqlCond) not() sqlCond { return sqlCond{"NOT (" + s.sql + ")", s.args} }

// conds are the campaign's audience conditions on contacts aliased c
// (none scoped to the business: the caller adds c.business_id).
type conds struct {
	picked    sqlCond // candidates: the segments' tag rules (or every contact)
	excluded  sqlCond // a member of the exclusion segment's tag rule
	landline  sqlCond // a landline the campaign skips
	missing   sqlCond // a variable without value or fallback
	recipient sqlCond // who is sent to: members (Audience.Where) with every variable
}

func (c *Campaign) conds(ctx context.Context, tn models.Tenant) (conds, error) {
	a, err := c.Audience(ctx, tn)
	if err != nil {
		return conds{}, err
	}
	var out conds
	pick := a
	pick.Exclude, pick.SkipLandlines = nil, false
	cand, _, args := pick.Where()
	out.picked = sqlCond{cand, args}
	out.excluded = sqlCond{"1=0", nil}
	if a.Exclude != nil {
		ex, _, eargs := contacts.Audience{Segments: []contacts.SegmentRule{*a.Exclude}}.Where()
		out.excluded = sqlCond{ex, eargs}
	}
	out.landline = sqlCond{"1=0", nil}
	if a.SkipLandlines {
		out.landline = sqlCond{"c.landline", nil}
	}
	ms, margs := c.Mapping.MissingWhere(tn.DB().Dialect)
	out.missing = sqlCond{ms, margs}
	_, members, margs2 := a.Where()
	out.recipient = sqlCond{members, margs2}.and(out.missing.not())
	return out, nil
}

// RecipientWhere is the condition on contacts aliased c of being one of
// the campaign's recipients now: a member of its audience
// (contacts.Audience.Where) with a value or fallback for every variable.
// The caller adds c.business_id = ?.
func (c *Campaign) RecipientWhere(ctx context.Context, tn models.Tenant) (string, []any, error) {
	k, err := c.conds(ctx, tn)
	if err != nil {
		return "", nil, models.Wrap("campaigns.RecipientWhere", err)
	}
	return k.recipient.sql, k.recipient.args, nil
}

// CountAudience counts the campaign's audience right now in one pass
// over the picked contacts: how many it picked, how many it would be sent
// to, and every exclusion by its first reason (ExclusionReasons order).
func CountAudience(ctx context.Context, tn models.Tenant, c *Campaign) (Count, error) {
	if err := tn.Check(); err != nil {
		return Count{}, err
	}
	k, err := c.conds(ctx, tn)
	if err != nil {
		return Count{}, models.Wrap("campaigns.CountAudience", err)
	}
	// Each CASE tests the reasons in order; the first that applies wins.
	var args []any
	args = append(args, k.excluded.args...)
	args = append(args, k.landline.args...)
	args = append(args, k.missing.args...)
	reason := "CASE WHEN " + k.excluded.sql + " THEN 1" +
		" WHEN " + k.landline.sql + " THEN 2" +
		" WHEN c.consent_state = 'opted_out' THEN 3" +
		" WHEN c.consent_state <> 'opted_in' THEN 4" +
		" WHEN " + suppressedCond + " THEN 5" +
		" WHEN " + k.missing.sql + " THEN 6 ELSE 0 END"
	args = append(args, tn.BusinessID())
	args = append(args, k.picked.args...)
	q := "SELECT r, COUNT(*) FROM (SELECT " + reason + " AS r FROM contacts c WHERE c.business_id = ? AND " + k.picked.sql + ") x GROUP BY r"
	rows, err := tn.Gorm(ctx).Raw(q, args...).Rows()
	if err != nil {
		return Count{}, models.Wrap("campaigns.CountAudience", err)
	}
	defer rows.Close()
	by := make([]int, len(ExclusionReasons)+1)
	for rows.Next() {
		var r, n int
		if err := rows.Scan(&r, &n); err != nil {
			return Count{}, models.Wrap("campaigns.CountAudience", err)
		}
		if r >= 0 && r < len(by) {
			by[r] = n
		}
	}
	if err := rows.Err(); err != nil {
		return Count{}, models.Wrap("campaigns.CountAudience", err)
	}
	out := Count{Recipients: by[0]}
	out.Candidates = by[0]
	for i, reason := range ExclusionReasons {
		out.Excluded = append(out.Excluded, Exclusion{Reason: reason, N: by[i+1]})
		out.Candidates += by[i+1]
	}
	return out, nil
}

// ExcludedBy is the count of one reason.
func (c Count) ExcludedBy(reason string) int {
	for _, e := range c.Excluded {
		if e.Reason == reason {
			return e.N
		}
	}
	return 0
}
