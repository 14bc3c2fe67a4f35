package importer

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw, region, want, code string
	}{
		{"+49 151 23456789", "DE", "+4915123456789", ""},
		{"0049 151 23456789", "DE", "+4915123456789", ""},
		{"0151/23456789", "DE", "+4915123456789", ""},
		{"0151-234 567 89", "de", "+4915123456789", ""},
		{"(030) 1234567", "DE", "+49301234567", ""},
		{"+1 (415) 555-2671", "DE", "+14155552671", ""},
		{"(415) 555-2671", "US", "+14155552671", ""},
		{"00 44 20 7946 0958", "DE", "+442079460958", ""},
		{"+44 20 7946 0958", "US", "+442079460958", ""},
		// Country code without "+" or "00": libphonenumber reads this one as a
		// valid German national number (area code 4915), and so do we.
		{"4915123456789", "DE", "+494915123456789", ""},
		{"  +49 (0) 151 23456789 ", "DE", "+4915123456789", ""},
		{"+91 98765 43210", "DE", "+919876543210", ""},
		{"0151 12", "DE", "", CodePhoneTooShort},
		{"+49 151 234567890123456", "DE", "", CodePhoneTooLong},
		{"", "DE", "", CodePhoneMissing},
		{"   ", "DE", "", CodePhoneMissing},
		{"-", "DE", "", CodePhoneNotANumber},
		{"0800-FLOWERS", "DE", "", CodePhoneLetters},
		{"call me", "DE", "", CodePhoneLetters},
		{"+1 415 555 2671 ext. 12", "US", "", CodePhoneExtension},
		{"+1 415 555 2671 x12", "US", "", CodePhoneExtension},
		{"+1 415 555 2671;ext=12", "US", "", CodePhoneExtension},
		{"0151 23456789", "", "", CodePhoneNoRegion},
		{"+49 151 23456789", "", "+4915123456789", ""},
		{"+999 1234 5678", "DE", "", CodePhoneCountryCode},
		{"0111 1111111", "DE", "", ""}, // invalid for DE, code checked below
		{"+4915123456789", "DE", "+4915123456789", ""},
		{"\uFF0B49 151 23456789", "DE", "+4915123456789", ""}, // full-width plus: library path
		{"+49\u00a0151\u00a023456789", "DE", "+4915123456789", ""},
	}
	for _, tc := range tests {
		got, err := NormalizePhone(tc.raw, tc.region)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
			}
			continue
		}
		var pe *PhoneError
		if !errors.As(err, &pe) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want a *PhoneError", tc.raw, tc.region, got, err)
			continue
		}
		if tc.code != "" && pe.Code != tc.code {
			t.Errorf("NormalizePhone(%q, %q) code = %s (%v); want %s", tc.raw, tc.region, pe.Code, err, tc.code)
		}
	}
}

func TestPhoneErrorMessages(t *testing.T) {
	tests := []struct{ raw, region, msg string }{
		{"0151 12", "DE", `phone "0151 12" is too short for Germany (DE)`},
		{"+44 20 79", "DE", `phone "+44 20 79" is too short for United Kingdom (GB)`},
		{"0800-FLOWERS", "DE", `phone "0800-FLOWERS" contains letters; write the number in digits only`},
		{"abc", "DE", `phone "abc" contains letters; write the number in digits only`},
		{"+999 1234 5678", "DE", `phone "+999 1234 5678" starts with an unknown country code`},
	}
	for _, tc := range tests {
		_, err := NormalizePhone(tc.raw, tc.region)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("NormalizePhone(%q): %v; want %s", tc.raw, err, tc.msg)
		}
	}
}

// libE164 is the reference: phonenumbers.Parse, IsValidNumber, Format(E164).
func libE164(raw, region string) (string, bool) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

var agreementRegions = []string{
	"DE", "AT", "CH", "GB", "US", "CA", "FR", "IT", "ES", "NL", "BE", "PL", "TR", "IN",
	"BR", "AR", "MX", "CN", "JP", "AU", "RU", "SE", "NO", "DK", "IE", "PT", "GR", "CZ",
	"HU", "RO", "UA", "ZA", "NG", "KE", "EG", "SA", "AE", "IL", "KR", "ID", "PH", "VN",
	"TH", "SG", "MY", "PK", "BD", "CO", "CL", "PE", "NZ", "IM", "JE", "GG", "PR", "LU",
	"LI", "MC", "SM", "VA", "FI", "EE", "LV", "LT", "IR", "KZ", "UZ", "HR", "RS", "BG",
}

var allRegions = sync.OnceValue(func() []string {
	var ids []string
	for id := range phonenumbers.GetSupportedRegions() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
})

// phoneSample generates one number string in one of many real-world shapes,
// valid or broken, from the metadata's example numbers.
func phoneSample(r *rand.Rand) (raw, region string) {
	pool := agreementRegions
	if r.IntN(4) == 0 {
		pool = allRegions()
	}
	region = pool[r.IntN(len(pool))]
	src := pool[r.IntN(len(pool))]
	if r.IntN(3) == 0 {
		src = region
	}
	types := []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.VOIP, phonenumbers.PREMIUM_RATE}
	ex := phonenumbers.GetExampleNumberForType(src, types[r.IntN(len(types))])
	if ex == nil {
		ex = phonenumbers.GetExampleNumber(src)
	}
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	cc := strconv.Itoa(int(ex.GetCountryCode()))
	// mutate the national number
	b := []byte(nsn)
	switch r.IntN(6) {
	case 0, 1: // change trailing digits only: usually still valid
		for i := len(b) - 1; i >= len(b)-4 && i > 0; i-- {
			b[i] = byte('0' + r.IntN(10))
		}
	case 2: // change any digit
		b[r.IntN(len(b))] = byte('0' + r.IntN(10))
	case 3: // drop or add digits
		if r.IntN(2) == 0 && len(b) > 2 {
			b = b[:len(b)-1-r.IntN(min(3, len(b)-2))]
		} else {
			for range 1 + r.IntN(3) {
				b = append(b, byte('0'+r.IntN(10)))
			}
		}
	case 4: // random digits
		b = b[:0]
		for range 1 + r.IntN(16) {
			b = append(b, byte('0'+r.IntN(10)))
		}
	}
	nsn = string(b)
	var s string
	switch r.IntN(8) {
	case 0:
		s = "+" + cc + nsn
	case 1:
		s = "+" + cc + " " + group(r, nsn)
	case 2:
		s = "00" + cc + " " + group(r, nsn)
	case 3:
		idd := []string{"011", "010", "001", "0011", "00", "8~10", "810", "0"}[r.IntN(8)]
		s = idd + " " + cc + " " + group(r, nsn)
	case 4:
		np := phonenumbers.GetNddPrefixForRegion(src, true)
		s = np + group(r, nsn)
	case 5:
		s = cc + nsn
	case 6:
		s = "(" + nsn[:min(3, len(nsn))] + ") " + nsn[min(3, len(nsn)):]
	default:
		s = "+" + cc + " (0) " + group(r, nsn)
	}
	if r.IntN(20) == 0 { // odd characters that force the library path
		s = strings.Replace(s, " ", "\u00a0", 1)
	}
	return s, region
}

func group(r *rand.Rand, s string) string {
	seps := []string{" ", "-", "/", ".", ""}
	sep := seps[r.IntN(len(seps))]
	var b strings.Builder
	for i := 0; i < len(s); {
		n := min(2+r.IntN(3), len(s)-i)
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// TestPhoneAgreement checks NormalizePhone against the plain library path on
// generated numbers. Set IMPORTER_PHONE_SAMPLES for a longer run.
func TestPhoneAgreement(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("IMPORTER_PHONE_SAMPLES")); err == nil {
		n = v
	}
	r := rand.New(rand.NewPCG(1, 2))
	valid, fails := 0, 0
	for range n {
		raw, region := phoneSample(r)
		want, wantOK := libE164(raw, region)
		got, err := NormalizePhone(raw, region)
		if wantOK {
			valid++
		}
		if wantOK != (err == nil) || got != want {
			fails++
			if fails <= 20 {
				t.Errorf("NormalizePhone(%q, %q) = %q, %v; library says %q, %v", raw, region, got, err, want, wantOK)
			}
		}
	}
	t.Logf("%d samples, %d valid, %d disagreements", n, valid, fails)
	if valid < n/5 || valid > n*9/10 {
		t.Errorf("generator is unbalanced: %d of %d valid", valid, n)
	}
}

var benchPhones = []string{
	"+49 151 23456789", "0151/23456789", "(030) 1234567", "+1 (415) 555-2671",
	"00 44 20 7946 0958", "0049 151 23456789", "+91 98765 43210", "0171 2345678",
}

func BenchmarkNormalizePhone(b *testing.B) {
	b.Run("fast", func(b *testing.B) {
		var buf [32]byte
		for i := 0; b.Loop(); i++ {
			if _, err := normalizePhone(benchPhones[i%len(benchPhones)], "DE", buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := libE164(benchPhones[i%len(benchPhones)], "DE"); !ok {
				b.Fatal(benchPhones[i%len(benchPhones)])
			}
		}
	})
}

// TestNormalizePhoneAllocs: the fast path allocates nothing when given room
// for the result; MapRow relies on this for its per-row cost. A regexp call
// on a digit string without regexpInput would make the digits escape.
func TestNormalizePhoneAllocs(t *testing.T) {
	for _, raw := range append(benchPhones, "+44 7911 123456", "0 7911 123456") {
		for _, region := range []string{"DE", "GB"} {
			var buf [32]byte
			if _, err := normalizePhone(raw, region, buf[:0]); err != nil {
				continue
			}
			if n := testing.AllocsPerRun(100, func() { _, _ = normalizePhone(raw, region, buf[:0]) }); n != 0 {
				t.Errorf("normalizePhone(%q, %q) allocates %v times", raw, region, n)
			}
		}
	}
}
