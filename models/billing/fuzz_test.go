package billing_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/optline/optline/models/billing"
)

// An IBAN that passes never passes again with one digit changed (mod 97
// catches every single substitution), and nothing panics.
func FuzzValidIBAN(f *testing.F) {
	for _, s := range []string{"DE89370400440532013000", "GB82WEST12345698765432", "AT611904300234573201", "XX00", "", "DE89 3704"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !billing.ValidIBAN(s) {
			return
		}
		for i := 4; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				continue
			}
			b := []byte(s)
			b[i] = '0' + (s[i]-'0'+1)%10
			if billing.ValidIBAN(string(b)) {
				t.Fatalf("%s and %s both pass", s, b)
			}
		}
	})
}

// A line amount is the exact product rounded once: never more than half
// a minor unit away, with the minor unit's decimals.
func FuzzLineAmount(f *testing.F) {
	f.Add(int64(3), "0.0333")
	f.Add(int64(1), "0.005")
	f.Add(int64(1000000), "0.000001")
	f.Fuzz(func(t *testing.T, q int64, unit string) {
		u, err := decimal.NewFromString(strings.TrimSpace(unit))
		if err != nil || q < 0 || q > 1e9 || u.IsNegative() || u.GreaterThan(decimal.NewFromInt(1000)) || u.Exponent() < -6 {
			return
		}
		got := billing.LineAmount(q, u, "EUR")
		exact := decimal.NewFromInt(q).Mul(u)
		if got.Sub(exact).Abs().GreaterThan(decimal.RequireFromString("0.005")) || !got.Equal(got.Round(2)) {
			t.Fatalf("%d × %s = %s, rounded %s", q, u, exact, got)
		}
		if got.LessThan(exact) && exact.Sub(got).Equal(decimal.RequireFromString("0.005")) {
			t.Fatalf("%s rounded down at the half", exact)
		}
	})
}
