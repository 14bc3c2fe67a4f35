package handlers

import (
	"sort"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/optline/optline/views"
)

func contactIDText(id int64) string { return strconv.FormatInt(id, 10) }

// contactLanguageName is a language's own name with its code: "Deutsch (de)".
func contactLanguageName(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	if n := display.Self.Name(tag); n != "" {
		return n + " (" + code + ")"
	}
	return code
}

// phoneCountryOptions lists every country with its calling code, by name:
// "Germany (+49)".
var phoneCountryOptions = sync.OnceValue(func() []views.Option {
	var out []views.Option
	for region := range phonenumbers.GetSupportedRegions() {
		r, err := language.ParseRegion(region)
		if err != nil {
			continue
		}
		name := display.English.Regions().Name(r)
		if name == "" {
			continue
		}
		cc := phonenumbers.GetCountryCodeForRegion(region)
		out = append(out, views.Option{Value: region, Label: name + " (+" + strconv.Itoa(cc) + ")"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
})
