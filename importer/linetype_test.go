package importer

import (
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestLikelyLandline(t *testing.T) {
	tests := []struct {
		raw, region string
		typ         phonenumbers.PhoneNumberType
		landline    bool
	}{
		{"030 1234567", "DE", phonenumbers.FIXED_LINE, true},               // Berlin
		{"(089) 12345678", "DE", phonenumbers.FIXED_LINE, true},            // Munich
		{"0151 23456789", "DE", phonenumbers.MOBILE, false},                // German mobile
		{"+49 171 2345678", "US", phonenumbers.MOBILE, false},              // German mobile, written internationally
		{"(415) 555-2671", "US", phonenumbers.FIXED_LINE_OR_MOBILE, false}, // US: cannot be told apart
		{"0800 1234567", "DE", phonenumbers.TOLL_FREE, true},
		{"0900 1234567", "DE", phonenumbers.PREMIUM_RATE, true},
		{"+44 20 7946 0958", "DE", phonenumbers.FIXED_LINE, true}, // London
		{"+44 7911 123456", "DE", phonenumbers.MOBILE, false},
	}
	for _, tc := range tests {
		e164, err := NormalizePhone(tc.raw, tc.region)
		if err != nil {
			t.Fatalf("NormalizePhone(%q): %v", tc.raw, err)
		}
		if got := NumberType(e164); got != tc.typ {
			t.Errorf("NumberType(%s) = %v, want %v", e164, got, tc.typ)
		}
		if got := LikelyLandline(e164); got != tc.landline {
			t.Errorf("LikelyLandline(%s) = %v, want %v", e164, got, tc.landline)
		}
	}
	for _, bad := range []string{"", "+", "+49", "4930123456", "+49 30", "+999123456"} {
		if LikelyLandline(bad) || NumberType(bad) != phonenumbers.UNKNOWN {
			t.Errorf("%q should have no type", bad)
		}
	}
}

// TestNumberTypeAgreement: NumberType agrees with phonenumbers.GetNumberType
// on every valid number of the phone generator.
func TestNumberTypeAgreement(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checked, fails := 0, 0
	for range 5000 {
		raw, region := phoneSample(r)
		e164, err := NormalizePhone(raw, region)
		if err != nil {
			continue
		}
		num, perr := phonenumbers.Parse(e164, "")
		if perr != nil {
			continue
		}
		checked++
		if want, got := phonenumbers.GetNumberType(num), NumberType(e164); got != want {
			fails++
			if fails <= 20 {
				t.Errorf("NumberType(%s) = %v; library says %v", e164, got, want)
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d valid numbers checked", checked)
	}
}

func TestMapRowFlagsLandline(t *testing.T) {
	m := Mapping{Columns: []ColumnMapping{{Index: 0, Header: "phone", Field: FieldPhone}}}
	for _, tc := range []struct {
		phone string
		want  bool
	}{{"030 1234567", true}, {"0151 23456789", false}} {
		c, rerr := MapRow(2, []string{tc.phone}, m, Defaults{Region: "DE"})
		if rerr != nil {
			t.Fatal(rerr)
		}
		if c.Landline != tc.want {
			t.Errorf("MapRow(%q).Landline = %v, want %v", tc.phone, c.Landline, tc.want)
		}
	}
}

func TestNumberTypeAllocs(t *testing.T) {
	for _, e := range []string{"+49301234567", "+4915123456789", "+14155552671"} {
		if n := testing.AllocsPerRun(100, func() { NumberType(e) }); n != 0 {
			t.Errorf("NumberType(%s) allocates %v times", e, n)
		}
	}
}

func BenchmarkNumberType(b *testing.B) {
	var nums []string
	for _, raw := range benchPhones {
		if e, err := NormalizePhone(raw, "DE"); err == nil {
			nums = append(nums, e)
		}
	}
	for i := 0; b.Loop(); i++ {
		LikelyLandline(nums[i%len(nums)])
	}
}
