package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// What is kept for review is valid text within its column, however the
// platform's (or anyone's) bytes were cut.
func TestTruncateKeepsValidText(t *testing.T) {
	for _, in := range []string{strings.Repeat("ä", 300), "wamid.\x00abc", "bad\xffbytes" + strings.Repeat("€", 200)} {
		got := truncate(in, 64)
		if len(got) > 64 || !utf8.ValidString(got) || strings.Contains(got, "\x00") {
			t.Errorf("truncate(%q) = %q", in[:10], got)
		}
	}
	if got := truncate("4915100000000", 64); got != "4915100000000" {
		t.Errorf("short text changed: %q", got)
	}
}
