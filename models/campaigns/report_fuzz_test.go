package campaigns_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/optline/optline/models/campaigns"
)

// FuzzMessageQuery: whatever is typed into the message list's search (LIKE
// wildcards, quotes, backslashes, any bytes), the query runs, and every
// row it returns matches what was typed: the contact's name contains it
// (ASCII case folded), or it is a number and the phone contains its
// digits.
func FuzzMessageQuery(f *testing.F) {
	for _, q := range []string{"anna", "%", "_", `\`, "'", "0000 0012", "+49", "A%n_a", "é", "\x00", "Ben Read"} {
		f.Add(q)
	}
	// One campaign for every input (each fuzzing process seeds its own).
	s, _ := newSeed(f, "Fuzz")
	c, _ := s.full()
	f.Fuzz(func(t *testing.T, q string) {
		rows, _, err := campaigns.Messages(s.ctx, s.tn, c.ID, campaigns.MessageFilter{Query: q})
		if err != nil {
			t.Fatalf("query %q: %v", q, err)
		}
		tq := campaigns.CleanQuery(q)
		if strings.ContainsFunc(tq, func(r rune) bool { return r < 0x20 || r == utf8.RuneError }) {
			t.Fatalf("CleanQuery(%q) = %q", q, tq)
		}
		if tq == "" {
			if len(rows) != 14 {
				t.Fatalf("empty query: %d rows", len(rows))
			}
			return
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, tq)
		isNumber := digits != "" && strings.Trim(tq, "0123456789+-() ") == ""
		for _, r := range rows {
			byName := strings.Contains(strings.ToLower(r.ContactName), strings.ToLower(tq))
			byPhone := isNumber && strings.Contains(r.Phone, digits)
			if !byName && !byPhone {
				t.Fatalf("query %q returned %q %s", q, r.ContactName, r.Phone)
			}
		}
	})
}
