package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/demo"
)

// TestCrossTenantScan is a generic guard over every route with a path
// parameter, present and future: the demo business A is loaded with data
// of every area, and the owner of a fresh business B requests every such
// route with every id that belongs to A. No GET may show A's data, no
// request may fail with 500, and after the scan (POSTs included, with a
// valid CSRF token) A's rows are exactly as before.
func TestCrossTenantScan(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long scan")
	}
	a := newApp(t)
	a.ensureAdmin()
	ctx := context.Background()
	if _, err := demo.Load(ctx, a.db); err != nil {
		t.Fatalf("demo: %v", err)
	}
	owner, err := a.db.UserByEmail(ctx, demo.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := a.db.MembershipOf(ctx, owner.ID)
	bizA := m.BusinessID
	seedCampaignDraft(t, a, bizA)
	// A's campaigns with their messages (the report's routes).
	seedScanCampaigns(t, a, demo.OwnerEmail)
	tables := scopedTables(t, a.db)
	// Every area's table is scanned (the demo business has rows in each).
	for _, want := range []string{"contacts", "segments", "message_templates", "campaigns", "messages"} {
		if !slices.Contains(tables, want) {
			t.Fatalf("scan misses table %s: %v", want, tables)
		}
	}
	ids := candidateIDs(t, a.db, tables, bizA)
	before := snapshot(t, a.db, tables, bizA)
	markers := append([]string{"Sonnenschein", "demo.optline.invalid"}, personalValues(t, a.db, tables, bizA)...)

	b := a.signup("Beta Scan", "owner@beta-scan.example")
	b.primeCSRF("/team")
	token := b.csrf
	routes := a.srv.Echo.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	requests := 0
	for _, r := range routes {
		if !strings.Contains(r.Path, ":") || (r.Method != http.MethodGet && r.Method != http.MethodPost) || strings.HasPrefix(r.Path, "/invite/") {
			continue
		}
		for _, id := range ids {
			path := fillParams(r.Path, id)
			var p *page
			if r.Method == http.MethodGet {
				p = b.getRaw(path)
			} else {
				p = b.post(path, vals("_csrf", token))
			}
			requests++
			if p.Status >= 500 {
				t.Errorf("%s %s: status %d", r.Method, path, p.Status)
			}
			if p.Status == http.StatusOK {
				for _, mk := range markers {
					if strings.Contains(p.Body, mk) {
						t.Errorf("%s %s shows business A's data (%q)", r.Method, path, mk)
					}
				}
			}
		}
	}
	if after := snapshot(t, a.db, tables, bizA); after != before {
		t.Errorf("business A's rows changed during B's scan")
	}
	t.Logf("%d requests over %d ids and %d tables", requests, len(ids), len(tables))
}

func fillParams(path, id string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = id
		}
	}
	return strings.Join(parts, "/")
}

// scopedTables lists every table with a business_id column.
func scopedTables(t *testing.T, db *models.DB) []string {
	names, err := db.Gorm.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "river_") || n == "audit_events" {
			continue
		}
		// SQLite's search index (schema 10): an FTS5 virtual table, whose
		// DDL GORM cannot read, and its shadow tables. It has no
		// business_id column; its words carry the business and are read
		// only by the scoped contact queries, which this scan covers.
		if strings.HasPrefix(n, "contacts_fts") {
			continue
		}
		if hasColumn(t, db, n, "business_id") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// candidateIDs gathers the ids of A's rows in every scoped table, and A's
// own business id.
func candidateIDs(t *testing.T, db *models.DB, tables []string, biz int64) []string {
	seen := map[int64]bool{biz: true}
	for _, tb := range tables {
		if !hasColumn(t, db, tb, "id") {
			continue
		}
		var ids []int64
		if err := db.Gorm.Table(tb).Where("business_id = ?", biz).Order("id").Limit(15).Pluck("id", &ids).Error; err != nil {
			t.Fatalf("ids of %s: %v", tb, err)
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, strconv.FormatInt(id, 10))
	}
	sort.Strings(out)
	return out
}

// snapshot renders every row of A in every scoped table, plus A's
// business row, as text.
func snapshot(t *testing.T, db *models.DB, tables []string, biz int64) string {
	var b strings.Builder
	dump := func(tb, where string) {
		var rows []map[string]any
		if err := db.Gorm.Table(tb).Where(where, biz).Find(&rows).Error; err != nil {
			t.Fatalf("snapshot %s: %v", tb, err)
		}
		lines := make([]string, 0, len(rows))
		for _, r := range rows {
			keys := make([]string, 0, len(r))
			for k := range r {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var line strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&line, "%s.%s=%v;", tb, k, r[k])
			}
			lines = append(lines, line.String())
		}
		sort.Strings(lines)
		b.WriteString(strings.Join(lines, "\n"))
	}
	dump("businesses", "id = ?")
	for _, tb := range tables {
		dump(tb, "business_id = ?")
	}
	return b.String()
}

// hasColumn asks the table's real column list (GORM's SQLite HasColumn
// matches "id" inside "import_id").
func hasColumn(t *testing.T, db *models.DB, table, col string) bool {
	cols, err := db.Gorm.Migrator().ColumnTypes(table)
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	for _, c := range cols {
		if c.Name() == col {
			return true
		}
	}
	return false
}

// personalValues collects A's names, numbers and addresses (columns whose
// name contains name, phone or email) as markers that must never appear
// on B's pages.
func personalValues(t *testing.T, db *models.DB, tables []string, biz int64) []string {
	var out []string
	for _, tb := range tables {
		cols, err := db.Gorm.Migrator().ColumnTypes(tb)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			n := c.Name()
			if !strings.Contains(n, "name") && !strings.Contains(n, "phone") && !strings.Contains(n, "email") {
				continue
			}
			if strings.HasSuffix(n, "_hash") || strings.HasSuffix(n, "_path") {
				continue
			}
			var vals []string
			if err := db.Gorm.Table(tb).Where("business_id = ? AND "+n+" IS NOT NULL", biz).Limit(40).Pluck(n, &vals).Error; err != nil {
				continue // not a text column
			}
			for _, v := range vals {
				if len(v) >= 8 {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
