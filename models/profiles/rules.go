package profiles

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/optline/optline/models"
)

// The platform's profile limits (PRODUCT.md), in characters.
const (
	DisplayNameMin  = 3
	DisplayNameMax  = 64
	AboutMax        = 139
	AddressMax      = 256
	DescriptionMax  = 512
	ProfileEmailMax = 128
	WebsiteMax      = 256
	MaxWebsites     = 2
)

// Verticals are the platform's business categories, in its order.
var Verticals = []string{"UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE",
	"GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT", "NOT_A_BIZ"}

func validVertical(v string) bool {
	for _, x := range Verticals {
		if x == v {
			return true
		}
	}
	return false
}

var spaces = regexp.MustCompile(`[ \t]+`)

// cleanLine trims and collapses runs of spaces.
func cleanLine(s string) string { return spaces.ReplaceAllString(strings.TrimSpace(s), " ") }

// cleanText trims and normalises line ends of a multi-line text.
func cleanText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
}

// checkText adds a problem when s is not clean text or longer than max
// characters. Keys are prefix+".too_long" (args: max, actual) and the
// shared field.invalid_text / field.control_chars.
func checkText(v *models.ValidationError, field, prefix, s string, max int, multiline bool) bool {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "field.invalid_text")
	case hasBadChars(s, multiline):
		v.Add(field, "field.control_chars")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, prefix+".too_long", max, utf8.RuneCountInString(s))
	default:
		return true
	}
	return false
}

func hasBadChars(s string, multiline bool) bool {
	if multiline {
		s = strings.ReplaceAll(s, "\n", "")
	}
	return models.HasControlChars(s)
}

// Words that may not make up a display name on their own.
var genericWords = map[string]bool{
	"shop": true, "store": true, "business": true, "company": true, "restaurant": true, "cafe": true, "café": true,
	"bakery": true, "bar": true, "hotel": true, "bank": true, "pharmacy": true, "news": true, "support": true,
	"help": true, "service": true, "services": true, "customer": true, "care": true, "info": true, "sales": true,
	"delivery": true, "food": true, "pizza": true, "taxi": true, "doctor": true, "clinic": true, "salon": true,
	"the": true, "and": true, "&": true, "online": true, "official": true, "team": true, "whatsapp": true,
	"marketing": true, "offers": true, "deals": true, "admin": true, "test": true, "my": true, "our": true,
	"laden": true, "geschäft": true, "bäckerei": true, "firma": true, "kundenservice": true,
}

// Words a display name may never contain: the badge says it, the name
// may not claim it.
var claimWords = []string{"official", "verified", "offiziell", "verifiziert", "officiel", "oficial", "ufficiale"}

var (
	urlish    = regexp.MustCompile(`(?i)(https?://|www\.|\b[a-z0-9-]+\.(com|net|org|info|biz|io|co|app|shop|store|online|site|xyz|me|eu|de|at|ch|uk|fr|it|es|nl|be|pl|in|us)\b)`)
	wordSplit = regexp.MustCompile(`[^\p{L}\p{N}&]+`)
)

// CheckDisplayName applies the platform's display-name rules: 3–64
// characters, no generic words alone, no "official"/"verified", no web
// addresses.
func CheckDisplayName(field, s string) error {
	v := &models.ValidationError{}
	s = cleanLine(s)
	n := utf8.RuneCountInString(s)
	switch {
	case s == "":
		v.Add(field, "profile.display_name.required")
	case !utf8.ValidString(s):
		v.Add(field, "field.invalid_text")
	case models.HasControlChars(s):
		v.Add(field, "field.control_chars")
	case n < DisplayNameMin || n > DisplayNameMax:
		v.Add(field, "profile.display_name.length", DisplayNameMin, DisplayNameMax, n)
	case urlish.MatchString(s):
		v.Add(field, "profile.display_name.url", urlish.FindString(s))
	default:
		words := strings.Fields(strings.ToLower(wordSplit.ReplaceAllString(s, " ")))
		for _, w := range words {
			for _, c := range claimWords {
				if w == c {
					v.Add(field, "profile.display_name.claim", w)
					return v
				}
			}
		}
		generic := true
		for _, w := range words {
			if !genericWords[w] {
				generic = false
			}
		}
		if generic {
			v.Add(field, "profile.display_name.generic", s)
		}
	}
	return v.Err()
}

// CheckWebsite validates one http(s) address: scheme, host with a dot,
// no credentials, at most 256 characters. It returns the cleaned URL.
func CheckWebsite(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > WebsiteMax {
		return s, models.Invalid(field, "profile.website.too_long", WebsiteMax, n)
	}
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return s, models.Invalid(field, "profile.website.scheme")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.ContainsAny(s, " \t\n<>\"") || models.HasControlChars(s) {
		return s, models.Invalid(field, "profile.website.invalid")
	}
	if u.User != nil {
		return s, models.Invalid(field, "profile.website.credentials")
	}
	host := u.Hostname()
	if !strings.Contains(host, ".") || strings.HasSuffix(host, ".") || strings.HasPrefix(host, ".") {
		return s, models.Invalid(field, "profile.website.invalid")
	}
	return s, nil
}

// NormalizePhone parses a sender number, with region (ISO country code)
// as the default for numbers without +, and returns it in E.164.
func NormalizePhone(field, s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		return s, models.Invalid(field, "profile.phone.need_country")
	}
	for _, r := range s {
		if !unicode.IsDigit(r) && !strings.ContainsRune("+ ()-./", r) {
			return s, models.Invalid(field, "profile.phone.invalid")
		}
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return s, models.Invalid(field, "profile.phone.invalid")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// FormatPhone shows an E.164 number in international format.
func FormatPhone(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// normalize cleans and checks every field, collecting all problems.
func (in ProfileInput) normalize(country string) (ProfileInput, *models.ValidationError) {
	v := &models.ValidationError{}
	in.DisplayName = cleanLine(in.DisplayName)
	v.Merge(CheckDisplayName("display_name", in.DisplayName))
	in.About = cleanLine(in.About)
	if in.About == "" {
		v.Add("about", "profile.about.required", AboutMax)
	} else {
		checkText(v, "about", "profile.about", in.About, AboutMax, false)
	}
	in.Description = cleanText(in.Description)
	checkText(v, "description", "profile.description", in.Description, DescriptionMax, true)
	in.Address = cleanText(in.Address)
	checkText(v, "address", "profile.address", in.Address, AddressMax, true)
	if in.Vertical == "" {
		in.Vertical = "UNDEFINED"
	}
	if !validVertical(in.Vertical) {
		v.Add("vertical", "profile.vertical.invalid")
	}
	in.Email = strings.TrimSpace(in.Email)
	if in.Email != "" {
		if n := utf8.RuneCountInString(in.Email); n > ProfileEmailMax {
			v.Add("email", "profile.email.too_long", ProfileEmailMax, n)
		} else if models.CheckEmail("email", in.Email) != nil {
			v.Add("email", "email.invalid")
		} else {
			in.Email = models.NormalizeEmail(in.Email)
		}
	}
	for _, w := range []struct {
		field string
		val   *string
	}{{"website1", &in.Website1}, {"website2", &in.Website2}} {
		if strings.TrimSpace(*w.val) == "" {
			*w.val = ""
			continue
		}
		clean, err := CheckWebsite(w.field, *w.val)
		*w.val = clean
		if err != nil {
			v.Merge(err)
		}
	}
	if in.Website1 == "" && in.Website2 != "" {
		in.Website1, in.Website2 = in.Website2, ""
	}
	if in.Website1 != "" && strings.EqualFold(in.Website1, in.Website2) && !v.Has("website2") {
		v.Add("website2", "profile.website.duplicate")
	}
	phone, err := NormalizePhone("phone", in.Phone, country)
	if err != nil {
		v.Merge(err)
	}
	in.Phone = phone
	return in, v
}
