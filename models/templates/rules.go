package templates

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
)

// The platform's limits (PRODUCT.md, "Message templates").
const (
	NameMax         = 512
	HeaderMax       = 60
	BodyMax         = 1024
	FooterMax       = 60
	ButtonsMax      = 10
	URLButtonsMax   = 2
	PhoneButtonsMax = 1
	ButtonTextMax   = 25
	URLMax          = 2000
	SampleMax       = 200
)

// OptOutText is the opt-out quick reply a marketing template carries by
// default: the customer's "Stop promotions" button.
const OptOutText = "Stop promotions"

// Languages are the platform's template language codes offered.
var Languages = []string{"af", "ar", "bg", "ca", "cs", "da", "de", "el", "en", "en_GB", "en_US",
	"es", "es_AR", "es_ES", "es_MX", "et", "fi", "fil", "fr", "he", "hi", "hr", "hu", "id", "it",
	"ja", "ko", "lt", "lv", "ms", "nb", "nl", "pl", "pt_BR", "pt_PT", "ro", "ru", "sk", "sl", "sr",
	"sv", "th", "tr", "uk", "vi", "zh_CN", "zh_HK", "zh_TW"}

// Categories are the template categories, as the platform names them.
var Categories = []string{channel.CategoryMarketing, channel.CategoryUtility, channel.CategoryAuthentication}

var (
	nameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	e164Re  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	langSet = func() map[string]bool {
		m := map[string]bool{}
		for _, l := range Languages {
			m[l] = true
		}
		return m
	}()
)

// Input is a template as typed into the editor.
type Input struct {
	Name         string
	Language     string
	Category     string
	Header       string
	HeaderSample string
	Body         string
	BodySamples  []string
	Footer       string
	Buttons      []channel.Button
}

func chars(s string) int { return utf8.RuneCountInString(s) }

// normalize trims the input and drops empty button rows.
func (in Input) normalize() Input {
	in.Name = strings.TrimSpace(in.Name)
	in.Language = strings.TrimSpace(in.Language)
	in.Category = strings.ToUpper(strings.TrimSpace(in.Category))
	in.Header = strings.TrimSpace(in.Header)
	in.HeaderSample = strings.TrimSpace(in.HeaderSample)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	in.Footer = strings.TrimSpace(in.Footer)
	if VarCount(in.Header) == 0 {
		in.HeaderSample = ""
	}
	samples := make([]string, len(in.BodySamples))
	for i, s := range in.BodySamples {
		samples[i] = strings.TrimSpace(s)
	}
	// Only as many samples as the body has variables.
	if n := VarCount(in.Body); len(samples) > n {
		samples = samples[:n]
	}
	in.BodySamples = samples
	var buttons []channel.Button
	for _, b := range in.Buttons {
		b.Type = strings.TrimSpace(b.Type)
		b.Text = strings.TrimSpace(b.Text)
		b.URL = strings.TrimSpace(b.URL)
		b.URLSample = strings.TrimSpace(b.URLSample)
		b.Phone = strings.Join(strings.Fields(b.Phone), "")
		if b.Type == "" { // "no button"
			continue
		}
		if b.Type != channel.ButtonURL {
			b.URL, b.URLSample = "", ""
		} else if !strings.HasSuffix(b.URL, "{{1}}") {
			b.URLSample = ""
		}
		if b.Type != channel.ButtonPhone {
			b.Phone = ""
		}
		buttons = append(buttons, b)
	}
	in.Buttons = buttons
	return in
}

// ButtonField is the form field of button i's part (text, url, sample,
// phone, type), as problems name them: "button_2_text".
func ButtonField(i int, part string) string { return "button_" + itoa(i+1) + "_" + part }

// SampleField is the form field of body variable n's sample.
func SampleField(n int) string { return "sample_" + itoa(n) }

// Check applies every platform rule to the input and returns every
// problem at once, each at its field with the reason.
func Check(in Input) error {
	in = in.normalize()
	v := &models.ValidationError{}
	switch {
	case in.Name == "":
		v.Add("name", "templates.name.required")
	case chars(in.Name) > NameMax:
		v.Add("name", "templates.name.too_long", NameMax)
	case !nameRe.MatchString(in.Name):
		v.Add("name", "templates.name.format")
	}
	if !langSet[in.Language] {
		v.Add("language", "templates.language.unknown")
	}
	if !isCategory(in.Category) {
		v.Add("category", "templates.category.unknown")
	}
	checkHeader(v, in)
	checkBody(v, in)
	switch {
	case chars(in.Footer) > FooterMax:
		v.Add("footer", "templates.footer.too_long", FooterMax, chars(in.Footer))
	case VarCount(in.Footer) > 0 || hasStrayBraces(in.Footer):
		v.Add("footer", "templates.footer.variables")
	}
	checkButtons(v, in.Buttons)
	return v.Err()
}

func isCategory(c string) bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

func checkHeader(v *models.ValidationError, in Input) {
	if in.Header == "" {
		return
	}
	vars := Vars(in.Header)
	switch {
	case chars(in.Header) > HeaderMax:
		v.Add("header", "templates.header.too_long", HeaderMax, chars(in.Header))
	case len(vars) > 1:
		v.Add("header", "templates.header.one_variable")
	case len(vars) == 1 && vars[0] != 1:
		v.Add("header", "templates.header.variable_one")
	case hasStrayBraces(in.Header):
		v.Add("header", "templates.braces")
	case len(vars) == 1 && in.HeaderSample == "":
		v.Add("header_sample", "templates.sample.required", "{{1}}")
	case chars(in.HeaderSample) > SampleMax:
		v.Add("header_sample", "templates.sample.too_long", SampleMax)
	}
}

func checkBody(v *models.ValidationError, in Input) {
	if in.Body == "" {
		v.Add("body", "templates.body.required")
		return
	}
	if n := chars(in.Body); n > BodyMax {
		v.Add("body", "templates.body.too_long", BodyMax, n)
		return
	}
	if hasStrayBraces(in.Body) {
		v.Add("body", "templates.braces")
		return
	}
	vars := Vars(in.Body)
	for i, n := range vars {
		if n != i+1 {
			v.Add("body", "templates.body.order", i+1, "{{"+itoa(i+1)+"}}")
			return
		}
	}
	if len(vars) == 0 {
		return
	}
	parts := Parse(in.Body)
	if parts[0].Var != 0 {
		v.Add("body", "templates.body.starts_with_variable")
		return
	}
	if parts[len(parts)-1].Var != 0 {
		v.Add("body", "templates.body.ends_with_variable")
		return
	}
	for i := range vars {
		s := ""
		if i < len(in.BodySamples) {
			s = in.BodySamples[i]
		}
		switch {
		case s == "":
			v.Add(SampleField(i+1), "templates.sample.required", "{{"+itoa(i+1)+"}}")
		case chars(s) > SampleMax:
			v.Add(SampleField(i+1), "templates.sample.too_long", SampleMax)
		}
	}
}

func checkButtons(v *models.ValidationError, buttons []channel.Button) {
	if len(buttons) > ButtonsMax {
		v.Add("buttons", "templates.buttons.too_many", ButtonsMax)
	}
	urls, phones := 0, 0
	for i, b := range buttons {
		switch {
		case b.Text == "":
			v.Add(ButtonField(i, "text"), "templates.button.text_required")
		case chars(b.Text) > ButtonTextMax:
			v.Add(ButtonField(i, "text"), "templates.button.text_too_long", ButtonTextMax, chars(b.Text))
		case VarCount(b.Text) > 0 || hasStrayBraces(b.Text):
			v.Add(ButtonField(i, "text"), "templates.button.text_variables")
		}
		switch b.Type {
		case channel.ButtonQuickReply:
		case channel.ButtonURL:
			urls++
			if urls > URLButtonsMax {
				v.Add(ButtonField(i, "type"), "templates.button.too_many_urls", URLButtonsMax)
			}
			checkURL(v, i, b)
		case channel.ButtonPhone:
			phones++
			if phones > PhoneButtonsMax {
				v.Add(ButtonField(i, "type"), "templates.button.too_many_phones", PhoneButtonsMax)
			}
			if !e164Re.MatchString(b.Phone) {
				v.Add(ButtonField(i, "phone"), "templates.button.phone")
			}
		default:
			v.Add(ButtonField(i, "type"), "templates.button.type")
		}
	}
}

func checkURL(v *models.ValidationError, i int, b channel.Button) {
	f := ButtonField(i, "url")
	if b.URL == "" {
		v.Add(f, "templates.button.url_required")
		return
	}
	if chars(b.URL) > URLMax {
		v.Add(f, "templates.button.url_too_long", URLMax)
		return
	}
	base, suffix := b.URL, strings.HasSuffix(b.URL, "{{1}}")
	if suffix {
		base = strings.TrimSuffix(b.URL, "{{1}}")
	}
	if VarCount(base) > 0 || hasStrayBraces(base) {
		v.Add(f, "templates.button.url_variable")
		return
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.Add(f, "templates.button.url_scheme")
		return
	}
	if suffix && b.URLSample == "" {
		v.Add(ButtonField(i, "sample"), "templates.sample.required", "{{1}}")
	}
}

// OptOutMissing reports a marketing template without the opt-out quick
// reply: allowed, but the editor warns (customers who cannot stop
// promotions block the business, which lowers its quality).
func OptOutMissing(in Input) bool {
	in = in.normalize()
	if in.Category != channel.CategoryMarketing {
		return false
	}
	for _, b := range in.Buttons {
		if b.Type == channel.ButtonQuickReply && strings.EqualFold(b.Text, OptOutText) {
			return false
		}
	}
	return true
}
