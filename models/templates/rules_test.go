package templates_test

import (
	"strings"
	"testing"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/templates"
)

func good() templates.Input {
	return templates.Input{Name: "spring_offer", Language: "de", Category: channel.CategoryMarketing,
		Header: "Hello {{1}}", HeaderSample: "Alex",
		Body: "Hi {{1}}, your code {{2}} is valid today.", BodySamples: []string{"Alex", "SPRING"},
		Footer: "Reply STOP to opt out",
		Buttons: []channel.Button{{Type: channel.ButtonQuickReply, Text: templates.OptOutText},
			{Type: channel.ButtonURL, Text: "Shop", URL: "https://shop.example/o/{{1}}", URLSample: "42"},
			{Type: channel.ButtonPhone, Text: "Call us", Phone: "+49 30 1234567"}}}
}

// problems is field → key of Check's result.
func problems(t *testing.T, in templates.Input) map[string]string {
	t.Helper()
	err := templates.Check(in)
	out := map[string]string{}
	if err == nil {
		return out
	}
	v, ok := models.AsValidation(err)
	if !ok {
		t.Fatalf("not a validation error: %v", err)
	}
	for _, p := range v.Problems {
		out[p.Field] = p.Key
	}
	return out
}

func TestCheckEveryLimit(t *testing.T) {
	t.Parallel()
	if p := problems(t, good()); len(p) != 0 {
		t.Fatalf("good template refused: %v", p)
	}
	buttons := func(bs ...channel.Button) []channel.Button { return bs }
	qr := func(s string) channel.Button { return channel.Button{Type: channel.ButtonQuickReply, Text: s} }
	link := channel.Button{Type: channel.ButtonURL, Text: "Go", URL: "https://a.example/"}
	cases := []struct {
		name       string
		edit       func(*templates.Input)
		field, key string
	}{
		{"name required", func(in *templates.Input) { in.Name = "" }, "name", "templates.name.required"},
		{"name upper case", func(in *templates.Input) { in.Name = "Spring" }, "name", "templates.name.format"},
		{"name starts with digit", func(in *templates.Input) { in.Name = "1offer" }, "name", "templates.name.format"},
		{"name with dash", func(in *templates.Input) { in.Name = "a-b" }, "name", "templates.name.format"},
		{"name too long", func(in *templates.Input) { in.Name = "a" + strings.Repeat("b", 512) }, "name", "templates.name.too_long"},
		{"language unknown", func(in *templates.Input) { in.Language = "xx" }, "language", "templates.language.unknown"},
		{"category unknown", func(in *templates.Input) { in.Category = "PROMO" }, "category", "templates.category.unknown"},
		{"header too long", func(in *templates.Input) { in.Header = strings.Repeat("h", 61) }, "header", "templates.header.too_long"},
		{"header two variables", func(in *templates.Input) { in.Header = "{{1}} {{2}}" }, "header", "templates.header.one_variable"},
		{"header variable 2", func(in *templates.Input) { in.Header = "Hi {{2}}" }, "header", "templates.header.variable_one"},
		{"header sample", func(in *templates.Input) { in.HeaderSample = "" }, "header_sample", "templates.sample.required"},
		{"body required", func(in *templates.Input) { in.Body = "  " }, "body", "templates.body.required"},
		{"body too long", func(in *templates.Input) { in.Body = "a" + strings.Repeat("é", 1024) }, "body", "templates.body.too_long"},
		{"body gap", func(in *templates.Input) { in.Body = "Hi {{1}} and {{3}}." }, "body", "templates.body.order"},
		{"body out of order", func(in *templates.Input) { in.Body = "Hi {{2}} and {{1}}." }, "body", "templates.body.order"},
		{"body from 0", func(in *templates.Input) { in.Body = "Hi {{0}}." }, "body", "templates.body.order"},
		{"body starts with var", func(in *templates.Input) { in.Body = "{{1}}, hi {{2}}." }, "body", "templates.body.starts_with_variable"},
		{"body ends with var", func(in *templates.Input) { in.Body = "Hi {{1}}, code {{2}}" }, "body", "templates.body.ends_with_variable"},
		{"body variable with leading zero", func(in *templates.Input) { in.Body = "Hi {{01}}, code {{2}}." }, "body", "templates.braces"},
		{"body go template", func(in *templates.Input) { in.Body = `Hi {{env "DATABASE_URL"}}.` }, "body", "templates.braces"},
		{"body sample missing", func(in *templates.Input) { in.BodySamples = []string{"Alex", " "} }, "sample_2", "templates.sample.required"},
		{"footer too long", func(in *templates.Input) { in.Footer = strings.Repeat("f", 61) }, "footer", "templates.footer.too_long"},
		{"footer variable", func(in *templates.Input) { in.Footer = "Bye {{1}}" }, "footer", "templates.footer.variables"},
		{"eleven buttons", func(in *templates.Input) {
			in.Buttons = nil
			for i := 0; i < 11; i++ {
				in.Buttons = append(in.Buttons, qr("Yes"))
			}
		}, "buttons", "templates.buttons.too_many"},
		{"three urls", func(in *templates.Input) { in.Buttons = buttons(link, link, link) }, "button_3_type", "templates.button.too_many_urls"},
		{"two phones", func(in *templates.Input) {
			p := channel.Button{Type: channel.ButtonPhone, Text: "Call", Phone: "+4930123456"}
			in.Buttons = buttons(p, p)
		}, "button_2_type", "templates.button.too_many_phones"},
		{"phone not e164", func(in *templates.Input) {
			in.Buttons = buttons(channel.Button{Type: channel.ButtonPhone, Text: "Call", Phone: "030 123456"})
		}, "button_1_phone", "templates.button.phone"},
		{"button text too long", func(in *templates.Input) { in.Buttons = buttons(qr(strings.Repeat("q", 26))) }, "button_1_text", "templates.button.text_too_long"},
		{"button text required", func(in *templates.Input) {
			in.Buttons = buttons(channel.Button{Type: channel.ButtonURL, URL: "https://a.example/"})
		}, "button_1_text", "templates.button.text_required"},
		{"url scheme", func(in *templates.Input) {
			in.Buttons = buttons(channel.Button{Type: channel.ButtonURL, Text: "Go", URL: "javascript:alert(1)"})
		}, "button_1_url", "templates.button.url_scheme"},
		{"url variable not at end", func(in *templates.Input) {
			in.Buttons = buttons(channel.Button{Type: channel.ButtonURL, Text: "Go", URL: "https://a.example/{{1}}/x"})
		}, "button_1_url", "templates.button.url_variable"},
		{"url sample", func(in *templates.Input) {
			in.Buttons = buttons(channel.Button{Type: channel.ButtonURL, Text: "Go", URL: "https://a.example/{{1}}"})
		}, "button_1_sample", "templates.sample.required"},
		{"button type", func(in *templates.Input) { in.Buttons = buttons(channel.Button{Type: "COPY", Text: "x"}) }, "button_1_type", "templates.button.type"},
	}
	for _, c := range cases {
		in := good()
		c.edit(&in)
		p := problems(t, in)
		if p[c.field] != c.key {
			t.Errorf("%s: problems %v, want %s at %s", c.name, p, c.key, c.field)
		}
	}
}

func TestCheckMessagesExist(t *testing.T) {
	t.Parallel()
	// Every key Check can give has a sentence in the catalogue.
	for _, k := range []string{"templates.name.required", "templates.name.format", "templates.name.too_long", "templates.name.taken",
		"templates.language.unknown", "templates.category.unknown", "templates.header.too_long", "templates.header.one_variable",
		"templates.header.variable_one", "templates.sample.required", "templates.sample.too_long", "templates.body.required",
		"templates.body.too_long", "templates.body.order", "templates.body.starts_with_variable", "templates.body.ends_with_variable",
		"templates.braces", "templates.footer.too_long", "templates.footer.variables", "templates.buttons.too_many",
		"templates.button.too_many_urls", "templates.button.too_many_phones", "templates.button.phone", "templates.button.text_too_long",
		"templates.button.text_required", "templates.button.text_variables", "templates.button.url_scheme", "templates.button.url_variable",
		"templates.button.url_required", "templates.button.url_too_long", "templates.button.type", "templates.not_editable",
		"templates.not_submittable", "templates.submit.no_channel", "templates.submit.no_sender", "templates.submit.failed",
		"templates.submit.config"} {
		if !hasKey(k) {
			t.Errorf("no message for %s", k)
		}
	}
}

func TestOptOutMissing(t *testing.T) {
	t.Parallel()
	in := templates.NewInput("")
	if in.Category != channel.CategoryMarketing || len(in.Buttons) != 1 || in.Buttons[0].Text != templates.OptOutText {
		t.Fatalf("new marketing template without the opt-out button: %+v", in)
	}
	if templates.OptOutMissing(in) {
		t.Error("warned with the opt-out button present")
	}
	in.Buttons = nil
	if !templates.OptOutMissing(in) {
		t.Error("no warning without the opt-out button")
	}
	in.Category = channel.CategoryUtility
	if templates.OptOutMissing(in) || len(templates.NewInput(channel.CategoryUtility).Buttons) != 0 {
		t.Error("utility templates need no opt-out")
	}
}

func hasKey(k string) bool { return i18n.Default.Has(k) }
