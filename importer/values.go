package importer

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// monthFirstRegions write slash dates month first (3/5/2024 = March 5).
var monthFirstRegions = map[string]bool{"US": true, "PR": true, "PH": true, "GU": true, "AS": true, "VI": true, "MP": true, "UM": true, "FM": true, "MH": true, "PW": true}

// dayFirstSlashRegions write slash dates day first (3/5/2024 = 3 May).
var dayFirstSlashRegions = map[string]bool{
	"GB": true, "IE": true, "AU": true, "NZ": true, "IN": true, "ZA": true, "FR": true, "BE": true, "LU": true,
	"ES": true, "IT": true, "PT": true, "GR": true, "BR": true, "AR": true, "MX": true, "CO": true, "CL": true,
	"PE": true, "SG": true, "MY": true, "HK": true, "IL": true, "TR": true, "VN": true,
}

// ParseOptInDate reads an opt-in date. Accepted:
//
//   - ISO 8601: 2024-03-05, 2024-03-05T14:30, 2024-03-05 14:30:00,
//     2024-03-05T14:30:00Z, 2024-03-05T14:30:00+01:00 (fractions allowed);
//     also 2024/03/05.
//   - German: 05.03.2024, 5.3.2024, 05.03.24, with an optional time
//     "05.03.2024 14:30" or "05.03.2024 14:30:15".
//   - Slashes: 3/5/2024 (optional time as above). When one part is above 12
//     or both are equal the order is clear. Otherwise the import's region
//     decides: month first for the US and its territories, day first for
//     regions that write dates that way (GB, FR, IN, ...); for any other
//     region (DE, AT, CH, ...) the date is refused as ambiguous.
//
// Two-digit years are 20yy. Without a zone, times are in d.Location (UTC if
// nil); a date alone is midnight. Dates after today (times more than five
// minutes after d.Now) and years before 2000 are refused. On failure it
// returns a RowError code and message.
func ParseOptInDate(s string, d Defaults) (t time.Time, code, msg string) {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	now := d.Now
	if now.IsZero() {
		now = time.Now()
	}
	s = strings.TrimSpace(s)
	t, dateOnly, code, msg := parseDate(s, loc, d.Region)
	if code != "" {
		return time.Time{}, code, msg
	}
	if t.Year() < 2000 {
		return time.Time{}, CodeDateTooOld, fmt.Sprintf("opt-in date %q is before the year 2000", s)
	}
	future := t.After(now.Add(5 * time.Minute))
	if dateOnly {
		ny, nm, nd := now.In(loc).Date()
		future = t.After(time.Date(ny, nm, nd, 0, 0, 0, 0, loc))
	}
	if future {
		return time.Time{}, CodeDateFuture, fmt.Sprintf("opt-in date %q is in the future", s)
	}
	return t, "", ""
}

func parseDate(s string, loc *time.Location, region string) (t time.Time, dateOnly bool, code, msg string) {
	bad := func() (time.Time, bool, string, string) {
		return time.Time{}, false, CodeDateInvalid, fmt.Sprintf("opt-in date %q is not a date we can read; write it as 2024-03-05 or 05.03.2024", s)
	}
	if len(s) < 6 || len(s) > 40 {
		return bad()
	}
	datePart, timePart, _ := strings.Cut(s, " ")
	if i := strings.IndexByte(s, 'T'); i == 10 {
		datePart, timePart = s[:10], s[11:]
	}
	timePart = strings.TrimSpace(timePart)
	var y, m, day int
	var ok bool
	switch {
	case len(datePart) == 10 && (datePart[4] == '-' || datePart[4] == '/') && datePart[7] == datePart[4]:
		y, ok = atoiN(datePart[:4])
		m, ok = atoiOK(datePart[5:7], ok)
		day, ok = atoiOK(datePart[8:10], ok)
	case strings.Count(datePart, ".") >= 2:
		// Cut, not SplitN: no slice allocated per row.
		dd, rest, ok1 := strings.Cut(strings.TrimSuffix(datePart, "."), ".")
		mo, yy, ok2 := strings.Cut(rest, ".")
		if !ok1 || !ok2 {
			return bad()
		}
		day, ok = atoiN(dd)
		m, ok = atoiOK(mo, ok)
		y, ok = atoiOK(yy, ok)
		ok = ok && len(dd) <= 2 && len(mo) <= 2 && (len(yy) == 2 || len(yy) == 4)
		if len(yy) == 2 {
			y += 2000
		}
	case strings.Count(datePart, "/") == 2:
		p0, rest, _ := strings.Cut(datePart, "/")
		p1, yy, _ := strings.Cut(rest, "/")
		var a, b int
		a, ok = atoiN(p0)
		b, ok = atoiOK(p1, ok)
		y, ok = atoiOK(yy, ok)
		ok = ok && len(p0) <= 2 && len(p1) <= 2 && (len(yy) == 2 || len(yy) == 4)
		if !ok {
			return bad()
		}
		if len(yy) == 2 {
			y += 2000
		}
		switch {
		case a > 12 || a == b:
			day, m = a, b
		case b > 12:
			m, day = a, b
		case monthFirstRegions[region]:
			m, day = a, b
		case dayFirstSlashRegions[region]:
			day, m = a, b
		default:
			return time.Time{}, false, CodeDateAmbiguous, fmt.Sprintf("opt-in date %q is ambiguous (%d %s or %s %d?); write dates as YYYY-MM-DD or DD.MM.YYYY",
				s, a, time.Month(b), time.Month(a), b)
		}
	default:
		return bad()
	}
	if !ok || m < 1 || m > 12 || day < 1 || day > 31 {
		return bad()
	}
	if n := daysIn(y, time.Month(m)); day > n {
		// A readable date that does not exist (31.02.2025) is told apart
		// from one we cannot read: the fix is a different day, not a format.
		return time.Time{}, false, CodeDateNoSuchDay, fmt.Sprintf("opt-in date %q does not exist: %s %d has %d days",
			s, time.Month(m), y, n)
	}
	if timePart == "" {
		return time.Date(y, time.Month(m), day, 0, 0, 0, 0, loc), true, "", ""
	}
	// time: hh:mm[:ss[.frac]][zone]
	zoneAt := len(timePart)
	for i := 0; i < len(timePart); i++ {
		if c := timePart[i]; c == 'Z' || c == 'z' || c == '+' || c == '-' {
			zoneAt = i
			break
		}
	}
	clock, zone := strings.TrimSpace(timePart[:zoneAt]), timePart[zoneAt:]
	// hh:mm or hh:mm:ss, cut apart without allocating
	hour, rest, ok1 := strings.Cut(clock, ":")
	minute, second, hasSec := strings.Cut(rest, ":")
	if !ok1 || hasSec && strings.Contains(second, ":") {
		return bad()
	}
	hh, ok := atoiN(hour)
	mm, ok := atoiOK(minute, ok)
	ss, ns := 0, 0
	if hasSec {
		sec, frac, _ := strings.Cut(second, ".")
		ss, ok = atoiOK(sec, ok)
		if frac != "" {
			f, fok := atoiN(frac[:min(9, len(frac))])
			ok = ok && fok
			for n := min(9, len(frac)); n < 9; n++ {
				f *= 10
			}
			ns = f
		}
	}
	if !ok || hh > 23 || mm > 59 || ss > 60 || len(hour) > 2 || len(minute) != 2 {
		return bad()
	}
	tz := loc
	if zone != "" {
		switch {
		case zone == "Z" || zone == "z":
			tz = time.UTC
		default:
			z := strings.ReplaceAll(zone[1:], ":", "")
			zh, zm := 0, 0
			switch len(z) {
			case 2:
				zh, ok = atoiN(z)
			case 4:
				zh, ok = atoiN(z[:2])
				zm, ok = atoiOK(z[2:], ok)
			default:
				ok = false
			}
			if !ok || zh > 14 || zm > 59 {
				return bad()
			}
			off := zh*3600 + zm*60
			if zone[0] == '-' {
				off = -off
			}
			tz = time.FixedZone("", off)
		}
	}
	t = time.Date(y, time.Month(m), day, hh, mm, ss, ns, tz)
	if t.Day() != day {
		return bad()
	}
	return t, false, "", ""
}

func atoiN(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func atoiOK(s string, ok bool) (int, bool) {
	n, ok2 := atoiN(s)
	return n, ok && ok2
}

// sourceWords maps normalised words (headerKey) to opt-in sources.
var sourceWords = buildSourceWords()

// sourceParts are looked for inside longer wording, in this order.
var sourceParts = []struct{ part, source string }{
	{"checkout", SourceCheckout}, {"kasse", SourceCheckout}, {"bestell", SourceCheckout}, {"order", SourceCheckout},
	{"whatsapp", SourceChat}, {"chat", SourceChat}, {"messenger", SourceChat},
	{"formular", SourcePaper}, {"papier", SourcePaper}, {"paper", SourcePaper},
	{"web", SourceWebForm}, {"online", SourceWebForm}, {"internet", SourceWebForm}, {"form", SourceWebForm},
	{"laden", SourceInStore}, {"filiale", SourceInStore}, {"geschaft", SourceInStore}, {"store", SourceInStore}, {"shop", SourceInStore},
	{"telefon", SourcePhone}, {"phone", SourcePhone}, {"anruf", SourcePhone}, {"call", SourcePhone},
}

func buildSourceWords() map[string]string {
	words := map[string]string{}
	add := func(source string, list ...string) {
		for _, w := range list {
			words[headerKey(w)] = source
		}
	}
	add(SourceWebForm, "web_form", "web form", "webform", "web", "website", "online", "online form", "online-formular",
		"webformular", "web-formular", "kontaktformular", "internet", "homepage", "landing page", "signup", "sign-up",
		"newsletter form", "anmeldeformular", "webseite", "internetseite")
	add(SourceCheckout, "checkout", "check-out", "online shop", "onlineshop", "webshop", "kasse", "online shop checkout", "bestellung", "order", "purchase",
		"kauf", "warenkorb", "cart", "shop checkout")
	add(SourceInStore, "in_store", "in store", "in-store", "store", "shop", "laden", "im laden", "geschäft", "im geschäft",
		"filiale", "in der filiale", "ladengeschäft", "vor ort", "point of sale", "pos", "in person", "persönlich")
	add(SourceChat, "chat", "whatsapp", "live chat", "livechat", "messenger", "sms", "nachricht", "message")
	add(SourcePhone, "phone", "telephone", "phone call", "call", "telefon", "telefonisch", "anruf", "hotline", "call center", "callcenter")
	add(SourcePaper, "paper", "paper form", "papier", "formular", "papierformular", "written", "schriftlich", "flyer",
		"postcard", "postkarte", "coupon", "gutschein", "unterschrift", "signature", "vertrag", "contract", "paper_form")
	add(SourceOther, "other", "others", "sonstige", "sonstiges", "andere", "anderes", "misc")
	return words
}

// NormalizeSource maps an opt-in source as written (English or German, any
// case: "Webformular", "Kasse", "im Laden", "Filiale", "Telefon",
// "Papierformular", "web_form") to one of the Source* values. Longer wording
// is matched by the words it contains ("Online-Shop Checkout" -> checkout).
// ok is false when nothing matched.
func NormalizeSource(s string) (source string, ok bool) {
	if v, found := sourceCache.Load(s); found {
		return v.(string), v.(string) != ""
	}
	source, ok = lookupSource(s)
	if len(s) <= 64 && sourceCacheSize.Load() < maxLanguageCache {
		if _, loaded := sourceCache.LoadOrStore(s, source); !loaded {
			sourceCacheSize.Add(1)
		}
	}
	return source, ok
}

// sourceCache memoises NormalizeSource like languageCache.
var (
	sourceCache     sync.Map
	sourceCacheSize atomic.Int64
)

func lookupSource(s string) (string, bool) {
	key := headerKey(s)
	if key == "" {
		return "", false
	}
	if src, found := sourceWords[key]; found {
		return src, true
	}
	for _, p := range sourceParts {
		if strings.Contains(key, p.part) {
			return p.source, true
		}
	}
	return "", false
}

// languageCodes are the ISO 639-1 codes whose names (in English, German and
// the language itself) NormalizeLanguage understands.
var languageCodes = []string{
	"af", "am", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "eu",
	"fa", "fi", "fr", "ga", "gl", "gu", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "km",
	"kn", "ko", "ku", "ky", "lo", "lt", "lv", "mk", "ml", "mn", "mr", "ms", "mt", "my", "nb", "ne", "nl", "no",
	"pa", "pl", "ps", "pt", "ro", "ru", "si", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr",
	"uk", "ur", "uz", "vi", "zh", "zu",
}

var languageNames = sync.OnceValue(func() map[string]string {
	names := map[string]string{}
	namers := []display.Namer{display.English.Languages(), display.German.Languages()}
	for _, code := range languageCodes {
		tag := language.Make(code)
		for _, n := range namers {
			if name := n.Name(tag); name != "" {
				names[headerKey(name)] = code
			}
		}
		if name := display.Self.Name(tag); name != "" {
			names[headerKey(name)] = code
		}
	}
	for name, code := range map[string]string{"deutsch": "de", "englisch": "en", "norsk": "no", "norwegian": "no", "farsi": "fa", "filipino": "tl", "tagalog": "tl", "chinese": "zh", "mandarin": "zh"} {
		names[name] = code
	}
	return names
})

// languageCache memoises NormalizeLanguage for the few distinct values a
// file has; it stops growing at maxLanguageCache entries.
var (
	languageCache     sync.Map // raw value -> code ("" = unknown)
	languageCacheSize atomic.Int64
)

const maxLanguageCache = 4096

// NormalizeLanguage turns a language as written into a lower-case ISO 639-1
// code: codes in any case and with a region or script ("DE", "de-AT",
// "en_US", "pt-BR", "deu"), or a language name in English, German or the
// language itself ("German", "Deutsch", "Englisch", "français"). ok is false
// for anything else.
func NormalizeLanguage(s string) (string, bool) {
	if len(s) == 2 && isASCIILetter(s[0]) && isASCIILetter(s[1]) && (s[0] < 'a' || s[1] < 'a') {
		s = strings.ToLower(s)
	}
	if v, ok := languageCache.Load(s); ok {
		return v.(string), v.(string) != ""
	}
	code := lookupLanguage(s)
	if len(s) <= 64 && languageCacheSize.Load() < maxLanguageCache {
		if _, loaded := languageCache.LoadOrStore(s, code); !loaded {
			languageCacheSize.Add(1)
		}
	}
	return code, code != ""
}

func lookupLanguage(s string) string {
	t := strings.TrimSpace(s)
	if code, ok := languageNames()[headerKey(t)]; ok {
		return code
	}
	if len(t) > 20 {
		return ""
	}
	if code, ok := languageAliases[strings.ToLower(t)]; ok {
		return code
	}
	norm := strings.ReplaceAll(t, "_", "-")
	if _, err := language.Parse(norm); err != nil {
		return ""
	}
	first, _, _ := strings.Cut(norm, "-")
	base, err := language.ParseBase(first)
	if err != nil {
		return ""
	}
	code := base.String()
	if len(code) != 2 || code == "und" {
		return ""
	}
	return code
}

// languageAliases are deprecated ISO 639-1 codes and ISO 639-2/B
// ("bibliographic") codes that language.ParseBase does not resolve.
var languageAliases = map[string]string{
	"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro",
	"ger": "de", "fre": "fr", "dut": "nl", "chi": "zh", "cze": "cs", "gre": "el", "per": "fa", "rum": "ro",
	"slo": "sk", "alb": "sq", "arm": "hy", "baq": "eu", "bur": "my", "geo": "ka", "ice": "is", "mac": "mk",
	"mao": "mi", "may": "ms", "tib": "bo", "wel": "cy",
}

func isASCIILetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }

// daysIn is the number of days of month m in year y (leap years included).
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
