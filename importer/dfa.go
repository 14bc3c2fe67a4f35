package importer

import (
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// digitDFA is a deterministic automaton over the ASCII digits compiled from
// one of libphonenumber's metadata patterns. Go's regexp engine backtracks
// through these patterns at several hundred nanoseconds per match; a table
// walk over a 15-digit number costs a few nanoseconds.
//
// Only the digits 0-9 can be fed to it: phone metadata patterns describe
// national significant numbers, which are always digit strings.
type digitDFA struct {
	next   []int32 // next[state*10+digit]; -1 means no match is possible any more
	accept []bool
}

const maxDFAStates = 1 << 16

// compileDigitDFA compiles pattern (RE2 syntax, as used in the metadata) to a
// DFA that decides a full match of a digit string, i.e. the same verdict as
// regexp.MustCompile("^(?:" + pattern + ")$").MatchString. It returns ok=false
// when the pattern uses constructs this compiler does not model (anchors,
// word boundaries) or when the automaton would be too large; callers then keep
// using the regexp.
func compileDigitDFA(pattern string) (d *digitDFA, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	// closure adds pc and everything reachable from it without consuming
	// input to set; it reports false when the program holds an instruction
	// that depends on context (anchors), which we do not model.
	var closure func(pc uint32, set []uint32) ([]uint32, bool)
	closure = func(pc uint32, set []uint32) ([]uint32, bool) {
		if slices.Contains(set, pc) {
			return set, true
		}
		set = append(set, pc)
		in := &prog.Inst[pc]
		var ok bool
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			if set, ok = closure(in.Out, set); !ok {
				return nil, false
			}
			return closure(in.Arg, set)
		case syntax.InstCapture, syntax.InstNop:
			return closure(in.Out, set)
		case syntax.InstEmptyWidth:
			return nil, false
		}
		return set, true
	}
	key := func(set []uint32) string {
		var b strings.Builder
		for _, pc := range set {
			b.WriteString(strconv.FormatUint(uint64(pc), 36))
			b.WriteByte(',')
		}
		return b.String()
	}
	start, ok := closure(uint32(prog.Start), nil)
	if !ok {
		return nil, false
	}
	slices.Sort(start)
	d = &digitDFA{}
	index := map[string]int32{}
	var sets [][]uint32
	add := func(set []uint32) int32 {
		k := key(set)
		if id, ok := index[k]; ok {
			return id
		}
		id := int32(len(sets))
		index[k] = id
		sets = append(sets, set)
		acc := false
		for _, pc := range set {
			if prog.Inst[pc].Op == syntax.InstMatch {
				acc = true
			}
		}
		d.accept = append(d.accept, acc)
		d.next = append(d.next, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
		return id
	}
	add(start)
	for s := 0; s < len(sets); s++ {
		if len(sets) > maxDFAStates {
			return nil, false
		}
		for digit := range 10 {
			var next []uint32
			for _, pc := range sets[s] {
				in := &prog.Inst[pc]
				switch in.Op {
				case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
					if in.MatchRune(rune('0' + digit)) {
						if next, ok = closure(in.Out, next); !ok {
							return nil, false
						}
					}
				}
			}
			if len(next) == 0 {
				continue
			}
			slices.Sort(next)
			d.next[s*10+digit] = add(next)
		}
	}
	return d, true
}

// walk is the state after reading digits from the start, -1 when no
// match is possible any more (the dead state, or a non-digit).
func (d *digitDFA) walk(digits string) int32 {
	s := int32(0)
	for i := 0; i < len(digits) && s >= 0; i++ {
		c := digits[i] - '0'
		if c > 9 {
			return -1
		}
		s = d.next[int(s)*10+int(c)]
	}
	return s
}

// match reports whether the whole of digits is accepted.
func (d *digitDFA) match(digits string) bool {
	s := d.walk(digits)
	return s >= 0 && d.accept[s]
}

// matchPrefix reports whether some prefix of digits (possibly empty) is
// accepted, the verdict of regexp "^(?:pattern)" MatchString.
func (d *digitDFA) matchPrefix(digits string) bool {
	s := int32(0)
	if d.accept[0] {
		return true
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i] - '0'
		if c > 9 {
			return false
		}
		s = d.next[int(s)*10+int(c)]
		if s < 0 {
			return false
		}
		if d.accept[s] {
			return true
		}
	}
	return false
}

// alive reports whether digits can still be extended to (or already is) a
// match: the walk over digits never reaches the dead state.
func (d *digitDFA) alive(digits string) bool { return d.walk(digits) >= 0 }
