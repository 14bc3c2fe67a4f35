package models

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// EscapeLike escapes s for a LIKE pattern with ESCAPE '\\' (its % and _
// match themselves).
func EscapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// JSONText is v as JSON for a text column (plain data only).
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data is marshalled here
	}
	return string(b)
}

// SQLiteParams bounds the parameters of one statement: the driver binds
// them in time quadratic in their number, so many small multi-row
// statements beat a few big ones.
const SQLiteParams = 400

// CleanStored drops NUL bytes and invalid UTF-8, which PostgreSQL refuses.
func CleanStored(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.TrimSpace(s)
}

// Clip shortens s to n characters, marking the cut with "…".
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Placeholders writes rows groups of ncols question marks.
func Placeholders(rows, ncols int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?, ", ncols), ", ") + ")"
	var sb strings.Builder
	sb.Grow(rows * (len(group) + 2))
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(group)
	}
	return sb.String()
}

// DollarArgs numbers the ? placeholders of q as $1, $2, … for pgx, and
// expands a slice argument into a list as GORM does ("t.tag IN ?" becomes
// "t.tag IN ($3,$4)", an empty slice "(NULL)"). The SQL is built by Optline's
// packages from fixed text; values always travel as arguments, so a ?
// never stands for anything but a placeholder.
func DollarArgs(q string, args []any) (string, []any) {
	var b strings.Builder
	b.Grow(len(q) + 16)
	out := make([]any, 0, len(args))
	n, k := 0, 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		var a any
		if k < len(args) {
			a = args[k]
		}
		k++
		if v := reflect.ValueOf(a); a != nil && v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8 {
			if v.Len() == 0 {
				b.WriteString("(NULL)")
				continue
			}
			b.WriteByte('(')
			for j := range v.Len() {
				if j > 0 {
					b.WriteByte(',')
				}
				n++
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
				out = append(out, v.Index(j).Interface())
			}
			b.WriteByte(')')
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		out = append(out, a)
	}
	return b.String(), append(out, args[min(k, len(args)):]...)
}
