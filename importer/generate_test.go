package importer

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	a, b := genFile(t, 2000, 7), genFile(t, 2000, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a, genFile(t, 2000, 9)) {
		t.Fatal("different seeds, same output")
	}
	if f := Sniff(a); f != (Format{UTF8, ';'}) || !bytes.HasPrefix(a, bomUTF8) || !bytes.Contains(a[:200], []byte("Telefonnummer")) {
		t.Errorf("odd seed: %+v %q", f, a[:60])
	}
	even := genFile(t, 10, 8)
	if f := Sniff(even); f != (Format{UTF8, ','}) || !bytes.HasPrefix(even, []byte("Phone,First Name")) {
		t.Errorf("even seed: %+v %q", f, even[:60])
	}

	const n = 20000
	seen := map[string]int{}
	dups, bad := 0, 0
	st, err := Run(context.Background(), bytes.NewReader(genFile(t, n, 11)), Config{Defaults: Defaults{Region: "DE", Now: testNow}}, func(b Batch) error {
		bad += len(b.Errors)
		for _, c := range b.Contacts {
			if seen[c.Phone]++; seen[c.Phone] > 1 {
				dups++
			}
		}
		return nil
	})
	if err != nil || st.Rows != n {
		t.Fatal(st, err)
	}
	if bad < n*15/1000 || bad > n*25/1000 {
		t.Errorf("%d bad rows, want about 2%%", bad)
	}
	if dups < n*2/100 || dups > n*4/100 {
		t.Errorf("%d duplicate phones, want about 3%%", dups)
	}
	international := 0
	for p := range seen {
		if !strings.HasPrefix(p, "+49") {
			international++
		}
	}
	if international < len(seen)/10 {
		t.Errorf("only %d of %d numbers are foreign", international, len(seen))
	}
}
