package importer

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// DisplayPhone shows an E.164 number in international format with spaces,
// "+49 151 23456789"; a number the library cannot read stays as it is.
//
// A list page shows fifty numbers, and libphonenumber's Parse (a dozen
// regular expressions) was a fifth of the page's CPU. The stored numbers
// are E.164 already, so the number is built from its digits (calling code,
// then the national number with its leading zeros) and only formatted;
// TestDisplayPhoneMatchesParse checks this gives what Parse+Format gives.
// Formatting still costs a few µs (the library picks the format by regular
// expressions), so results are remembered (phoneMemo).
func DisplayPhone(e164 string) string {
	return phoneTexts.get(e164, formatPhone)
}

func formatPhone(e164 string) string {
	if n := e164Number(e164); n != nil {
		return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// e164Number builds the number from the importer's fast reading of its
// digits, or returns nil when that path cannot say.
func e164Number(s string) *phonenumbers.PhoneNumber {
	cc, nsn, ok := SplitE164(s)
	if !ok || nsn == "" {
		return nil
	}
	num, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		return nil
	}
	n := &phonenumbers.PhoneNumber{CountryCode: proto32(int32(cc)), NationalNumber: &num}
	zeros := len(nsn) - len(strings.TrimLeft(nsn, "0"))
	if zeros == len(nsn) {
		return nil
	}
	if zeros > 0 {
		t, z := true, int32(zeros)
		n.ItalianLeadingZero = &t
		if zeros > 1 {
			n.NumberOfLeadingZeros = &z
		}
	}
	return n
}

func proto32(v int32) *int32 { return &v }

// phoneMemo remembers formatted numbers: a list page shows fifty numbers
// and the first page of a book is by far the most viewed one, so most
// lookups hit. It holds at most max entries and simply starts over when
// full, so its memory stays bounded (~1 MB) whatever the books hold.
type phoneMemo struct {
	mu  sync.RWMutex
	m   map[string]string
	max int
}

var phoneTexts = &phoneMemo{max: 8192}

func (p *phoneMemo) get(e164 string, format func(string) string) string {
	p.mu.RLock()
	s, ok := p.m[e164]
	p.mu.RUnlock()
	if ok {
		return s
	}
	s = format(e164)
	p.mu.Lock()
	if p.m == nil || len(p.m) >= p.max {
		p.m = make(map[string]string, 256)
	}
	p.m[e164] = s
	p.mu.Unlock()
	return s
}
