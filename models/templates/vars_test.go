package templates_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/optline/optline/models/templates"
)

func TestRender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text string
		values     []string
		want       string
	}{
		{"plain", "Hello there", nil, "Hello there"},
		{"two vars", "Hi {{1}}, your order {{2}} is ready.", []string{"Alex", "#42"}, "Hi Alex, your order #42 is ready."},
		{"missing value stays", "Hi {{1}} and {{2}}!", []string{"Alex"}, "Hi Alex and {{2}}!"},
		{"empty value stays", "Hi {{1}}!", []string{""}, "Hi {{1}}!"},
		{"value with a variable is text", "Hi {{1}}, {{2}}.", []string{"{{2}}", "Bo"}, "Hi {{2}}, Bo."},
		{"go template syntax is text", `A {{env "DATABASE_URL"}} {{.Secret}} {{1}}.`, []string{"x"}, `A {{env "DATABASE_URL"}} {{.Secret}} x.`},
		{"value with go syntax", "Hi {{1}}.", []string{`{{env "X"}}`}, `Hi {{env "X"}}.`},
		{"spaces are no variable", "Hi {{ 1 }}.", []string{"x"}, "Hi {{ 1 }}."},
		{"triple braces", "a {{{1}}} b", []string{"x"}, "a {x} b"},
		{"unclosed", "a {{1 b", []string{"x"}, "a {{1 b"},
		{"zero is no value", "a {{0}} b", []string{"x"}, "a {{0}} b"},
		{"huge number is text", "a {{99999999999999999999}} b", nil, "a {{99999999999999999999}} b"},
		{"html is text", "a {{1}} b", []string{"<script>alert(1)</script>"}, "a <script>alert(1)</script> b"},
		{"repeated", "{{1}}{{1}}", []string{"ab"}, "abab"},
	}
	for _, c := range cases {
		if got := templates.Render(c.text, c.values); got != c.want {
			t.Errorf("%s: Render(%q, %q) = %q, want %q", c.name, c.text, c.values, got, c.want)
		}
	}
}

func TestVars(t *testing.T) {
	t.Parallel()
	cases := map[string][]int{
		"none":                 nil,
		"{{1}} and {{2}}":      {1, 2},
		"{{2}} {{1}}":          {2, 1},
		"{{0}}":                {-1},
		"{{12345}}":            nil,
		"{{1}}{{3}}":           {1, 3},
		`{{env "X"}} {{1}}`:    {1},
		"{{ {{1}} }}":          {1},
		"{{1}}}} {{{{2}}":      {1, 2},
		"{{01}}":               {1},
		"{{1}} {{.Secret}} {{": {1},
	}
	for in, want := range cases {
		if got := templates.Vars(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Vars(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFillMarksValues(t *testing.T) {
	t.Parallel()
	got := templates.Fill("Hi {{1}}, {{2}}", []string{"Alex"})
	want := []templates.Segment{{Text: "Hi "}, {Text: "Alex", Value: true}, {Text: ", "}, {Text: "{{2}}", Missing: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fill = %#v", got)
	}
}

// FuzzTemplateVariables: parsing never loses or invents text, rendering
// with no values gives the text back, and values are substituted once:
// a value is never parsed again.
func FuzzTemplateVariables(f *testing.F) {
	for _, s := range []string{"Hi {{1}}, {{2}}!", `{{env "X"}}`, "{{.Secret}}", "{{{1}}}", "{{0}}", "{{", "}}", "{{1", "{{99999}}", "ä{{1}}ö"} {
		f.Add(s, "{{2}}")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		var joined strings.Builder
		for _, p := range templates.Parse(text) {
			if p.Var == 0 {
				joined.WriteString(p.Text)
			} else {
				joined.WriteString(p.Raw)
				if p.Text != "" {
					t.Fatalf("variable part with text %q", p.Text)
				}
			}
		}
		if joined.String() != text {
			t.Fatalf("parts of %q join to %q", text, joined.String())
		}
		if got := templates.Render(text, nil); got != text {
			t.Fatalf("Render(%q, nil) = %q", text, got)
		}
		n := templates.VarCount(text)
		// The one value in every position: the output is the text with
		// each variable token replaced by the value, exactly once.
		vals := []string{value, value, value, value, value, value, value, value, value}
		out := templates.Render(text, vals)
		want := ""
		for _, p := range templates.Parse(text) {
			switch {
			case p.Var == 0:
				want += p.Text
			case p.Var > 0 && p.Var <= len(vals) && value != "":
				want += value
			default:
				want += p.Raw
			}
		}
		if out != want {
			t.Fatalf("Render(%q, %q) = %q, want %q", text, value, out, want)
		}
		if utf8.ValidString(text) && utf8.ValidString(value) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input")
		}
		_ = n
	})
}
