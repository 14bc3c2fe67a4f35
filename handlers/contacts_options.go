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
