package invoicedoc

import (
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	cases := []struct{ addr, country, street, postcode, city string }{
		{"Straße 5\n80331 München", "DE", "Straße 5", "80331", "München"},
		{"Straße 5\n80331 München\nDeutschland", "DE", "Straße 5", "80331", "München"},
		{"Hauptstraße 1\n2. OG\nD-10115 Berlin\nGermany", "DE", "Hauptstraße 1\n2. OG", "10115", "Berlin"},
		{"Währinger Straße 12/3, 1090 Wien", "AT", "Währinger Straße 12/3", "1090", "Wien"},
		{"Keizersgracht 1\n1015 CJ Amsterdam", "NL", "Keizersgracht 1", "1015 CJ", "Amsterdam"},
		{"ul. Marszałkowska 1\n00-950 Warszawa", "PL", "ul. Marszałkowska 1", "00-950", "Warszawa"},
		{"Drottninggatan 1\n111 51 Stockholm\nSchweden", "SE", "Drottninggatan 1", "111 51", "Stockholm"},
		{"Ringstraße 1\n1010 WIEN", "AT", "Ringstraße 1", "1010", "WIEN"},
		{"350 Fifth Avenue\nSuite 4100\nNew York, NY 10118\nUSA", "US", "350 Fifth Avenue\nSuite 4100", "10118", "New York, NY"},
		{"350 Fifth Avenue, New York, NY 10118", "US", "350 Fifth Avenue", "10118", "New York, NY"},
		{"10 Downing Street\nLondon\nSW1A 2AA\nUnited Kingdom", "GB", "10 Downing Street", "SW1A 2AA", "London"},
		{"10 Downing Street\nLondon SW1A 2AA", "GB", "10 Downing Street", "SW1A 2AA", "London"},
		{"290 Bremner Blvd\nToronto ON M5V 3L9", "CA", "290 Bremner Blvd", "M5V 3L9", "Toronto ON"},
		{"Nariman Point\nMumbai 400021\nIndia", "IN", "Nariman Point", "400021", "Mumbai"},
		{"Somewhere without postcode", "XX", "", "", "Somewhere without postcode"},
		{"", "DE", "", "", ""},
	}
	for _, c := range cases {
		s, p, ci := ParseAddress(c.addr, c.country)
		if s != c.street || p != c.postcode || ci != c.city {
			t.Errorf("ParseAddress(%q) = %q, %q, %q; want %q, %q, %q", c.addr, s, p, ci, c.street, c.postcode, c.city)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	f.Add("Straße 5\n80331 München", "DE")
	f.Add("350 Fifth Avenue, New York, NY 10118", "US")
	f.Add("\x00,,\n\n, ,", "")
	f.Fuzz(func(t *testing.T, addr, country string) {
		street, postcode, city := ParseAddress(addr, country)
		if strings.Contains(postcode+city, "\n") {
			t.Fatalf("postcode %q or city %q spans lines", postcode, city)
		}
		for _, s := range []string{street, postcode, city} {
			if s != clean(s, true) {
				t.Fatalf("%q is not clean", s)
			}
		}
	})
}
