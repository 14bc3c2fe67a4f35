package importer

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Encoding names a file's character encoding.
type Encoding string

// Supported encodings.
const (
	// UTF8 is UTF-8 with or without a byte order mark (the mark is dropped).
	UTF8 Encoding = "utf-8"
	// Windows1252 is what Excel on Windows writes for "CSV (comma delimited)"
	// in Western European locales ("ANSI"); ISO-8859-1 files read fine as it.
	Windows1252 Encoding = "windows-1252"
	// UTF16 is UTF-16 with a byte order mark, which Excel writes for
	// "Unicode Text" (tab-separated).
	UTF16 Encoding = "utf-16"
)

// Format says how to decode a file. Sniff guesses it; the user may override
// either part in the upload step.
type Format struct {
	Encoding  Encoding `json:"encoding"`
	Delimiter rune     `json:"delimiter"` // ',', ';' or '\t' (any rune csv accepts works)
}

// SniffSize is how much of the start of a file Sniff wants to see.
const SniffSize = 64 << 10

var delimiterCandidates = []rune{',', ';', '\t', '|'}

// Sniff guesses the encoding and delimiter from the first bytes of a file
// (ideally SniffSize bytes, or the whole file if shorter).
//
// Encoding: a UTF-8 or UTF-16 byte order mark decides; otherwise UTF-8 when
// the bytes are valid UTF-8 (a rune cut off at the end of head is allowed),
// else Windows-1252.
//
// Delimiter: for each of comma, semicolon, tab and pipe, the first lines are
// split respecting double quotes; the candidate whose column count is the
// same on most lines wins, ties going to the one with more columns and then
// to the order above. A file with one column gets a comma.
func Sniff(head []byte) Format {
	f := Format{Encoding: UTF8, Delimiter: ','}
	text := head
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		text = head[len(bomUTF8):]
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		f.Encoding = UTF16
		dec, _ := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(head[:len(head)&^1])
		text = dec
	case !validUTF8Prefix(head):
		f.Encoding = Windows1252
		dec, _ := charmap.Windows1252.NewDecoder().Bytes(head)
		text = dec
	}
	f.Delimiter = sniffDelimiter(text, len(head) >= SniffSize)
	return f
}

var bomUTF8 = []byte{0xEF, 0xBB, 0xBF}

// validUTF8Prefix is utf8.Valid but accepts an incomplete rune at the end.
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for cut := 1; cut <= 3 && cut < len(b); cut++ {
		tail := b[len(b)-cut:]
		if utf8.RuneStart(tail[0]) && !utf8.FullRune(tail) {
			return utf8.Valid(b[:len(b)-cut])
		}
	}
	return false
}

// sniffDelimiter counts fields per record for each candidate.
func sniffDelimiter(text []byte, truncated bool) rune {
	const maxRecords = 50
	best, bestScore, bestCols := ',', -1.0, 1
	for _, d := range delimiterCandidates {
		counts := recordFieldCounts(text, byte(d), maxRecords, truncated)
		if len(counts) == 0 {
			continue
		}
		// the most common column count, and how many records have it
		freq := map[int]int{}
		mode, modeN := 0, 0
		for _, c := range counts {
			freq[c]++
			if freq[c] > modeN || (freq[c] == modeN && c > mode) {
				mode, modeN = c, freq[c]
			}
		}
		if mode < 2 {
			continue
		}
		// The header must split too: a header with one column and data with
		// several means the candidate only appears inside values.
		if counts[0] < 2 {
			continue
		}
		score := float64(modeN) / float64(len(counts))
		if score > bestScore || (score == bestScore && mode > bestCols) {
			best, bestScore, bestCols = d, score, mode
		}
	}
	return best
}

// recordFieldCounts splits text into CSV records (quotes respected, blank
// lines skipped) and returns the number of fields of each. When truncated,
// the last record is dropped because it may be cut short.
func recordFieldCounts(text []byte, delim byte, maxRecords int, truncated bool) []int {
	var counts []int
	fields, inQuotes, fieldStart, empty := 1, false, true, true
	for i := 0; i < len(text) && len(counts) < maxRecords; i++ {
		c := text[i]
		switch {
		case inQuotes:
			if c == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					i++
				} else {
					inQuotes = false
				}
			}
		case c == '"' && fieldStart:
			inQuotes, fieldStart, empty = true, false, false
		case c == delim:
			fields++
			fieldStart, empty = true, false
		case c == '\n' || c == '\r':
			if !empty {
				counts = append(counts, fields)
			}
			fields, fieldStart, empty = 1, true, true
		default:
			fieldStart, empty = false, false
		}
	}
	if !empty && !truncated && len(counts) < maxRecords {
		counts = append(counts, fields)
	}
	return counts
}
