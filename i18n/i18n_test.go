package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEveryLocaleIsComplete: a second language must translate every key.
func TestEveryLocaleIsComplete(t *testing.T) {
	for _, tag := range Supported() {
		l := Get(tag)
		for _, k := range Default.Keys() {
			if !l.Has(k) {
				t.Errorf("%s lacks %q", tag, k)
			}
		}
	}
}

var keyUse = regexp.MustCompile(`(?:\.T\(|\bt\(c, |Invalid\("[a-z_]+", |\.Add\("[a-z_]+", |titleKey: |NewPage\(c, )"([a-z_]+\.[a-z_.]+)"`)

// TestUsedKeysExist scans the source for literal keys and checks each
// has an English message, so no page shows a raw key.
func TestUsedKeysExist(t *testing.T) {
	root := ".."
	_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".templ") {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], ".") {
				continue // a prefix completed at run time, e.g. "consent.source." + source
			}
			if !Default.Has(m[1]) {
				t.Errorf("%s uses missing key %q", path, m[1])
			}
		}
		return nil
	})
}

func TestFormatting(t *testing.T) {
	en, de := Get("en"), Get("de-DE")
	if got := en.Money(123456, "EUR"); got != "€1,234.56" {
		t.Errorf("en money %q", got)
	}
	if got := en.Int(-1234567); got != "-1,234,567" {
		t.Errorf("en int %q", got)
	}
	if got := en.MoneyScaled(1131, 4, "EUR"); got != "€0.1131" {
		t.Errorf("en rate %q", got)
	}
	if got := en.Money(-5, "USD"); got != "-$0.05" {
		t.Errorf("en negative %q", got)
	}
	if got := en.Percent(1, 3); got != "33.3 %" {
		t.Errorf("percent %q", got)
	}
	day := time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)
	if got := en.DateTime(day, nil); got != "5 Mar 2026 14:30" {
		t.Errorf("en date %q", got)
	}
	if de.Tag == "de" {
		if got := de.Money(123456, "EUR"); got != "1.234,56\u00a0€" {
			t.Errorf("de money %q", got)
		}
		if got := de.Date(day, nil); got != "05.03.2026" {
			t.Errorf("de date %q", got)
		}
	}
	if got := Match("fr-FR, en;q=0.5"); got.Tag != "en" {
		t.Errorf("match %q", got.Tag)
	}
	if got := Default.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key %q", got)
	}
}

var pluralUse = regexp.MustCompile(`\.N\("([a-z_]+\.[a-z_.]+)"`)

// TestPluralKeysExist: every count message used has at least its
// ".other" form, and English its ".one".
func TestPluralKeysExist(t *testing.T) {
	_ = filepath.Walk("..", func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".templ") {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, m := range pluralUse.FindAllStringSubmatch(string(b), -1) {
			for _, form := range []string{".one", ".other"} {
				if !Default.Has(m[1] + form) {
					t.Errorf("%s uses %q without %q", path, m[1], m[1]+form)
				}
			}
		}
		return nil
	})
}

func TestPlural(t *testing.T) {
	en := Get("en")
	for n, want := range map[int64]string{0: "0 matches", 1: "1 match", 2: "2 matches", 1000: "1,000 matches"} {
		if got := en.N("contacts.matches", n); got != want {
			t.Errorf("N(%d) = %q, want %q", n, got, want)
		}
	}
}
