// Command campaignbench measures the campaign sender end to end on
// PostgreSQL. It makes a scratch database, starts the portal's HTTP server
// with the webhook intake and the job queue as cmd/portal does, and a fake
// of the Cloud API in a child process (so the CPU figures are the
// portal's). Then:
//
//  1. for each audience size of -sizes: seeds that many opted-in
//     contacts, starts one campaign through the job queue with the
//     budget off and prints messages/s from Start until the fake took
//     every message, the time until every sent/delivered/read webhook
//     the fake posted back through /webhooks/whatsapp was applied, CPU
//     µs per message and peak memory (RSS is reset before each size: it
//     should be flat in the audience size);
//
//  2. freezes a campaign of -freeze-size recipients and prints the time;
//
//  3. sends -throttled messages with the budget at -rate per second and
//     prints the messages the fake took in each second (the maximum must
//     not exceed the rate, the average must be within 2% of it).
//
//     go run ./cmd/campaignbench -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//     # -sizes 20000,100000 -freeze-size 1000000 -throttled 15000 -rate 1000 -workers 64 -keep
package main

import (
	"bufio"
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
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/channel/cloudapi"
	"github.com/optline/optline/channel/webhook"
	"github.com/optline/optline/cmd/internal/benchkit"
	"github.com/optline/optline/handlers"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/campaigns"
	"github.com/optline/optline/models/templates"
	"github.com/optline/optline/sending"
	"github.com/optline/optline/web"
)

const (
	secret  = "campaignbench-app-secret"
	phoneID = "106540352242922"
	wabaID  = "102290129340398"
	token   = "campaignbench-token"
)

type options struct {
	dbURL               string
	sizes               []int
	freezeSize          int
	throttled, rate     int
	workers, batch      int
	webhooks, keep      bool
	cpuprofile          string
	fake                bool
	fakeAddr, fakeHook  string
	fakeWebhooks        bool
	fakeSecret, fakePID string
}

func main() {
	var o options
	var sizes string
	flag.StringVar(&o.dbURL, "database-url", os.Getenv("TEST_DATABASE_URL"), "postgres:// URL of a server where a database may be created")
	flag.StringVar(&sizes, "sizes", "100000", "audience sizes of the unthrottled runs, comma-separated (two sizes show memory is flat)")
	flag.IntVar(&o.freezeSize, "freeze-size", 1_000_000, "recipients of the freeze measurement (0: skip)")
	flag.IntVar(&o.throttled, "throttled", 15_000, "messages of the throttled run (0: skip)")
	flag.IntVar(&o.rate, "rate", 1000, "the budget of the throttled run, messages per second")
	flag.IntVar(&o.workers, "workers", 64, "sends in flight at once")
	flag.IntVar(&o.batch, "batch", 500, "messages claimed per batch")
	flag.BoolVar(&o.webhooks, "webhooks", true, "the fake posts sent/delivered/read webhooks back through the intake")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the unthrottled runs to this file")
	// The child process's flags.
	flag.BoolVar(&o.fake, "fake", false, "(internal) run the fake platform")
	flag.StringVar(&o.fakeAddr, "fake-addr", "127.0.0.1:0", "(internal)")
	flag.StringVar(&o.fakeHook, "fake-hook", "", "(internal)")
	flag.BoolVar(&o.fakeWebhooks, "fake-webhooks", true, "(internal)")
	flag.Parse()
	if o.fake {
		if err := runFake(o.fakeAddr, o.fakeHook, secret, phoneID, o.fakeWebhooks); err != nil {
			fmt.Fprintln(os.Stderr, "fake platform:", err)
			os.Exit(1)
		}
		return
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "campaignbench: -sizes wants positive numbers")
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "campaignbench:", err)
		os.Exit(1)
	}
}

type bench struct {
	o        options
	out      io.Writer
	db       *models.DB
	fakeURL  string
	queue    *jobs.Queue
	fast     *sending.Engine
	provider *cloudapi.Provider
	seq      int
}

func run(ctx context.Context, o options, out io.Writer) error {
	if !strings.HasPrefix(o.dbURL, "postgres://") && !strings.HasPrefix(o.dbURL, "postgresql://") {
		return errors.New("-database-url (or TEST_DATABASE_URL) must be a postgres:// URL")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, done, err := benchkit.Scratch(ctx, o.dbURL, "optline_campbench_", o.keep, out)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(out, "machine: %s (other work on the machine counts in every figure)\n", benchkit.Machine())

	// The portal: HTTP server with the intake, the queue, the sender.
	dir, err := os.MkdirTemp("", "campaignbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := web.LoadConfig(nil, func(k string) string {
		switch k {
		case "PORTAL_DATA_DIR":
			return dir
		case "SESSION_SECRET":
			return "campaignbench-session-secret-0123456789abcdef"
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
		webhook.Deps{DB: db, Queue: queue, Templates: templates.Events{DB: db}, Log: quiet}, webhook.Options{})
	srv := web.New(cfg, db, quiet, web.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hookURL := "http://" + ln.Addr().String() + web.WebhookPath

	// The fake platform, in a child process.
	fakeURL, stopFake, err := startFake(hookURL, o.webhooks)
	if err != nil {
		return err
	}
	defer stopFake()
	provider, err := cloudapi.New(cloudapi.Config{BaseURL: fakeURL, AccessToken: token, Client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 4 * o.workers, MaxIdleConnsPerHost: 4 * o.workers, IdleConnTimeout: time.Minute}}})
	if err != nil {
		return err
	}
	fast := sending.New(sending.Deps{DB: db, Queue: queue, Provider: provider, Log: quiet},
		sending.Options{Unthrottled: true, Workers: o.workers, BatchSize: o.batch})
	queue.Add(intake, fast)
	queue.Resume(fast)
	handlers.Register(srv, handlers.Deps{Files: blobstore.InDataDir(dir), Webhooks: intake, Channel: provider, Campaigns: fast})
	hs := &http.Server{Handler: srv.Echo, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	qctx, stopQueue := context.WithCancel(ctx)
	defer stopQueue()
	if err := queue.Start(qctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = queue.Stop(sctx)
	}()
	b := &bench{o: o, out: out, db: db, fakeURL: fakeURL, queue: queue, fast: fast, provider: provider}

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for _, n := range o.sizes {
		if err := b.unthrottled(ctx, n); err != nil {
			return err
		}
	}
	if o.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if o.freezeSize > 0 {
		if err := b.freeze(ctx, o.freezeSize); err != nil {
			return err
		}
	}
	if o.throttled > 0 {
		if err := b.throttledRun(ctx, o.throttled, o.rate); err != nil {
			return err
		}
	}
	return nil
}

// startFake runs this program as the fake platform and returns its URL.
func startFake(hook string, webhooks bool) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "-fake", "-fake-hook", hook, "-fake-webhooks="+strconv.FormatBool(webhooks))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		stop()
		return "", nil, fmt.Errorf("fake platform did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening ")), stop, nil
}

func (b *bench) stats(reset bool) (fakeStats, error) {
	u := b.fakeURL + "/stats"
	if reset {
		u += "?reset=1"
	}
	res, err := http.Get(u)
	if err != nil {
		return fakeStats{}, err
	}
	defer res.Body.Close()
	var s fakeStats
	return s, json.NewDecoder(res.Body).Decode(&s)
}

// business makes a business with the sender, an approved template and n
// opted-in contacts, and returns it with a campaign to all of them, due now.
func (b *bench) business(ctx context.Context, n int, state string) (models.Tenant, *campaigns.Campaign, time.Duration, error) {
	b.seq++
	db := b.db
	_, biz, err := db.SignUp(ctx, models.SignUpInput{BusinessName: fmt.Sprintf("Bench Bakery %d", b.seq),
		NewUserInput: models.NewUserInput{Name: "Owner", Email: fmt.Sprintf("owner%d@bench.example", b.seq), Password: "correct horse battery"}})
	if err != nil {
		return models.Tenant{}, nil, 0, err
	}
	// One sender number per portal: the previous business gives it up.
	if _, err := db.Pool.Exec(ctx, `UPDATE businesses SET phone_number_id = '', waba_id = '' WHERE phone_number_id = $1`, phoneID); err != nil {
		return models.Tenant{}, nil, 0, err
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE businesses SET phone_number_id = $1, waba_id = $2, messaging_tier = 0 WHERE id = $3`, phoneID, wabaID, biz.ID); err != nil {
		return models.Tenant{}, nil, 0, err
	}
	tn, err := db.Tenant(biz.ID)
	if err != nil {
		return tn, nil, 0, err
	}
	now := db.Now()
	tpl := &templates.Template{BusinessID: biz.ID, Name: "offer_v1", Language: "de", Category: "MARKETING", Body: "Hallo {{1}}, heute {{2}} auf alles.",
		BodySamplesJSON: `["Alex","20 %"]`, ButtonsJSON: "[]", Status: templates.StateApproved, Quality: templates.QualityGreen,
		ExternalID: fmt.Sprintf("bench%d", b.seq), AccountID: wabaID, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.WithContext(ctx).Create(tpl).Error; err != nil {
		return tn, nil, 0, err
	}
	t0 := time.Now()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO contacts (business_id, phone, phone_hash, name, first_name, consent_state, opted_in_at,
			opt_in_source, attrs, search, created_at, updated_at)
		SELECT $1, p, encode(sha256(convert_to('optline/phone/v1:' || p, 'UTF8')), 'hex'), 'Kunde ' || g, 'Kunde' || g, 'opted_in', now(),
			'bench', '{}', '', now(), now()
		FROM (SELECT g, '+49151' || lpad(g::text, 8, '0') AS p FROM generate_series(1, $2::int) g) s`, biz.ID, n); err != nil {
		return tn, nil, 0, err
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE contacts`); err != nil {
		return tn, nil, 0, err
	}
	seeded := time.Since(t0)
	due := now.Add(-time.Second)
	c := &campaigns.Campaign{BusinessID: biz.ID, Name: "Bench", TemplateID: tpl.ID, TemplateName: tpl.Name, TemplateLanguage: tpl.Language,
		Category: tpl.Category, Mapping: campaigns.Mapping{{Part: "body", N: 1, Source: campaigns.SourceField, Key: "first_name", Fallback: "du"},
			{Part: "body", N: 2, Source: campaigns.SourceText, Key: "20 %"}},
		SegmentIDs: campaigns.IDList{}, AllContacts: true, FitMode: campaigns.FitRefuse, State: state, TimeZone: "Europe/Berlin",
		ScheduledAt: &due, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.WithContext(ctx).Create(c).Error; err != nil {
		return tn, nil, 0, err
	}
	return tn, c, seeded, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapMB() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

func (b *bench) count(ctx context.Context, tn models.Tenant, c *campaigns.Campaign, cond string) (int64, error) {
	var n int64
	err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE business_id = $1 AND campaign_id = $2 AND `+cond, tn.BusinessID(), c.ID).Scan(&n)
	return n, err
}

// unthrottled sends one campaign of n through the job queue, budget off.
func (b *bench) unthrottled(ctx context.Context, n int) error {
	tn, c, seeded, err := b.business(ctx, n, campaigns.Scheduled)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n== unthrottled campaign, %d recipients (contacts seeded in %s)\n", n, seeded.Round(time.Millisecond))
	s0, err := b.stats(true)
	if err != nil {
		return err
	}
	runtime.GC()
	benchkit.ResetPeakRSS()
	cpu0 := cpuTime()
	t0 := time.Now()
	if err := b.fast.Start(ctx, tn, nil, c.ID); err != nil {
		return err
	}
	started := time.Since(t0)
	var peakHeap float64
	var accepted time.Duration
	for {
		s, err := b.stats(false)
		if err != nil {
			return err
		}
		peakHeap = max(peakHeap, heapMB())
		if s.Accepted >= int64(n) {
			accepted = time.Since(t0)
			break
		}
		if time.Since(t0) > 20*time.Minute {
			return fmt.Errorf("only %d of %d accepted after 20 minutes", s.Accepted, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cpuSend := cpuTime() - cpu0
	// Until the campaign is done and every status webhook is applied.
	var done, read time.Duration
	for done == 0 || (b.o.webhooks && read == 0) {
		if done == 0 {
			if got, err := campaigns.Load(ctx, tn, c.ID); err == nil && got.State == campaigns.Done {
				done = time.Since(t0)
			}
		}
		if b.o.webhooks && read == 0 {
			if r, err := b.count(ctx, tn, c, "state = 'read'"); err == nil && r >= int64(n) {
				read = time.Since(t0)
			}
		}
		peakHeap = max(peakHeap, heapMB())
		if time.Since(t0) > 30*time.Minute {
			return errors.New("the campaign did not finish within 30 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	s, err := b.stats(false)
	if err != nil {
		return err
	}
	left, _ := b.count(ctx, tn, c, "state IN ('queued', 'sending', 'unconfirmed', 'failed')")
	fmt.Fprintf(b.out, "start (freeze %d + enqueue): %s\n", n, started.Round(time.Millisecond))
	fmt.Fprintf(b.out, "start → all accepted: %s = %.0f messages/s (sending alone, after the start returned: %.0f/s)\n",
		accepted.Round(time.Millisecond), float64(n)/accepted.Seconds(), float64(n)/(accepted-started).Seconds())
	fmt.Fprintf(b.out, "campaign done after %s", done.Round(time.Millisecond))
	if b.o.webhooks {
		fmt.Fprintf(b.out, "; every sent/delivered/read webhook applied after %s (%d statuses posted, %d POSTs failed)",
			read.Round(time.Millisecond), s.Posted-s0.Posted, s.PostErrors-s0.PostErrors)
	}
	fmt.Fprintf(b.out, "\nCPU of the portal process (sender, queue, intake) until all accepted: %.1f µs per message\n",
		float64(cpuSend.Microseconds())/float64(n))
	fmt.Fprintf(b.out, "duplicates at the platform: %d; messages not accepted: %d\n", s.Duplicates, left)
	fmt.Fprintf(b.out, "memory: peak RSS %s, Go heap peak %.0f MB (sampled)\n", benchkit.PeakRSS(), peakHeap)
	return nil
}

// freeze times the freezing of an audience of n.
func (b *bench) freeze(ctx context.Context, n int) error {
	// A draft: the scheduler leaves it alone.
	tn, c, seeded, err := b.business(ctx, n, campaigns.Draft)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n== freeze, %d recipients (contacts seeded in %s)\n", n, seeded.Round(time.Millisecond))
	t0 := time.Now()
	var got int
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		var err error
		got, err = campaigns.Freeze(ctx, tx, c, -1)
		return err
	})
	if err != nil {
		return err
	}
	d := time.Since(t0)
	fmt.Fprintf(b.out, "froze %d messages in %s = %.0f rows/s\n", got, d.Round(time.Millisecond), float64(got)/d.Seconds())
	_, err = b.db.Pool.Exec(ctx, `DELETE FROM messages WHERE campaign_id = $1`, c.ID)
	return err
}

// throttledRun sends n with the budget at rate and prints each second.
func (b *bench) throttledRun(ctx context.Context, n, rate int) error {
	tn, c, _, err := b.business(ctx, n, campaigns.Draft)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "\n== throttled campaign, %d recipients at %d/s\n", n, rate)
	// Its own sender, driven here rather than by the queue (whose workers
	// belong to the unthrottled sender).
	slow := sending.New(sending.Deps{DB: b.db, Queue: b.queue, Provider: b.provider, Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		sending.Options{Rate: rate, Workers: b.o.workers, BatchSize: b.o.batch})
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		if err := tx.Scoped(ctx).Model(c).Update("state", campaigns.Sending).Error; err != nil {
			return err
		}
		_, err := campaigns.Freeze(ctx, tx, c, -1)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := b.stats(true); err != nil {
		return err
	}
	t0 := time.Now()
	for {
		res, err := slow.RunSlice(ctx, sending.SendArgs{CampaignID: c.ID, BusinessID: c.BusinessID}, "bench")
		if err != nil {
			return err
		}
		if !res.More {
			break
		}
		time.Sleep(res.Wait)
	}
	d := time.Since(t0)
	s, err := b.stats(false)
	if err != nil {
		return err
	}
	var secs []int64
	for k := range s.PerSecond {
		v, _ := strconv.ParseInt(k, 10, 64)
		secs = append(secs, v)
	}
	slices.Sort(secs)
	var counts []int64
	var maxSec, sum int64
	for i, sec := range secs {
		v := s.PerSecond[strconv.FormatInt(sec, 10)]
		counts = append(counts, v)
		maxSec = max(maxSec, v)
		if i > 0 && i < len(secs)-1 { // full seconds only
			sum += v
		}
	}
	fmt.Fprintf(b.out, "sent %d in %s; per second: %v\n", s.Accepted, d.Round(time.Millisecond), counts)
	if len(secs) > 2 {
		avg := float64(sum) / float64(len(secs)-2)
		fmt.Fprintf(b.out, "max second %d (limit %d); average of the full seconds %.1f/s = %.2f%% of the rate; duplicates %d\n",
			maxSec, rate, avg, 100*avg/float64(rate), s.Duplicates)
	}
	return nil
}
