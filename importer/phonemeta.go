package importer

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// This file holds the per-region tables the fast phone path works from. They
// are derived from the same embedded metadata phonenumbers itself uses
// (phonenumbers.MetadataCollection), compiled once per region on first use and
// shared read-only by all goroutines afterwards.

// Validation results of testNumberLength, as in phonenumbers.
const (
	lenPossible = iota
	lenPossibleLocalOnly
	lenTooShort
	lenTooLong
	lenInvalid
)

// numberDesc is one PhoneNumberDesc (general, fixed line, mobile, ...) with
// its national-number pattern compiled to a DFA (or a regexp when the DFA
// compiler declines).
type numberDesc struct {
	lengths []int32
	never   bool // empty pattern: matches no national number
	dfa     *digitDFA
	re      *regexp.Regexp
}

func newNumberDesc(d *phonenumbers.PhoneNumberDesc) numberDesc {
	if d == nil || d.GetNationalNumberPattern() == "" {
		return numberDesc{never: true}
	}
	nd := numberDesc{lengths: d.GetPossibleLength()}
	if dfa, ok := compileDigitDFA(d.GetNationalNumberPattern()); ok {
		nd.dfa = dfa
	} else {
		nd.re = regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")
	}
	return nd
}

// patternMatch is the bare pattern test (no length check).
func (d *numberDesc) patternMatch(nsn string) bool {
	if d.never {
		return false
	}
	if d.dfa != nil {
		return d.dfa.match(nsn)
	}
	return d.re.MatchString(regexpInput(nsn))
}

// matches mirrors phonenumbers' isNumberMatchingDesc: the length must be one
// of the desc's possible lengths (when it lists any) and the pattern must
// match.
func (d *numberDesc) matches(nsn string) bool {
	if d.never {
		return false
	}
	if len(d.lengths) > 0 {
		n, ok := int32(len(nsn)), false
		for _, l := range d.lengths {
			if l == n {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return d.patternMatch(nsn)
}

// prefixRule is an anchored prefix pattern (international or national
// prefix). Plain digit strings, the common case, and choices of digit
// strings ("0|180020" for GB) are compared directly.
type prefixRule struct {
	literal string
	alts    []string       // alternatives in pattern order, when p is a choice of digit strings
	re      *regexp.Regexp // nil when literal or alts
}

func newPrefixRule(p string) prefixRule {
	if p == "" || isDigits(p) {
		return prefixRule{literal: p}
	}
	if alts := strings.Split(p, "|"); len(alts) > 1 && !slices.ContainsFunc(alts, func(a string) bool { return !isDigits(a) }) {
		return prefixRule{alts: alts}
	}
	return prefixRule{re: regexp.MustCompile("^(?:" + p + ")")}
}

// matchEnd returns the end of the match at position 0, or -1.
func (p *prefixRule) matchEnd(s string) int {
	if p.alts != nil {
		// The regexp would take the first choice that matches (leftmost-first).
		for _, a := range p.alts {
			if strings.HasPrefix(s, a) {
				return len(a)
			}
		}
		return -1
	}
	if p.re == nil {
		if len(s) >= len(p.literal) && s[:len(p.literal)] == p.literal {
			return len(p.literal)
		}
		return -1
	}
	loc := p.re.FindStringIndex(regexpInput(s))
	if loc == nil {
		return -1
	}
	return loc[1]
}

type phoneRegion struct {
	id   string
	cc   int
	ccs  string // cc in decimal
	md   *phonenumbers.PhoneMetadata
	once sync.Once

	// filled by compile
	general    numberDesc
	others     []numberDesc                   // premium, toll free, shared cost, VoIP, personal, pager, UAN, voicemail
	otherTypes []phonenumbers.PhoneNumberType // the type of each of others
	// othersFrom2[p] is false when no number starting with the two digits
	// p (00-99) can match any of others, so numberType skips them all.
	othersFrom2     [100]bool
	fixed, mobile   numberDesc
	sameMobileFixed bool
	generalLengths  []int32
	localLengths    []int32
	idd             prefixRule
	npp             string // national prefix for parsing ("" = none)
	nppRule         prefixRule
	nppRe           *regexp.Regexp // nil when npp is a plain digit string and there is no transform rule
	transform       string
	leading         *numberDesc // leading-digits rule for shared calling codes
}

func (r *phoneRegion) compile() {
	r.once.Do(func() {
		md := r.md
		r.general = newNumberDesc(md.GetGeneralDesc())
		for i, d := range []*phonenumbers.PhoneNumberDesc{
			md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
			md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(),
		} {
			if nd := newNumberDesc(d); !nd.never {
				r.others = append(r.others, nd)
				r.otherTypes = append(r.otherTypes, otherTypeOrder[i])
			}
		}
		for p := range r.othersFrom2 {
			two := string([]byte{byte('0' + p/10), byte('0' + p%10)})
			for i := range r.others {
				if d := &r.others[i]; d.dfa == nil || d.dfa.alive(two) {
					r.othersFrom2[p] = true
					break
				}
			}
		}
		r.fixed = newNumberDesc(md.GetFixedLine())
		r.mobile = newNumberDesc(md.GetMobile())
		r.sameMobileFixed = md.GetSameMobileAndFixedLinePattern()
		r.generalLengths = md.GetGeneralDesc().GetPossibleLength()
		r.localLengths = md.GetGeneralDesc().GetPossibleLengthLocalOnly()
		r.idd = newPrefixRule(md.GetInternationalPrefix())
		r.npp = md.GetNationalPrefixForParsing()
		r.transform = md.GetNationalPrefixTransformRule()
		if r.npp != "" {
			r.nppRule = newPrefixRule(r.npp)
			if r.transform != "" || r.nppRule.literal != r.npp {
				r.nppRe = regexp.MustCompile("^(?:" + r.npp + ")")
			}
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			nd := numberDesc{}
			if dfa, ok := compileDigitDFA(ld); ok {
				nd.dfa = dfa
			} else {
				nd.re = regexp.MustCompile("^(?:" + ld + ")")
			}
			r.leading = &nd
		}
	})
}

// leadingMatch mirrors the leading-digits test of phonenumbers'
// getRegionCodeForNumberFromRegionList (a prefix match).
func (r *phoneRegion) leadingMatch(nsn string) bool {
	if r.leading.dfa != nil {
		return r.leading.dfa.matchPrefix(nsn)
	}
	return r.leading.re.MatchString(regexpInput(nsn))
}

// testLength mirrors phonenumbers' testNumberLength for type UNKNOWN (the
// general description).
func (r *phoneRegion) testLength(number string) int {
	pl := r.generalLengths
	if len(pl) == 0 || pl[0] == -1 {
		return lenInvalid
	}
	n := int32(len(number))
	for _, l := range r.localLengths {
		if l == n {
			return lenPossibleLocalOnly
		}
	}
	switch {
	case pl[0] == n:
		return lenPossible
	case pl[0] > n:
		return lenTooShort
	case pl[len(pl)-1] < n:
		return lenTooLong
	}
	for _, l := range pl[1:] {
		if l == n {
			return lenPossible
		}
	}
	return lenInvalid
}

// typeValid mirrors getNumberTypeHelper(nsn, md) != UNKNOWN. Only whether
// some type matches counts, so the common types are tried first.
func (r *phoneRegion) typeValid(nsn string) bool {
	if !r.general.matches(nsn) {
		return false
	}
	if r.fixed.matches(nsn) || !r.sameMobileFixed && r.mobile.matches(nsn) {
		return true
	}
	for i := range r.others {
		if r.others[i].matches(nsn) {
			return true
		}
	}
	return false
}

// otherTypeOrder is the order getNumberTypeHelper tries the special types in.
var otherTypeOrder = [...]phonenumbers.PhoneNumberType{phonenumbers.PREMIUM_RATE, phonenumbers.TOLL_FREE,
	phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL}

// numberType mirrors phonenumbers' getNumberTypeHelper(nsn, md).
func (r *phoneRegion) numberType(nsn string) phonenumbers.PhoneNumberType {
	if !r.general.matches(nsn) {
		return phonenumbers.UNKNOWN
	}
	if len(nsn) < 2 || r.othersFrom2[int(nsn[0]-'0')*10+int(nsn[1]-'0')] {
		for i := range r.others {
			if r.others[i].matches(nsn) {
				return r.otherTypes[i]
			}
		}
	}
	if r.fixed.matches(nsn) {
		if r.sameMobileFixed || r.mobile.matches(nsn) {
			return phonenumbers.FIXED_LINE_OR_MOBILE
		}
		return phonenumbers.FIXED_LINE
	}
	if !r.sameMobileFixed && r.mobile.matches(nsn) {
		return phonenumbers.MOBILE
	}
	return phonenumbers.UNKNOWN
}

// stripNationalPrefix mirrors maybeStripNationalPrefixAndCarrierCode and
// returns the number with the national prefix removed (or number itself).
func (r *phoneRegion) stripNationalPrefix(number string) string {
	if len(number) == 0 || r.npp == "" {
		return number
	}
	if r.transform == "" && r.nppRule.re == nil { // digit prefix (or a choice of them), no transform rule
		end := r.nppRule.matchEnd(number)
		if end < 0 {
			return number
		}
		rest := number[end:]
		if r.general.patternMatch(number) && !r.general.patternMatch(rest) {
			return number
		}
		return rest
	}
	re, in := r.nppRe, regexpInput(number)
	if !re.MatchString(in) {
		return number
	}
	viable := r.general.patternMatch(number)
	groups := re.FindStringSubmatchIndex(in)
	numGroups := len(groups)/2 - 1
	if r.transform == "" || groups[numGroups*2] < 0 {
		if viable && !r.general.patternMatch(number[groups[1]:]) {
			return number
		}
		return number[groups[1]:]
	}
	transformed := re.ReplaceAllString(in, r.transform)
	if viable && !r.general.patternMatch(transformed) {
		return number
	}
	return transformed
}

// regexpInput copies s for the regexp package, which keeps its input
// reachable from pooled state. Without the copy every digit string of the
// fast path would escape, and normalizePhone could not build it on the
// stack (TestNormalizePhoneAllocs); the regexp paths are rare and allocate
// anyway.
func regexpInput(s string) string { return strings.Clone(s) }

type phoneTables struct {
	regions  map[string]*phoneRegion // by region code
	nonGeo   map[int]*phoneRegion    // "001" entities by calling code
	ccLookup [1000][]string          // calling code -> region codes, main region first
	// ccRegions holds the regions of ccLookup (nil where there is no
	// metadata), so the per-number lookups need no map access.
	ccRegions [1000][]*phoneRegion
}

var (
	phoneTablesOnce sync.Once
	phoneTab        *phoneTables
)

func tables() *phoneTables {
	phoneTablesOnce.Do(func() {
		t := &phoneTables{regions: map[string]*phoneRegion{}, nonGeo: map[int]*phoneRegion{}}
		coll, err := phonenumbers.MetadataCollection()
		if err == nil {
			for _, md := range coll.GetMetadata() {
				r := &phoneRegion{id: md.GetId(), cc: int(md.GetCountryCode()), md: md}
				r.ccs = strconv.Itoa(r.cc)
				if r.id == "001" {
					t.nonGeo[r.cc] = r
				} else {
					t.regions[r.id] = r
				}
			}
		}
		for cc := range phonenumbers.GetSupportedCallingCodes() {
			if cc > 0 && cc < 1000 {
				t.ccLookup[cc] = phonenumbers.GetRegionCodesForCountryCode(cc)
				for _, id := range t.ccLookup[cc] {
					r := t.regions[id]
					if id == "001" {
						r = t.nonGeo[cc]
					}
					t.ccRegions[cc] = append(t.ccRegions[cc], r)
				}
			}
		}
		phoneTab = t
	})
	return phoneTab
}

// regionForCC returns the metadata phonenumbers uses for numbers with this
// calling code (that of its main region, or the non-geographic entity).
func (t *phoneTables) regionForCC(cc int) *phoneRegion {
	if cc <= 0 || cc >= 1000 || len(t.ccRegions[cc]) == 0 {
		return nil
	}
	return t.ccRegions[cc][0]
}

// extractCC mirrors phonenumbers' extractCountryCode: the shortest prefix of
// one to three digits that is a known calling code.
func (t *phoneTables) extractCC(digits string) (cc int, rest string) {
	if len(digits) == 0 || digits[0] == '0' {
		return 0, digits
	}
	v := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		v = v*10 + int(digits[i]-'0')
		if len(t.ccLookup[v]) > 0 {
			return v, digits[i+1:]
		}
	}
	return 0, digits
}

// numberType mirrors phonenumbers.GetNumberType for a calling code and
// national significant number: the region is chosen as
// getRegionCodeForNumberFromRegionList does (leading digits, else the first
// region where the number has a type), then its type is taken.
func (t *phoneTables) numberType(cc int, nsn string) phonenumbers.PhoneNumberType {
	if cc <= 0 || cc >= 1000 {
		return phonenumbers.UNKNOWN
	}
	regions := t.ccRegions[cc]
	if len(regions) == 1 {
		if r := regions[0]; r != nil {
			r.compile()
			return r.numberType(nsn)
		}
		return phonenumbers.UNKNOWN
	}
	for _, r := range regions {
		if r == nil {
			continue
		}
		r.compile()
		if r.leading != nil {
			if r.leadingMatch(nsn) {
				return r.numberType(nsn)
			}
		} else if typ := r.numberType(nsn); typ != phonenumbers.UNKNOWN {
			return typ
		}
	}
	return phonenumbers.UNKNOWN
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lengthHint explains an invalid national number in terms of length, for
// error messages only: lenTooLong when a shorter prefix of it is a valid
// number, lenTooShort when appending digits could make it valid, otherwise
// lenInvalid.
func (r *phoneRegion) lengthHint(nsn string) int {
	minLen := int32(phonenumbers.MIN_LENGTH_FOR_NSN)
	if len(r.generalLengths) > 0 && r.generalLengths[0] > minLen {
		minLen = r.generalLengths[0]
	}
	for l := len(nsn) - 1; l >= int(minLen); l-- {
		if r.typeValid(nsn[:l]) {
			return lenTooLong
		}
	}
	maxLen := int32(0)
	if n := len(r.generalLengths); n > 0 {
		maxLen = r.generalLengths[n-1]
	}
	if int32(len(nsn)) < maxLen {
		descs := append([]numberDesc{r.fixed, r.mobile}, r.others...)
		for _, d := range descs {
			if d.dfa != nil && d.dfa.alive(nsn) {
				return lenTooShort
			}
		}
	}
	return lenInvalid
}
