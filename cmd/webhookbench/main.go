// Command webhookbench measures the platform's webhook intake end to end on
// PostgreSQL: it makes a fresh database, a business with N sent messages
// (wamids), starts the real HTTP server (web.New + handlers.Register) and
// the job queue as the portal does, then posts signed status webhooks
// shaped as the platform sends them from concurrent clients over loopback
// — first one status per POST, then 100 per POST — and prints events/s from
// the first POST until every status is applied, the p50/p99 of the 200
// answers and the memory (Go heap sampled every 50 ms, peak RSS).
//
//	go run ./cmd/webhookbench -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	# -messages 250000 -single 20000 -batched 2000 -clients 50 -keep
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/cmd/internal/benchkit"
	"github.com/optline/optline/handlers"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

const (
	secret        = "webhookbench-app-secret"
	phoneNumberID = "106540352242922"
)

type options struct {
	dbURL                     string
	messages, single, batched int
	perPost, clients          int
	keep                      bool
	cpuprofile                string
}

func main() {
	var o options
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("TEST_DATABASE_URL"), "postgres:// URL of a server where a database may be created")
	flag.IntVar(&o.messages, "messages", 250_000, "messages the business has sent (each status names one)")
	flag.IntVar(&o.single, "single", 20_000, "POSTs of one status each")
	flag.IntVar(&o.batched, "batched", 2_000, "POSTs of -per-post statuses each")
	flag.IntVar(&o.perPost, "per-post", 100, "statuses per POST in the batched phase")
	flag.IntVar(&o.clients, "clients", 50, "concurrent clients")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the posting phases to this file")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhookbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if !strings.HasPrefix(o.dbURL, "postgres://") && !strings.HasPrefix(o.dbURL, "postgresql://") {
		return errors.New("-database-url (or TEST_DATABASE_URL) must be a postgres:// URL")
	}
	if o.single+o.batched*o.perPost > o.messages {
		return fmt.Errorf("-messages %d is fewer than the statuses posted", o.messages)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, done, err := benchkit.Scratch(ctx, o.dbURL, "optline_whbench_", o.keep, out)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(out, "machine: %s\n", benchkit.Machine())

	// The business, its sender and its sent messages.
	if _, err := db.CreateAdmin(ctx, models.NewUserInput{Name: "Bench Admin", Email: "admin@bench.example", Password: "correct horse battery"}); err != nil {
		return err
	}
	_, biz, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Bench Bakery",
		NewUserInput: models.NewUserInput{Name: "Owner", Email: "owner@bench.example", Password: "correct horse battery"}})
	if err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE businesses SET phone_number_id = $1, waba_id = '102290129340398' WHERE id = $2`, phoneNumberID, biz.ID); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO messages (business_id, template_name, template_language, to_phone, wamid, state, state_rank, created_at, updated_at)
		SELECT $1, 'offer_v1', 'de', '+49151' || lpad(g::text, 8, '0'), 'wamid.bench.' || g, 'accepted', 2, now(), now() FROM generate_series(1, $2::int) g`,
		biz.ID, o.messages); err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE messages`); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d messages stored in %s\n", o.messages, time.Since(t0).Round(time.Millisecond))

	// The portal: server, queue, intake, as cmd/portal builds them.
	dir, err := os.MkdirTemp("", "webhookbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := web.LoadConfig(nil, func(k string) string {
		switch k {
		case "PORTAL_DATA_DIR":
			return dir
		case "SESSION_SECRET":
			return "webhookbench-session-secret-0123456789abcdef"
		case "PORTAL_ADDR":
			return "127.0.0.1:0"
		case "WHATSAPP_APP_SECRET":
			return secret
		case "WHATSAPP_VERIFY_TOKEN":
			return "bench"
		}
		return ""
	})
	if err != nil {
		return err
	}
	queue := jobs.New(db, quiet, jobs.Config{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax})
	intake := webhook.New(webhook.Config{VerifyToken: cfg.Channel.VerifyToken, AppSecret: cfg.Channel.AppSecret},
		webhook.Deps{DB: db, Queue: queue, Log: quiet}, webhook.Options{})
	queue.Add(intake)
	srv := web.New(cfg, db, quiet, web.Options{})
	handlers.Register(srv, handlers.Deps{Files: blobstore.InDataDir(dir), Webhooks: intake})
	qctx, stopQueue := context.WithCancel(ctx)
	defer stopQueue()
	if err := queue.Start(qctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = queue.Stop(sctx)
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	url := "http://" + ln.Addr().String() + web.WebhookPath
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.clients * 2, MaxIdleConnsPerHost: o.clients * 2}, Timeout: 30 * time.Second}

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	mem := sampleMemory(50 * time.Millisecond)
	fmt.Fprintf(out, "clients: %d; Go heap before: %.0f MB\n", o.clients, mb(heapNow()))
	next := 1
	phase := func(label string, posts, per int, status string) error {
		bodies := make([][]byte, posts)
		for i := range bodies {
			sts := make([]map[string]any, per)
			for j := range sts {
				sts[j] = map[string]any{"id": fmt.Sprintf("wamid.bench.%d", next), "status": status, "timestamp": fmt.Sprint(time.Now().Unix()),
					"recipient_id": fmt.Sprintf("49151%08d", next), "recipient_user_id": fmt.Sprintf("DE.%d", next),
					"pricing": map[string]any{"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}}
				next++
			}
			bodies[i] = statusBody(sts)
		}
		first := next - posts*per
		heapStart := heapNow()
		mem.reset()
		lat := make([]time.Duration, posts)
		var idx atomic.Int64
		var failures atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for range o.clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(idx.Add(1)) - 1
					if i >= posts {
						return
					}
					b := bodies[i]
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Hub-Signature-256", webhook.SignatureHeader([]byte(secret), b))
					t := time.Now()
					res, err := client.Do(req)
					if err != nil {
						failures.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					lat[i] = time.Since(t)
					if res.StatusCode != http.StatusOK {
						failures.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		answered := time.Since(start)
		// Until every status is applied.
		want := int64(posts * per)
		for {
			var n int64
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE business_id = $1 AND state = $2 AND id BETWEEN $3 AND $4`,
				biz.ID, status, first, next-1).Scan(&n); err != nil {
				return err
			}
			if n >= want {
				break
			}
			if time.Since(start) > 10*time.Minute {
				return fmt.Errorf("%s: only %d of %d applied after 10 minutes", label, n, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		applied := time.Since(start)
		peak := mem.peak()
		slices.Sort(lat)
		fmt.Fprintf(out, "%s: %d POSTs × %d = %d statuses; all answered in %s (%.0f POSTs/s), all applied in %s: %.0f events/s; 200 answer p50 %s, p99 %s, max %s; failures %d; Go heap %.0f MB at start, peak %.0f MB, %.0f MB after\n",
			label, posts, per, want, answered.Round(time.Millisecond), float64(posts)/answered.Seconds(), applied.Round(time.Millisecond),
			float64(want)/applied.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), failures.Load(),
			mb(heapStart), mb(peak), mb(heapNow()))
		return nil
	}
	if err := phase("1 status per POST", o.single, 1, "delivered"); err != nil {
		return err
	}
	if err := phase(fmt.Sprintf("%d statuses per POST", o.perPost), o.batched, o.perPost, "delivered"); err != nil {
		return err
	}
	mem.stop()
	fmt.Fprintf(out, "process peak RSS (VmHWM): %s\n", benchkit.PeakRSS())
	return nil
}

func statusBody(sts []map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "102290129340398",
		"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"display_phone_number": "4930123456", "phone_number_id": phoneNumberID}, "statuses": sts}}}}}})
	return b
}

type memSampler struct {
	mu   sync.Mutex
	max  uint64
	done chan struct{}
}

func sampleMemory(every time.Duration) *memSampler {
	m := &memSampler{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
				h := heapNow()
				m.mu.Lock()
				m.max = max(m.max, h)
				m.mu.Unlock()
			}
		}
	}()
	return m
}

func (m *memSampler) reset()       { m.mu.Lock(); m.max = 0; m.mu.Unlock() }
func (m *memSampler) peak() uint64 { m.mu.Lock(); defer m.mu.Unlock(); return m.max }
func (m *memSampler) stop()        { close(m.done) }

func heapNow() uint64 {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
