package handlers

import (
	"sort"
	"sync"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func verticalOptions(c echo.Context) []views.Option {
	out := make([]views.Option, 0, len(profiles.Verticals))
	for _, v := range profiles.Verticals {
		out = append(out, views.Option{Value: v, Label: t(c, "vertical."+v)})
	}
	return out
}

// countryName is a country's name in the user's language.
func countryName(c echo.Context, code string) string {
	if code == "" {
		return ""
	}
	tag := language.Make(web.LocaleFrom(c.Request().Context()).Tag)
	if r, err := language.ParseRegion(code); err == nil {
		if n := display.Regions(tag).Name(r); n != "" {
			return n
		}
	}
	return code
}

// countryOptions lists every ISO 3166 country by its name in the user's
// language, with an empty choice first. Naming and sorting 250 countries
// costs ~0.3 ms, so each language's list is built once; callers must not
// change it.
func countryOptions(c echo.Context) []views.Option {
	return localeList(c, &countryLists, func(tag language.Tag) []views.Option {
		return append([]views.Option{{Value: "", Label: t(c, "legal.country.choose")}},
			sortedRegions(tag, func(string) bool { return true }, func(n display.Namer, code string) string {
				if r, err := language.ParseRegion(code); err == nil {
					if name := n.Name(r); name != "" {
						return name
					}
				}
				return code
			})...)
	})
}

var countryLists, regionLists sync.Map // locale tag → []views.Option

// localeList returns the list for the request's language from lists,
// building it with build the first time.
func localeList(c echo.Context, lists *sync.Map, build func(language.Tag) []views.Option) []views.Option {
	key := web.LocaleFrom(c.Request().Context()).Tag
	if v, ok := lists.Load(key); ok {
		return v.([]views.Option)
	}
	v, _ := lists.LoadOrStore(key, build(language.Make(key)))
	return v.([]views.Option)
}

// sortedRegions names the countries keep accepts with label, sorted by
// name in the language tag.
func sortedRegions(tag language.Tag, keep func(string) bool, label func(display.Namer, string) string) []views.Option {
	names := display.Regions(tag)
	var out []views.Option
	for _, code := range models.Countries() {
		if keep(code) {
			out = append(out, views.Option{Value: code, Label: label(names, code)})
		}
	}
	col := collate.New(tag)
	sort.SliceStable(out, func(i, j int) bool { return col.CompareString(out[i].Label, out[j].Label) < 0 })
	return out
}

func currencyOptions(c echo.Context) []views.Option {
	out := make([]views.Option, 0, len(profiles.Currencies))
	for _, code := range profiles.Currencies {
		out = append(out, views.Option{Value: code, Label: code + " – " + t(c, "currency."+code)})
	}
	return out
}

// commonTimeZones are suggested in the time-zone field; any IANA name is
// accepted.
var commonTimeZones = []string{"UTC", "Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Paris", "Europe/Amsterdam",
	"Europe/Brussels", "Europe/Luxembourg", "Europe/Madrid", "Europe/Lisbon", "Europe/Rome", "Europe/Warsaw", "Europe/Prague",
	"Europe/Budapest", "Europe/Copenhagen", "Europe/Stockholm", "Europe/Oslo", "Europe/Helsinki", "Europe/Athens",
	"Europe/Bucharest", "Europe/Sofia", "Europe/Dublin", "Europe/London", "Europe/Istanbul", "Asia/Kolkata", "Asia/Dubai",
	"Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Toronto", "America/Mexico_City", "America/Sao_Paulo", "Africa/Johannesburg", "Africa/Lagos"}
