package sending

import (
	"testing"

	"github.com/optline/optline/models/billing"
)

// The cached country is the parsed one, also where countries share a
// calling code and only later digits tell them apart.
func TestCountryCacheAgreesWithParsing(t *testing.T) {
	var c countries
	nums := []string{"+14165550123", "+12125550123", "+16045550199", "+18095550123", "+447700900123", "+441534456789",
		"+447797123456", "+441624612345", "+390669812345", "+390612345678", "+77012345678", "+79123456789",
		"+4915112345678", "+491511234567", "+33612345678", "+590690001234", "+262692123456", "+61412345678", "+6189164123"}
	for round := range 2 {
		for _, n := range nums {
			if got, want := c.of(n), billing.CountryOf(n); got != want {
				t.Fatalf("round %d: %s: cached %q, parsed %q", round, n, got, want)
			}
		}
	}
}
