package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Phone error codes (PhoneError.Code, and RowError.Code for the phone field).
const (
	CodePhoneMissing     = "phone_missing"
	CodePhoneNotANumber  = "phone_not_a_number"
	CodePhoneLetters     = "phone_letters"
	CodePhoneExtension   = "phone_extension"
	CodePhoneTooShort    = "phone_too_short"
	CodePhoneTooLong     = "phone_too_long"
	CodePhoneBadLength   = "phone_invalid_length"
	CodePhoneCountryCode = "phone_invalid_country_code"
	CodePhoneNoRegion    = "phone_no_region"
	CodePhoneInvalid     = "phone_invalid"
)

// PhoneError says why a phone number was refused.
type PhoneError struct {
	Raw    string // the value as given
	Region string // region the number was judged for ("DE"), "001" for global numbers, "" if none
	Code   string // one of the CodePhone* constants
	Reason string // e.g. "is too short"
}

// Error reads like: phone "0151 12" is too short for Germany (DE).
func (e *PhoneError) Error() string {
	msg := fmt.Sprintf("phone %q %s", e.Raw, e.Reason)
	switch e.Code {
	case CodePhoneTooShort, CodePhoneTooLong, CodePhoneBadLength, CodePhoneInvalid:
		if e.Region != "" {
			msg += " for " + regionLabel(e.Region)
		}
	}
	return msg
}

// regionLabel gives "Germany (DE)".
func regionLabel(region string) string {
	if region == "001" {
		return "international numbers (+800 etc.)"
	}
	if r, err := language.ParseRegion(region); err == nil {
		if name := display.English.Regions().Name(r); name != "" {
			return name + " (" + region + ")"
		}
	}
	return region
}

// phoneReasons end the message of each phone error code.
var phoneReasons = map[string]string{
	CodePhoneMissing:     "is empty",
	CodePhoneNotANumber:  "is not a phone number",
	CodePhoneLetters:     "contains letters; write the number in digits only",
	CodePhoneExtension:   "has an extension; an extension cannot receive messages, remove it",
	CodePhoneTooShort:    "is too short",
	CodePhoneTooLong:     "is too long",
	CodePhoneBadLength:   "has the wrong number of digits",
	CodePhoneCountryCode: "starts with an unknown country code",
	CodePhoneNoRegion:    "has no country code (+…) and the import has no default country",
	CodePhoneInvalid:     "is not a valid number",
}

func phoneErr(raw, region, code string) *PhoneError {
	return &PhoneError{Raw: raw, Region: region, Code: code, Reason: phoneReasons[code]}
}

// NormalizePhone returns raw in E.164 form ("+4915123456789"), reading numbers
// without a country code as numbers of defaultRegion (ISO 3166 code, e.g.
// "DE"; case-insensitive). Errors are *PhoneError.
//
// It accepts exactly the numbers phonenumbers accepts (Parse with
// defaultRegion, then IsValidNumber, formatted as E164) with two deliberate
// exceptions: numbers containing letters (vanity numbers such as
// "0800-FLOWERS", or any text) and numbers with an extension ("ext. 12",
// "x12", ";ext=12", "12#") are refused, because messages cannot be delivered
// to either.
//
// Numbers made only of digits, spaces, "-./()" and a leading "+" (nearly all
// real input) take a fast path: a re-implementation of phonenumbers' parsing
// steps over its own metadata with the metadata patterns compiled to DFAs, 20
// to 50 times faster than the library. Anything else goes through the library
// itself. TestPhoneAgreement checks both paths agree with the library.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	var buf [32]byte
	out, err := normalizePhone(raw, defaultRegion, buf[:0])
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// normalizePhone appends the E.164 number to dst.
func normalizePhone(raw, defaultRegion string, dst []byte) ([]byte, error) {
	out, _, err := normalizePhoneType(raw, defaultRegion, dst)
	return out, err
}

// normalizePhoneType is normalizePhone that also returns the number's type
// (NumberType). On the fast path the type falls out of the validity test
// (a number is valid when it has a type), so knowing it costs next to
// nothing: the special-type patterns die within a digit or two.
func normalizePhoneType(raw, defaultRegion string, dst []byte) ([]byte, phonenumbers.PhoneNumberType, error) {
	const unknown = phonenumbers.UNKNOWN
	s := strings.TrimSpace(raw)
	region := upperASCII(defaultRegion)
	if s == "" {
		return nil, unknown, phoneErr(raw, region, CodePhoneMissing)
	}
	if len(s) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return nil, unknown, phoneErr(raw, region, CodePhoneTooLong)
	}
	t := tables()
	var digits [24]byte
	nd, plus, simple := 0, false, true
scan:
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if nd == len(digits) {
				simple = false
				break scan
			}
			digits[nd] = c
			nd++
		case c == '+' && nd == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			simple = false
			break scan
		}
	}
	reg := t.regions[region]
	if !simple || reg == nil || nd == 2 {
		return normalizePhoneLibType(raw, s, region, dst)
	}
	if nd < 2 {
		return nil, unknown, phoneErr(raw, region, CodePhoneNotANumber)
	}
	reg.compile()
	cc, nsn, code, ok := fastParse(t, reg, string(digits[:nd]), plus)
	if !ok {
		return normalizePhoneLibType(raw, s, region, dst)
	}
	if code != "" {
		return nil, unknown, phoneErr(raw, judgedRegion(t, cc, region), code)
	}
	typ := t.numberType(cc, nsn) // isValid, with the type
	if typ == unknown {
		return nil, unknown, invalidPhoneErr(raw, t, cc, nsn, region)
	}
	dst = append(dst, '+')
	dst = strconv.AppendInt(dst, int64(cc), 10)
	return append(dst, nsn...), typ, nil
}

// judgedRegion names the region a number was judged for: the main region of
// its calling code, or the default region when none was found.
func judgedRegion(t *phoneTables, cc int, def string) string {
	if r := t.regions[def]; r != nil && r.cc == cc {
		return def
	}
	if cc > 0 && cc < 1000 && len(t.ccLookup[cc]) > 0 {
		return t.ccLookup[cc][0]
	}
	return def
}

// invalidPhoneErr explains why a parsed number is not valid, using the
// length rules of its calling code (as IsPossibleNumberWithReason does).
func invalidPhoneErr(raw string, t *phoneTables, cc int, nsn, def string) *PhoneError {
	region := judgedRegion(t, cc, def)
	code := CodePhoneInvalid
	if r := t.regionForCC(cc); r != nil {
		r.compile()
		l := r.testLength(nsn)
		if l != lenTooShort && l != lenTooLong {
			h := r.lengthHint(nsn)
			if h == lenInvalid && r.nppRe == nil && r.npp != "" && strings.HasPrefix(nsn, r.npp) {
				h = r.lengthHint(nsn[len(r.npp):]) // "(030) 1": the prefix stayed on
			}
			if h != lenInvalid {
				l = h
			}
		}
		switch l {
		case lenTooShort:
			code = CodePhoneTooShort
		case lenTooLong:
			code = CodePhoneTooLong
		case lenInvalid:
			code = CodePhoneBadLength
		}
	} else {
		code = CodePhoneCountryCode
	}
	return phoneErr(raw, region, code)
}

// fastParse re-implements phonenumbers' parseHelper for input that is only
// ASCII digits and separators (already reduced to its digits, with plus
// telling whether a "+" came first). It returns the calling code and the
// national significant number, or a parse error code. ok=false means the
// input takes a rare branch (an unknown calling code after "+", missing
// metadata) that is left to the library.
func fastParse(t *phoneTables, reg *phoneRegion, digits string, plus bool) (cc int, nsn, code string, ok bool) {
	var national string
	meta := reg
	fromIDD := plus
	full := digits
	if !plus {
		// maybeStripInternationalPrefixAndNormalize: an IDD counts only when
		// the digit after it is not 0.
		if end := reg.idd.matchEnd(digits); end >= 0 && (end == len(digits) || digits[end] != '0') {
			fromIDD = true
			full = digits[end:]
		}
	}
	if fromIDD {
		if len(full) <= phonenumbers.MIN_LENGTH_FOR_NSN {
			return 0, "", CodePhoneTooShort, true
		}
		cc, national = t.extractCC(full)
		if cc == 0 {
			if plus {
				return 0, "", "", false // the library retries without the plus
			}
			return 0, "", CodePhoneCountryCode, true
		}
		if meta = t.regionForCC(cc); meta == nil {
			return 0, "", "", false
		}
		meta.compile()
	} else {
		// A number starting with the default region's calling code may be an
		// international number written without "+" or "00".
		if strings.HasPrefix(digits, reg.ccs) {
			pot := reg.stripNationalPrefix(digits[len(reg.ccs):])
			fullValid := reg.general.patternMatch(digits)
			natValid := reg.general.patternMatch(pot)
			if (!fullValid && natValid) || reg.testLength(digits) == lenTooLong {
				cc, national = reg.cc, pot
				if meta = t.regionForCC(cc); meta == nil {
					return 0, "", "", false
				}
				meta.compile()
			}
		}
		if cc == 0 {
			cc, national = reg.cc, digits
		}
	}
	if len(national) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return cc, "", CodePhoneTooShort, true
	}
	pot := meta.stripNationalPrefix(national)
	switch meta.testLength(pot) {
	case lenTooShort, lenPossibleLocalOnly, lenInvalid:
	default:
		national = pot
	}
	if len(national) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return cc, "", CodePhoneTooShort, true
	}
	if len(national) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return cc, "", CodePhoneTooLong, true
	}
	return cc, national, "", true
}

// normalizePhoneLibType is normalizePhoneLib with the number's type.
func normalizePhoneLibType(raw, s, region string, dst []byte) ([]byte, phonenumbers.PhoneNumberType, error) {
	n := len(dst)
	out, err := normalizePhoneLib(raw, s, region, dst)
	if err != nil {
		return nil, phonenumbers.UNKNOWN, err
	}
	t := tables()
	cc, nsn := t.extractCC(string(out[n+1:]))
	return out, t.numberType(cc, nsn), nil
}

// normalizePhoneLib is the plain path: phonenumbers.Parse, IsValidNumber,
// Format(E164), plus the letter and extension rules of NormalizePhone.
func normalizePhoneLib(raw, s, region string, dst []byte) (out []byte, err error) {
	if _, ext := phonenumbers.MaybeSeparateExtensionFromPhone(s); ext != "" {
		return nil, phoneErr(raw, region, CodePhoneExtension)
	}
	if hasASCIILetter(s) {
		return nil, phoneErr(raw, region, CodePhoneLetters)
	}
	if _, ok := tables().regions[region]; !ok && !strings.ContainsAny(s, "+\uFF0B") {
		return nil, phoneErr(raw, "", CodePhoneNoRegion)
	}
	defer func() {
		if recover() != nil { // never let a library bug take down an import
			out, err = nil, phoneErr(raw, region, CodePhoneNotANumber)
		}
	}()
	num, perr := phonenumbers.Parse(s, region)
	if perr != nil {
		code := CodePhoneNotANumber
		switch {
		case errors.Is(perr, phonenumbers.ErrInvalidCountryCode):
			code = CodePhoneCountryCode
		case errors.Is(perr, phonenumbers.ErrTooShortNSN), errors.Is(perr, phonenumbers.ErrTooShortAfterIDD):
			code = CodePhoneTooShort
		case errors.Is(perr, phonenumbers.ErrNumTooLong):
			code = CodePhoneTooLong
		}
		return nil, phoneErr(raw, region, code)
	}
	if !phonenumbers.IsValidNumber(num) {
		cc := int(num.GetCountryCode())
		return nil, invalidPhoneErr(raw, tables(), cc, phonenumbers.GetNationalSignificantNumber(num), region)
	}
	return append(dst, phonenumbers.Format(num, phonenumbers.E164)...), nil
}

func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// SplitE164 returns the calling code and the national significant number
// of a number in E.164 form ("+4915123456789") as phonenumbers.Parse(e164,
// "") reads them (it may drop a national prefix written after the calling
// code), without the library's regular expressions. ok=false when the
// input is not "+" and digits or the library would refuse it or must
// decide; callers fall back to Parse then.
func SplitE164(e164 string) (cc int, nsn string, ok bool) {
	if len(e164) < 3 || len(e164) > 24 || e164[0] != '+' || !isDigits(e164[1:]) {
		return 0, "", false
	}
	t := tables()
	reg := t.regions["US"]
	if reg == nil {
		return 0, "", false
	}
	reg.compile()
	cc, nsn, code, ok := fastParse(t, reg, e164[1:], true)
	if !ok || code != "" {
		return 0, "", false
	}
	return cc, nsn, true
}

// NumberType is libphonenumber's type of a number in E.164 form
// (phonenumbers.GetNumberType), worked out from the same compiled patterns
// the fast path validates with: no regular expressions, no allocation.
// UNKNOWN for anything that is not a valid E.164 number.
// TestNumberTypeAgreement checks it against the library.
func NumberType(e164 string) phonenumbers.PhoneNumberType {
	if len(e164) < 3 || len(e164) > 24 || e164[0] != '+' || !isDigits(e164[1:]) {
		return phonenumbers.UNKNOWN
	}
	t := tables()
	cc, nsn := t.extractCC(e164[1:])
	if cc == 0 {
		return phonenumbers.UNKNOWN
	}
	return t.numberType(cc, nsn)
}

// LikelyLandline reports whether a number in E.164 form probably cannot
// take chat-app messages, judged by its number type (NumberType): a fixed
// line (030 1234567 in Berlin), or a service number that is not a
// person's phone: toll-free (0800), premium rate (0900), shared cost
// (0180), VoIP (032), a company's universal access number (UAN), a pager
// or a voicemail box. Mobile numbers, personal numbers (forwarded to
// wherever their owner is) and numbers the metadata cannot tell from a
// mobile (FIXED_LINE_OR_MOBILE, all of the US and Canada) are not flagged:
// the flag is a warning, never a refusal, so it errs on the side of
// silence.
func LikelyLandline(e164 string) bool { return landlineType(NumberType(e164)) }

func landlineType(t phonenumbers.PhoneNumberType) bool {
	switch t {
	case phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
		phonenumbers.VOIP, phonenumbers.UAN, phonenumbers.PAGER, phonenumbers.VOICEMAIL:
		return true
	}
	return false
}
