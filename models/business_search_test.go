package models_test

import (
	"context"
	"reflect"
	"testing"
)

// The administrators' business search folds accents and case: "cafe"
// finds Café (issue 8, item 11), on both databases.
func TestBusinessSearchFoldsAccents(t *testing.T) {
	t.Parallel()
	db, _ := ctDB(t)
	for _, name := range []string{"Café Rosa", "Bäckerei König", "Cafeteria Nord", "Blumen 100%"} {
		ctTenant(t, db, name)
	}
	ctx := context.Background()
	for q, want := range map[string][]string{
		"cafe":     {"Cafeteria Nord", "Café Rosa"},
		"CAFÉ":     {"Cafeteria Nord", "Café Rosa"},
		"konig":    {"Bäckerei König"},
		"backerei": {"Bäckerei König"},
		"100%":     {"Blumen 100%"},
		"%":        {"Blumen 100%"},
		"zzz":      nil,
	} {
		list, err := db.ListBusinesses(ctx, q, 50)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		var got []string
		for _, b := range list {
			got = append(got, b.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	if list, _ := db.ListBusinesses(ctx, "a", 2); len(list) != 2 {
		t.Errorf("limit: %d businesses", len(list))
	}
}
