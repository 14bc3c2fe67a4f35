package invoicedoc

import (
	"regexp"
	"strings"
)

var (
	// "80331 München", "1090 Wien", "D-80331 München", "00-950 Warszawa",
	// "114 55 Stockholm", "1012 AB Amsterdam".
	postcodeFirst = regexp.MustCompile(`^(?:[A-Z]{1,2}-)?(\d{4} ?[A-Z]{2}|\d{4,5}|\d{2}-\d{3}|\d{3} \d{2})\s+(\S.*)$`)
	// "New York, NY 10118", "Toronto ON M5V 2T6", "London SW1A 1AA",
	// "Mumbai 400001", "Sydney NSW 2000".
	postcodeLast = regexp.MustCompile(`^(\S.*?)[,\s]+(\d{5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{3,10})$`)
	// A line that is only a postcode (British and American addresses
	// often put it last, alone).
	stateZip     = regexp.MustCompile(`^[A-Z]{2} \d{5}`)
	postcodeOnly = regexp.MustCompile(`^(\d{3,10}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$`)
)

// ParseAddress splits a free-text postal address (as businesses type it
// into their legal profile) into street lines ("\n"-separated),
// postcode and city, as Party wants them. It knows postcode-first
// addresses ("Straße 5\n80331 München") and postcode-last ones ("350
// Fifth Avenue\nNew York, NY 10118", "10 Downing St\nLondon\nSW1A 2AA");
// a last line naming the country (its code or its English or German
// name) is dropped. When no postcode is found the last line is the city
// and postcode is "" — the XRechnung then refuses the document (BR-DE-9),
// so the profile should ask again.
func ParseAddress(addr, country string) (street, postcode, city string) {
	lines := splitLines(strings.ReplaceAll(addr, "\r", "\n"))
	if len(lines) == 1 && strings.Contains(lines[0], ",") {
		lines = nil
		for _, part := range strings.Split(splitLines(addr)[0], ",") {
			if p := strings.TrimSpace(part); p != "" {
				lines = append(lines, p)
			}
		}
		// "New York, NY 10118" is one line of its own.
		if n := len(lines); n >= 3 && stateZip.MatchString(lines[n-1]) {
			lines = append(lines[:n-2], lines[n-2]+", "+lines[n-1])
		}
	}
	if n := len(lines); n > 1 && isCountryLine(lines[n-1], country) {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		return "", "", ""
	}
	last, rest := lines[len(lines)-1], lines[:len(lines)-1]
	switch {
	case postcodeOnly.MatchString(last) && len(rest) > 0:
		postcode, city, rest = last, rest[len(rest)-1], rest[:len(rest)-1]
	case postcodeFirst.MatchString(last):
		m := postcodeFirst.FindStringSubmatch(last)
		postcode, city = m[1], m[2]
	case postcodeLast.MatchString(last):
		m := postcodeLast.FindStringSubmatch(last)
		city, postcode = strings.TrimRight(m[1], ", "), m[2]
	default:
		city = last
	}
	return strings.Join(rest, "\n"), postcode, city
}

func isCountryLine(line, country string) bool {
	l := strings.ToUpper(strings.TrimSpace(line))
	country = strings.ToUpper(strings.TrimSpace(country))
	if l == country || (country == "US" && (l == "USA" || l == "U.S.A." || l == "U.S.")) || (country == "GB" && l == "UK") {
		return true
	}
	return country != "" && (l == strings.ToUpper(labelsEN.countryName(country)) || l == strings.ToUpper(labelsDE.countryName(country)))
}
