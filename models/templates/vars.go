package templates

import (
	"strconv"
	"strings"
)

// Part is one piece of template text: literal text, or a variable
// written {{n}} (Var > 0 is n; Raw is the token as written).
type Part struct {
	Text string
	Var  int
	Raw  string
}

// maxVarDigits bounds the digits of a variable's number: {{123456}} is
// text to the parser, never a number that overflows.
const maxVarDigits = 4

// Parse splits template text into literal text and variables. Only
// {{digits}} with no spaces is a variable (the platform's only form);
// everything else — {{ 1 }}, {{.Secret}}, {{env "X"}}, an unclosed {{ —
// is literal text. There is no template language behind it: parsing
// never evaluates anything.
func Parse(s string) []Part {
	var parts []Part
	text := func(t string) {
		if t == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Var == 0 {
			parts[n-1].Text += t
			return
		}
		parts = append(parts, Part{Text: t})
	}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			text(s)
			return parts
		}
		j := i + 2
		for j < len(s) && j-i-2 < maxVarDigits+1 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		digits := s[i+2 : j]
		if digits == "" || len(digits) > maxVarDigits || !strings.HasPrefix(s[j:], "}}") {
			// Not a variable: keep "{{" as text and go on after it, so
			// "{{{1}}" still finds the variable inside.
			text(s[:i+1])
			s = s[i+1:]
			continue
		}
		text(s[:i])
		n, _ := strconv.Atoi(digits)
		raw := s[i : j+2]
		if n == 0 {
			// {{0}} is no variable of the platform; the rules refuse it.
			parts = append(parts, Part{Var: -1, Raw: raw})
		} else {
			parts = append(parts, Part{Var: n, Raw: raw})
		}
		s = s[j+2:]
	}
}

// Vars lists the variables of s in the order they appear (-1 for {{0}}).
func Vars(s string) []int {
	var out []int
	for _, p := range Parse(s) {
		if p.Var != 0 {
			out = append(out, p.Var)
		}
	}
	return out
}

// VarCount is the number of variables in s.
func VarCount(s string) int { return len(Vars(s)) }

// Segment is a piece of rendered text: literal template text, or a
// variable's value (Value), or a variable without a value (Missing, Text
// is then the token as written).
type Segment struct {
	Text    string
	Value   bool
	Missing bool
}

// Fill substitutes values into s once: {{n}} becomes values[n-1]. Values
// are plain text, never parsed again, so a value "{{2}}" stays "{{2}}";
// a variable without a (non-empty) value stays as written. Escaping is
// the renderer's business (templ escapes text).
func Fill(s string, values []string) []Segment {
	parts := Parse(s)
	out := make([]Segment, 0, len(parts))
	for _, p := range parts {
		switch {
		case p.Var == 0:
			out = append(out, Segment{Text: p.Text})
		case p.Var > 0 && p.Var <= len(values) && values[p.Var-1] != "":
			out = append(out, Segment{Text: values[p.Var-1], Value: true})
		default:
			out = append(out, Segment{Text: p.Raw, Missing: true})
		}
	}
	return out
}

// Render is Fill joined into one string (campaign sends, plain-text
// previews).
func Render(s string, values []string) string {
	var b strings.Builder
	for _, seg := range Fill(s, values) {
		b.WriteString(seg.Text)
	}
	return b.String()
}

// hasStrayBraces reports "{{" or "}}" left in the text parts of s: braces
// that are not a variable, which the platform refuses (INVALID_FORMAT).
// A variable written with leading zeros ({{01}}) counts too: the
// platform knows only {{1}}.
func hasStrayBraces(s string) bool {
	for _, p := range Parse(s) {
		if p.Var == 0 && (strings.Contains(p.Text, "{{") || strings.Contains(p.Text, "}}")) {
			return true
		}
		if p.Var > 0 && p.Raw != "{{"+strconv.Itoa(p.Var)+"}}" {
			return true
		}
	}
	return false
}
