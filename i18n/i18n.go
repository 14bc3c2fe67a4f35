// Package i18n is Optline's message catalogue and the one place where
// dates, numbers and money are formatted per locale. Adding a language is
// adding one JSON file beside en.json; a test keeps every file complete.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed locales
var files embed.FS

// Locale translates keys and formats values for one language. Catalogues
// live in locales/<tag>/*.json, one file per area.
type Locale struct {
	Tag      string
	msgs     map[string]string
	fallback *Locale
	decimal  string
	group    string
	// moneyAfter puts the currency symbol after the amount ("1,00 €").
	moneyAfter bool
	dateFmt    string
	timeFmt    string
}

var (
	locales = map[string]*Locale{}
	// Default is English, the fallback for missing keys.
	Default *Locale
)

// Supported lists the locale tags with a catalogue, sorted.
func Supported() []string {
	out := make([]string, 0, len(locales))
	for k := range locales {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func init() {
	dirs, err := files.ReadDir("locales")
	if err != nil {
		panic(err)
	}
	for _, d := range dirs {
		tag := d.Name()
		m := map[string]string{}
		parts, err := files.ReadDir(path.Join("locales", tag))
		if err != nil {
			panic(err)
		}
		// Each area keeps its own file (core.json, profile.json, …); a key
		// defined twice is a mistake caught at start.
		for _, e := range parts {
			b, err := files.ReadFile(path.Join("locales", tag, e.Name()))
			if err != nil {
				panic(err)
			}
			var part map[string]string
			if err := json.Unmarshal(b, &part); err != nil {
				panic(fmt.Sprintf("i18n: %s/%s: %v", tag, e.Name(), err))
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					panic(fmt.Sprintf("i18n: %s: key %q defined twice", tag, k))
				}
				m[k] = v
			}
		}
		l := &Locale{Tag: tag, msgs: m, decimal: ".", group: ",", dateFmt: "2 Jan 2006", timeFmt: "15:04"}
		if tag == "de" {
			l.decimal, l.group, l.moneyAfter, l.dateFmt = ",", ".", true, "02.01.2006"
		}
		locales[tag] = l
	}
	Default = locales["en"]
	for _, l := range locales {
		if l != Default {
			l.fallback = Default
		}
	}
}

// Get returns the locale for tag (e.g. "de", "de-DE"), or English.
func Get(tag string) *Locale {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if l, ok := locales[tag]; ok {
		return l
	}
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		if l, ok := locales[tag[:i]]; ok {
			return l
		}
	}
	return Default
}

// Match picks the best supported locale from an Accept-Language header.
func Match(acceptLanguage string) *Locale {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if tag == "" || tag == "*" {
			continue
		}
		if l := Get(tag); l != Default || strings.HasPrefix(strings.ToLower(tag), "en") {
			return l
		}
	}
	return Default
}

// Has reports whether key exists in this locale's own file.
func (l *Locale) Has(key string) bool { _, ok := l.msgs[key]; return ok }

// Keys lists the keys of this locale's own file.
func (l *Locale) Keys() []string {
	out := make([]string, 0, len(l.msgs))
	for k := range l.msgs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// T translates key; args fill %[n]v-style verbs in the message. A missing
// key falls back to English, then to the key itself so it is visible.
func (l *Locale) T(key string, args ...any) string {
	msg, ok := l.msgs[key]
	if !ok && l.fallback != nil {
		msg, ok = l.fallback.msgs[key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// pluralForms names the CLDR plural categories as catalogue key suffixes.
var pluralForms = map[plural.Form]string{
	plural.Zero: "zero", plural.One: "one", plural.Two: "two",
	plural.Few: "few", plural.Many: "many", plural.Other: "other",
}

// PluralForm is the CLDR plural category of count n in this locale's
// language: "one" or "other" in English and German, more in others.
func (l *Locale) PluralForm(n int64) string {
	tag, err := language.Parse(l.Tag)
	if err != nil {
		tag = language.English
	}
	i := n
	if i < 0 {
		i = -i
	}
	// Plural rules look at the integer part and the (absent) fraction.
	return pluralForms[plural.Cardinal.MatchPlural(tag, int(i), 0, 0, 0, 0)]
}

// N translates a message that depends on a count: the catalogue holds one
// key per plural form, key+".one", key+".other" (and ".few", ".many" …
// for languages that have them). ".other" stands in for a form a
// catalogue lacks. Without args the message is filled with n formatted
// for the locale; with args they fill it instead.
func (l *Locale) N(key string, n int64, args ...any) string {
	if len(args) == 0 {
		args = []any{l.Int(n)}
	}
	if k := key + "." + l.PluralForm(n); l.has(k) {
		return l.T(k, args...)
	}
	return l.T(key+".other", args...)
}

// has reports whether key is in this locale's file or its fallback.
func (l *Locale) has(key string) bool {
	if _, ok := l.msgs[key]; ok {
		return true
	}
	return l.fallback != nil && l.fallback.has(key)
}

// Int formats an integer with grouping: 1,234,567 / 1.234.567.
func (l *Locale) Int(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(l.group)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Decimal formats value/10^scale with exactly scale decimals, e.g.
// Decimal(1131, 4) = "0.1131".
func (l *Locale) Decimal(value int64, scale int) string {
	neg := value < 0
	if neg {
		value = -value
	}
	pow := int64(1)
	for i := 0; i < scale; i++ {
		pow *= 10
	}
	s := l.Int(value / pow)
	if scale > 0 {
		frac := strconv.FormatInt(value%pow, 10)
		s += l.decimal + strings.Repeat("0", scale-len(frac)) + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "INR": "₹", "CHF": "CHF"}

// CurrencyDigits is the number of minor-unit digits of an ISO 4217 code.
func CurrencyDigits(code string) int {
	switch strings.ToUpper(code) {
	case "JPY", "KRW", "CLP", "ISK", "VND":
		return 0
	case "BHD", "KWD", "OMR", "JOD", "TND":
		return 3
	}
	return 2
}

// Money formats an amount in minor units: €1,234.56 / 1.234,56 €.
func (l *Locale) Money(minor int64, currency string) string {
	return l.MoneyScaled(minor, CurrencyDigits(currency), currency)
}

// MoneyScaled formats an amount with scale decimals (rates are kept with
// more precision than the currency's minor unit).
func (l *Locale) MoneyScaled(value int64, scale int, currency string) string {
	sym, ok := currencySymbols[strings.ToUpper(currency)]
	if !ok {
		sym = strings.ToUpper(currency)
	}
	n := l.Decimal(value, scale)
	if l.moneyAfter {
		return n + "\u00a0" + sym
	}
	if len(sym) > 2 && sym == strings.ToUpper(currency) {
		return sym + "\u00a0" + n
	}
	if strings.HasPrefix(n, "-") {
		return "-" + sym + n[1:]
	}
	return sym + n
}

// Date formats t's calendar date in loc (UTC when nil).
func (l *Locale) Date(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(l.dateFmt)
}

// DateTime formats date and time of day in loc.
func (l *Locale) DateTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return l.Date(t, loc) + " " + t.In(loc).Format(l.timeFmt)
}

// Percent formats part/total as a percentage with one decimal.
func (l *Locale) Percent(part, total int64) string {
	if total == 0 {
		return l.Decimal(0, 1) + " %"
	}
	return l.Decimal((part*1000+total/2)/total, 1) + " %"
}
