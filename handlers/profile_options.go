package handlers

import (
	"sort"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/models"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

func verticalOptions(c echo.Context) []views.Option {
	out := make([]views.Option, 0, len(models.Verticals))
	for _, v := range models.Verticals {
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
// language, with an empty choice first.
func countryOptions(c echo.Context) []views.Option {
	codes := models.Countries()
	out := make([]views.Option, 0, len(codes)+1)
	for _, code := range codes {
		out = append(out, views.Option{Value: code, Label: countryName(c, code)})
	}
	col := collate.New(language.Make(web.LocaleFrom(c.Request().Context()).Tag))
	sort.SliceStable(out, func(i, j int) bool { return col.CompareString(out[i].Label, out[j].Label) < 0 })
	return append([]views.Option{{Value: "", Label: t(c, "legal.country.choose")}}, out...)
}

func currencyOptions(c echo.Context) []views.Option {
	out := make([]views.Option, 0, len(models.Currencies))
	for _, code := range models.Currencies {
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
