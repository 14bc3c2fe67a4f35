package models_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/demo"
)

func TestMigrationVersionsRunOneToLatest(t *testing.T) {
	t.Parallel()
	for i, m := range models.Migrations() {
		if m.Version != i+1 {
			t.Fatalf("migration %d (%q) is at position %d: versions must run 1, 2, 3… without gaps", m.Version, m.Name, i+1)
		}
		if m.Name == "" || (m.SQL == "" && m.Func == nil) {
			t.Fatalf("migration %d has no name or does nothing", m.Version)
		}
	}
}

// A data folder made by the release of 2026-12-03 (schema 7, the demo
// business loaded) opens with this binary, upgrades, and keeps its rows.
func TestReleaseDataFolderUpgradesAndKeepsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "optline.db")
	unzip(t, "testdata/release-2026-12-03.db.gz", path)
	db, err := models.Open(ctx, "sqlite:"+path, "", dbtest.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := tableCounts(t, db)
	if before["contacts"] != 60 || before["users"] != 2 {
		t.Fatalf("fixture is not the release demo folder: %v", before)
	}
	if err := db.Migrate(ctx, dbtest.Quiet); err != nil {
		t.Fatalf("upgrade the release folder: %v", err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != models.LatestVersion() {
		t.Fatalf("schema %d (%v) after upgrade, want %d", v, err, models.LatestVersion())
	}
	after := tableCounts(t, db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows before the upgrade, %d after", table, n, after[table])
		}
	}
	owner, err := db.UserByEmail(ctx, demo.OwnerEmail)
	if err != nil {
		t.Fatalf("demo owner lost: %v", err)
	}
	if owner.Name != "Lena Sommer" {
		t.Fatalf("demo owner's name = %q", owner.Name)
	}
}

func tableCounts(t *testing.T, db *models.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"users", "businesses", "memberships", "contacts", "contact_tags", "imports", "segments", "audit_events", "business_profiles"} {
		var n int64
		if err := db.WithContext(context.Background()).Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func unzip(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, z); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
