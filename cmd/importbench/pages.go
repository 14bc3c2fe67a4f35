package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/handlers"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/web"
)

// measurePages serves the portal on loopback, logs in as the owner and
// times the contact list and searches.
func (b *bench) measurePages(ctx context.Context) error {
	if ok, err := b.db.HasAdmin(ctx); err != nil {
		return err
	} else if !ok {
		if _, err := b.db.CreateAdmin(ctx, models.NewUserInput{Name: "Bench Admin", Email: "admin@bench.example", Password: ownerPassword}); err != nil {
			return err
		}
	}
	cfg, err := web.LoadConfig(nil, func(k string) string {
		switch k {
		case "PORTAL_DATA_DIR":
			return b.dir
		case "SESSION_SECRET":
			return "importbench-session-secret-0123456789abcdef"
		case "PORTAL_ADDR":
			return "127.0.0.1:0"
		}
		return ""
	})
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.New(cfg, b.db, quiet, web.Options{})
	handlers.Register(srv, handlers.Deps{Files: b.files, Imports: b.engine})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	client, err := login(base, b.o.clients)
	if err != nil {
		return err
	}
	contacts, err := b.countContacts(ctx)
	if err != nil {
		return err
	}
	name, fullName, digits, err := b.searchTerms(ctx, contacts)
	if err != nil {
		return err
	}
	cp := &capture{}
	if err := cp.install(b.db.Gorm); err != nil {
		return err
	}
	// The job queue runs during the load, as in the portal: its warnings
	// and a probe of its connections say whether page reads starve it.
	if err := b.startQueue(); err != nil {
		return err
	}
	time.Sleep(time.Second) // let it elect its leader
	b.queueLog.take()
	fmt.Fprintf(b.out, "\npages at %d contacts on %s, %d concurrent clients, %d requests each (loopback); alone: median of %d requests of one client:\n",
		contacts, b.db.Dialect, b.o.clients, b.o.requests, b.o.alone)
	fmt.Fprintf(b.out, "  %-36s %10s %10s %9s %9s %9s %9s %9s %8s %10s\n", "page", "first TTFB", "first full", "alone", "p50", "p95", "p99", "max", "req/s", "queue max")
	if b.o.pageprof != "" {
		pf, err := os.Create(b.o.pageprof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	var slow []string
	captures := map[string][]captured{}
	for _, pg := range []struct{ label, path string }{
		{"contact list", "/contacts"},
		{"search by name " + name, "/contacts?q=" + url.QueryEscape(name)},
		{"search by name " + fullName, "/contacts?q=" + url.QueryEscape(fullName)},
		{"search by number " + digits, "/contacts?q=" + url.QueryEscape(digits)},
	} {
		var ttfb, full time.Duration
		stmts, err := cp.during(func() (err error) {
			ttfb, full, err = firstRequest(client, base+pg.path)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", pg.label, err)
		}
		captures[pg.label] = stmts
		alone, _, err := load(client, base+pg.path, 1, b.o.alone)
		if err != nil {
			return fmt.Errorf("%s alone: %w", pg.label, err)
		}
		probe := b.probeQueue()
		lat, rate, err := load(client, base+pg.path, b.o.clients, b.o.requests)
		queueMax := probe()
		if err != nil {
			return fmt.Errorf("%s: %w", pg.label, err)
		}
		p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
		fmt.Fprintf(b.out, "  %-36s %10s %10s %9s %9s %9s %9s %9s %8.0f %10s\n", pg.label, ms(ttfb), ms(full), ms(alone[len(alone)/2]),
			ms(p(.50)), ms(p(.95)), ms(p(.99)), ms(lat[len(lat)-1]), rate, ms(queueMax))
		if (p(.99) >= 50*time.Millisecond && b.db.Dialect == models.Postgres) || b.o.explain {
			slow = append(slow, pg.label)
		}
	}
	n, first := b.queueLog.take()
	fmt.Fprintf(b.out, "  job queue during the load: %d warnings%s; queue max: slowest of its probes (a query on the queue's connections every 100 ms)\n",
		n, strings.Join(append([]string{""}, first...), "\n    "))
	for _, label := range slow {
		if err := b.explain(ctx, label, captures[label]); err != nil {
			return err
		}
	}
	return nil
}

// probeQueue runs a query of River's table on the job queue's own
// connections every 100 ms until the returned func is called, which
// returns the slowest.
func (b *bench) probeQueue() func() time.Duration {
	stop := make(chan struct{})
	var worst time.Duration
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t0 := time.Now()
			var n int64
			var err error
			if b.db.QueuePool != nil {
				err = b.db.QueuePool.QueryRow(ctx, "SELECT COUNT(*) FROM river_leader").Scan(&n)
			} else {
				err = b.db.QueueSQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM river_leader").Scan(&n)
			}
			cancel()
			if d := time.Since(t0); d > worst || err != nil {
				worst = max(worst, d)
			}
		}
	})
	return func() time.Duration { close(stop); wg.Wait(); return worst }
}

// countContacts is the size of the benchmark's book.
func (b *bench) countContacts(ctx context.Context) (int64, error) {
	return contacts.Count(ctx, b.tn, contacts.ContactFilter{})
}

// searchTerms picks a last name and the start of a number from the middle
// of the book.
func (b *bench) searchTerms(ctx context.Context, contacts int64) (name, full, digits string, err error) {
	var row struct {
		FirstName string
		LastName  string
		Phone     string
	}
	err = b.db.WithContext(ctx).Raw(`SELECT first_name, last_name, phone FROM contacts WHERE business_id = ? AND last_name <> '' AND first_name <> '' ORDER BY id LIMIT 1 OFFSET ?`,
		b.tn.BusinessID(), contacts/2).Scan(&row).Error
	if err != nil || row.Phone == "" {
		return "", "", "", errors.Join(err, errors.New("no contact to search for"))
	}
	name = strings.ToLower(row.LastName)
	if b.o.name != "" {
		name = b.o.name
	}
	// A first and last name together match a handful of contacts, so the
	// page cannot be filled from the newest rows: without an index the
	// search reads the whole book.
	full = strings.ToLower(row.FirstName + " " + row.LastName)
	// The start of the number, as typed with its country code: "+49 1512 34".
	return name, full, row.Phone[:min(len(row.Phone), 10)], nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login signs in through the form and returns a client holding the
// session, with room for n parallel connections.
func login(base string, n int) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConns: n * 2, MaxIdleConnsPerHost: n * 2, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on the login page (status %d)", resp.StatusCode)
	}
	resp, err = client.PostForm(base+"/login", url.Values{"_csrf": {string(m[1])}, "email": {"owner@bench.example"}, "password": {ownerPassword}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("log in: status %d", resp.StatusCode)
	}
	return client, nil
}

// firstRequest times one request: to its first byte and to its end.
func firstRequest(client *http.Client, u string) (ttfb, full time.Duration, err error) {
	var first time.Time
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	full = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return first.Sub(start), full, err
}

// load sends total requests from n clients at once and returns the sorted
// latencies and the rate achieved.
func load(client *http.Client, u string, n, total int) ([]time.Duration, float64, error) {
	var next atomic.Int64
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error] // errors of several types: atomic.Value would panic
	start := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(u)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d (%s)", resp.StatusCode, resp.Header.Get("Location"))
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	rate := float64(total) / time.Since(start).Seconds()
	if err := firstErr.Load(); err != nil {
		return nil, 0, *err
	}
	slices.Sort(lat)
	return lat, rate, nil
}

// capture records the SQL statements the portal runs while on, with
// their arguments, through GORM callbacks, so the plans printed are those
// of the queries the pages really run, whatever the contact book does.
type capture struct {
	mu    sync.Mutex
	on    bool
	stmts []captured
}

type captured struct {
	sql  string
	vars []any
}

func (cp *capture) install(g *gorm.DB) error {
	record := func(tx *gorm.DB) {
		cp.mu.Lock()
		defer cp.mu.Unlock()
		if cp.on && tx.Statement != nil && tx.Statement.SQL.Len() > 0 {
			cp.stmts = append(cp.stmts, captured{tx.Statement.SQL.String(), append([]any(nil), tx.Statement.Vars...)})
		}
	}
	cb := g.Callback()
	return errors.Join(
		cb.Query().After("gorm:query").Register("importbench:capture", record),
		cb.Raw().After("gorm:raw").Register("importbench:capture", record),
		cb.Row().After("gorm:row").Register("importbench:capture", record))
}

// during returns the statements run by fn.
func (cp *capture) during(fn func() error) ([]captured, error) {
	cp.mu.Lock()
	cp.on, cp.stmts = true, nil
	cp.mu.Unlock()
	err := fn()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.on = false
	return cp.stmts, err
}

// explain prints EXPLAIN ANALYZE of every SELECT a page request ran,
// slowest first.
func (b *bench) explain(ctx context.Context, label string, stmts []captured) error {
	type plan struct {
		sql   string
		lines []string
		took  float64
	}
	var plans []plan
	for _, st := range stmts {
		q := strings.TrimSpace(st.sql)
		if !strings.HasPrefix(strings.ToUpper(q), "SELECT") && !strings.HasPrefix(strings.ToUpper(q), "WITH") {
			continue
		}
		if b.db.Dialect == models.SQLite {
			lines, took, err := b.sqlitePlan(ctx, q, st.vars)
			if err != nil {
				return fmt.Errorf("explain %q: %w", q, err)
			}
			plans = append(plans, plan{sql: q, lines: lines, took: took})
			continue
		}
		rows, err := b.db.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, st.vars...)
		if err != nil {
			return fmt.Errorf("explain %q: %w", q, err)
		}
		p := plan{sql: q}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err
			}
			p.lines = append(p.lines, line)
			if v, ok := strings.CutPrefix(line, "Execution Time: "); ok {
				fmt.Sscanf(v, "%f", &p.took)
			}
		}
		rows.Close()
		plans = append(plans, p)
	}
	slices.SortFunc(plans, func(a, b plan) int { return int((b.took - a.took) * 1000) })
	note := "the list's page, count and tag queries and the session's run through pgx and are not captured"
	if b.db.Dialect == models.SQLite {
		note = "every query on SQLite; EXPLAIN QUERY PLAN, and the time of running it once"
	}
	fmt.Fprintf(b.out, "\nqueries behind %s (%d SELECTs through GORM; %s), slowest first:\n", label, len(plans), note)
	for i, p := range plans {
		fmt.Fprintf(b.out, "  %6.2f ms  %s\n", p.took, oneLine(p.sql, 160))
		if i < 2 {
			for _, l := range p.lines {
				fmt.Fprintln(b.out, "      "+l)
			}
		}
	}
	return nil
}

// sqlitePlan is SQLite's EXPLAIN QUERY PLAN of q and the time q takes
// (SQLite has no EXPLAIN ANALYZE).
func (b *bench) sqlitePlan(ctx context.Context, q string, vars []any) ([]string, float64, error) {
	var steps []struct {
		ID, Parent int
		Notused    int
		Detail     string
	}
	if err := b.db.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+q, vars...).Scan(&steps).Error; err != nil {
		return nil, 0, err
	}
	depth := map[int]int{}
	var lines []string
	for _, s := range steps {
		depth[s.ID] = depth[s.Parent] + 1
		lines = append(lines, strings.Repeat("  ", depth[s.ID])+s.Detail)
	}
	t0 := time.Now()
	rows, err := b.db.WithContext(ctx).Raw(q, vars...).Rows()
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
	}
	rows.Close()
	return lines, float64(time.Since(t0).Microseconds()) / 1000, rows.Err()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
