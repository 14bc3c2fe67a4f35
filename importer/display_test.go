package importer

import (
	"bytes"
	"math/rand"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func slowPhoneText(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// TestDisplayPhoneMatchesParse: the fast PhoneText gives what libphonenumber's
// Parse+Format gives, for the numbers the importer stores (from the
// benchmark's generated files) and for odd E.164 shapes.
func TestDisplayPhoneMatchesParse(t *testing.T) {
	var buf bytes.Buffer
	if err := Generate(&buf, 20000, 7); err != nil {
		t.Fatal(err)
	}
	var phones []string
	_, err := Run(t.Context(), &buf, Config{}, func(b Batch) error {
		for _, c := range b.Contacts {
			phones = append(phones, c.Phone)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(phones) < 5000 {
		t.Fatalf("only %d numbers", len(phones))
	}
	rng := rand.New(rand.NewSource(1))
	for range 20000 { // random digits after random calling codes
		p := "+" + strconv.Itoa(1+rng.Intn(999))
		for range rng.Intn(14) {
			p += strconv.Itoa(rng.Intn(10))
		}
		phones = append(phones, p)
	}
	phones = append(phones, "+390612345678", "+39000", "+4900", "+44", "+", "", "+49 151", "+2250700000000", "+88212345678")
	for _, p := range phones {
		if got, want := DisplayPhone(p), slowPhoneText(p); got != want {
			t.Errorf("DisplayPhone(%q) = %q, Parse+Format gives %q", p, got, want)
		}
	}
}

func BenchmarkDisplayPhone(b *testing.B) {
	for b.Loop() {
		formatPhone("+4915123456789") // the formatting itself, not the memo
	}
}
