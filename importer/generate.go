package importer

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// GenerateOptions shape a generated file.
type GenerateOptions struct {
	German    bool // German headers, dates and source words
	Delimiter rune // default ','
	BOM       bool // start with a UTF-8 byte order mark
}

// Generate writes a realistic contact list of n data rows for tests and
// benchmarks, deterministic for a seed: even seeds give English headers and
// commas, odd seeds German headers, semicolons and a BOM (as German Excel
// writes). See GenerateWith.
func Generate(w io.Writer, n int, seed int64) error {
	o := GenerateOptions{}
	if seed%2 != 0 {
		o = GenerateOptions{German: true, Delimiter: ';', BOM: true}
	}
	return GenerateWith(w, n, seed, o)
}

// GenerateWith writes n rows with columns phone, first and last name,
// e-mail, tags, opt-in date and source, language, customer number, city and
// notes. Phone numbers mix German national formats ("0151 2345678",
// "(030) 1234567") with international ones ("+49 …", "0049 …", "+44 …",
// "+1 (…) …", "+91 …", "+43 …", "+41 …"). About 2% of rows are bad (an
// impossible number, a malformed e-mail or an opt-in date in the future),
// about 3% repeat an earlier phone number (often written differently), about
// 10% have no consent columns, and about 1% carry a note with a line break.
// Memory use is constant.
func GenerateWith(w io.Writer, n int, seed int64, o GenerateOptions) error {
	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 64<<10)
	if o.BOM {
		if _, err := bw.Write(bomUTF8); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(bw)
	if o.Delimiter != 0 {
		cw.Comma = o.Delimiter
	}
	header := []string{"Phone", "First Name", "Last Name", "Email", "Tags", "Opt-in Date", "Opt-in Source", "Language", "Customer ID", "City", "Notes"}
	sources := []string{"web form", "checkout", "in store", "chat", "phone", "paper", "Website", "Online shop"}
	if o.German {
		header = []string{"Telefonnummer", "Vorname", "Nachname", "E-Mail-Adresse", "Schlagwörter", "Einwilligung am", "Einwilligungsquelle", "Sprache", "Kundennummer", "Ort", "Notiz"}
		sources = []string{"Webformular", "Kasse", "Laden", "Filiale", "Telefon", "Papierformular", "Geschäft", "Chat"}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	tagSep := ", "
	if o.Delimiter == ',' || o.Delimiter == 0 {
		tagSep = "|"
		if r.IntN(2) == 0 {
			tagSep = ", " // quoted by the writer
		}
	}
	var recent [1024]string // ring of recent good phone numbers, for duplicates
	nRecent := 0
	rec := make([]string, len(header))
	var sb strings.Builder
	for i := range n {
		bad := r.IntN(50) // 0 = bad row (2%)
		first := firstNames[r.IntN(len(firstNames))]
		last := lastNames[r.IntN(len(lastNames))]

		// phone
		var phone string
		if nRecent > 0 && r.IntN(100) < 3 {
			phone = reformat(r, recent[r.IntN(min(nRecent, len(recent)))])
		} else {
			phone = genPhone(r)
			recent[nRecent%len(recent)] = phone
			nRecent++
		}
		// email
		email := ""
		if r.IntN(10) < 8 {
			email = asciiFold(strings.ToLower(first)) + "." + asciiFold(strings.ToLower(strings.ReplaceAll(last, " ", ""))) +
				strconv.Itoa(r.IntN(100)) + "@" + domains[r.IntN(len(domains))]
		}
		// opt-in
		date, source := "", ""
		if r.IntN(10) != 0 {
			y, mo, d := 2019+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28)
			switch r.IntN(4) {
			case 0:
				date = fmt.Sprintf("%04d-%02d-%02d", y, mo, d)
			case 1:
				date = fmt.Sprintf("%02d.%02d.%04d", d, mo, y)
			case 2:
				date = fmt.Sprintf("%02d.%02d.%04d %02d:%02d", d, mo, y, r.IntN(24), r.IntN(60))
			default:
				date = fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, r.IntN(24), r.IntN(60), r.IntN(60))
			}
			source = sources[r.IntN(len(sources))]
		}
		if bad == 0 {
			switch r.IntN(3) {
			case 0:
				phone = badPhones[r.IntN(len(badPhones))]
			case 1:
				email = badEmails[r.IntN(len(badEmails))]
			default:
				date = []string{"2099-01-01", "01.01.2099", "2098-12-31T10:00:00Z"}[r.IntN(3)]
			}
		}
		// tags
		sb.Reset()
		for k := range r.IntN(4) {
			if k > 0 {
				sb.WriteString(tagSep)
			}
			sb.WriteString(tagWords[r.IntN(len(tagWords))])
		}
		notes := ""
		if r.IntN(100) == 0 {
			notes = "Rückruf erbeten\nab 17 Uhr"
		} else if r.IntN(5) == 0 {
			notes = noteWords[r.IntN(len(noteWords))]
		}
		rec[0] = phone
		rec[1] = first
		rec[2] = last
		rec[3] = email
		rec[4] = sb.String()
		rec[5] = date
		rec[6] = source
		rec[7] = languages[r.IntN(len(languages))]
		rec[8] = "K-" + strconv.Itoa(100000+i)
		rec[9] = cities[r.IntN(len(cities))]
		rec[10] = notes
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// genPhone returns a valid number in one of many spellings.
func genPhone(r *rand.Rand) string {
	mobile := []string{"151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"}[r.IntN(17)]
	sub := digits(r, 8)
	if mobile[1] != '5' {
		sub = digits(r, 7)
	}
	switch k := r.IntN(20); {
	case k < 5:
		return "0" + mobile + " " + sub
	case k < 7:
		return "0" + mobile + "/" + sub
	case k < 8:
		return "0" + mobile + "-" + sub[:3] + " " + sub[3:]
	case k < 11:
		return "+49 " + mobile + " " + sub
	case k < 12:
		return "0049 " + mobile + " " + sub
	case k < 13:
		return "+49 (0) " + mobile + " " + sub
	case k < 14:
		return "+49" + mobile + sub
	case k < 15:
		area := []string{"30", "40", "89", "221", "69", "711", "211"}[r.IntN(7)]
		return "(0" + area + ") " + "2" + digits(r, 6)
	case k < 16:
		return "+44 7" + []string{"4", "5", "7", "8", "9"}[r.IntN(5)] + digits(r, 2) + " " + digits(r, 6)
	case k < 17:
		npa := []string{"212", "415", "646", "312", "617", "206"}[r.IntN(6)]
		return "+1 (" + npa + ") " + strconv.Itoa(2+r.IntN(8)) + digits(r, 2) + "-" + digits(r, 4)
	case k < 18:
		return "+91 9" + strconv.Itoa(1+r.IntN(8)) + digits(r, 3) + " " + digits(r, 5)
	case k < 19:
		return "+43 664 " + digits(r, 7)
	default:
		return "+41 79 " + digits(r, 3) + " " + digits(r, 2) + " " + digits(r, 2)
	}
}

// reformat writes a number differently (a duplicate as people create them).
func reformat(r *rand.Rand, phone string) string {
	switch r.IntN(3) {
	case 0:
		return phone
	case 1:
		return strings.ReplaceAll(phone, " ", "")
	default:
		return strings.ReplaceAll(phone, " ", "-")
	}
}

var foldReplacer = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "ç", "c", "ş", "s", "ğ", "g", "ı", "i", "ø", "o", "ë", "e", "'", "")

func asciiFold(s string) string { return foldReplacer.Replace(s) }

var (
	firstNames = []string{"Jürgen", "Jörg", "Müge", "Anna", "Lena", "Lukas", "Sören", "Ömer", "Zoë", "Björn", "Hans-Peter",
		"Maria", "Elif", "Ayşe", "Jan", "Paul", "Emma", "Mia", "Noah", "Léa", "François", "Grace", "Olivia", "James", "Käthe"}
	lastNames = []string{"Müller", "Schäfer", "Weiß", "Groß", "Özdemir", "Yılmaz", "Schmidt", "Meyer", "Köhler", "Bäcker",
		"Fischer", "Wagner", "Becker", "Hoffmann", "Schröder", "von der Heide", "O'Brien", "Smith", "Dubois", "Nguyen", "Şahin"}
	domains   = []string{"example.com", "example.de", "mail.example.org", "beispiel.de", "test.example"}
	tagWords  = []string{"VIP", "Newsletter", "Stammkunde", "vip", "Sale", "Frühjahr", "B2B", "Event 2024", "Berlin", "newsletter"}
	languages = []string{"de", "de", "de", "en", "DE", "Deutsch", "English", "tr", "", "", "de-DE", "en_US"}
	cities    = []string{"Berlin", "München", "Köln", "Hamburg", "Düsseldorf", "Stuttgart", "Frankfurt am Main", "Leipzig", "Nürnberg", "Zürich", "Wien"}
	noteWords = []string{"Bitte nur abends", "prefers WhatsApp", "Kunde seit 2015", "=SUM(A1:A3)", "Größe M; Farbe blau", `sagt "Hallo"`}
	badPhones = []string{"0151 12", "12345", "+49 000 0000", "0000", "+1 555", "(030) 1"}
	badEmails = []string{"max.mustermann@", "max@@example.de", "name at example.com", "@example.de", "a b@example.de"}
)
