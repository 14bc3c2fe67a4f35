package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/cmd/internal/benchkit"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

const ownerPassword = "bench owner password 1"

type bench struct {
	o       options
	out     io.Writer
	db      *models.DB
	dir     string
	files   blobstore.Store
	queue   *jobs.Queue
	engine  *contactimport.Engine
	owner   *models.User
	tn      models.Tenant
	stopQ   context.CancelFunc
	started bool
	// Where the import job's time went, summed over its slices.
	applyTime, recordTime, waitTime atomic.Int64
	// queueLog counts the job queue's warnings (River's leader election
	// timing out, for one).
	queueLog *warnCounter
}

// timed is the engine's Hooks.Timed: it sums each slice's times.
func (b *bench) timed(apply, record, wait time.Duration) {
	b.applyTime.Add(int64(apply))
	b.recordTime.Add(int64(record))
	b.waitTime.Add(int64(wait))
}

// startQueue starts the job queue once.
func (b *bench) startQueue() error {
	if b.started {
		return nil
	}
	qctx, cancel := context.WithCancel(context.Background())
	b.stopQ = cancel
	if err := b.queue.Start(qctx); err != nil {
		cancel()
		return err
	}
	b.started = true
	return nil
}

// warnCounter is a slog.Handler that counts warnings and errors and keeps
// the first few.
type warnCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if len(w.first) < 3 {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" || a.Key == "error" {
				msg += ": " + a.Value.String()
			}
			return true
		})
		w.first = append(w.first, msg)
	}
	return nil
}

func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCounter) WithGroup(string) slog.Handler      { return w }

// take returns the count and first messages so far, and starts afresh.
func (w *warnCounter) take() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, first := w.n, w.first
	w.n, w.first = 0, nil
	return n, first
}

func newBench(ctx context.Context, db *models.DB, o options, out io.Writer) (*bench, error) {
	dir, err := os.MkdirTemp("", "importbench-")
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, out: out, db: db, dir: dir, files: blobstore.InDataDir(dir)}
	owner, biz, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Benchmark GmbH",
		NewUserInput: models.NewUserInput{Name: "Bea Bench", Email: "owner@bench.example", Password: ownerPassword}})
	if err != nil {
		return nil, err
	}
	return b, b.setUp(ctx, owner, biz.ID)
}

// openBench finds the owner and business of a database an earlier run
// kept.
func openBench(ctx context.Context, db *models.DB, o options, out io.Writer) (*bench, error) {
	dir, err := os.MkdirTemp("", "importbench-")
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, out: out, db: db, dir: dir, files: blobstore.InDataDir(dir)}
	owner, err := db.UserByEmail(ctx, "owner@bench.example")
	if err != nil {
		return nil, fmt.Errorf("owner of the kept database: %w", err)
	}
	m, err := db.MembershipOf(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	return b, b.setUp(ctx, owner, m.BusinessID)
}

func (b *bench) setUp(ctx context.Context, owner *models.User, businessID int64) error {
	db, o := b.db, b.o
	var err error
	b.owner = owner
	if b.tn, err = db.Tenant(businessID); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.queueLog = &warnCounter{}
	// The portal's session time-outs: with none, the clean-up job would
	// end the benchmark's own session.
	b.queue = jobs.New(db, slog.New(b.queueLog), jobs.Config{SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour, Poll: 100 * time.Millisecond})
	b.engine = contactimport.New(contactimport.DepsFor(db, b.files, b.queue, quiet),
		contactimport.Options{BatchSize: o.batch, Hooks: &contactimport.Hooks{Timed: b.timed}})
	b.queue.Add(b.engine)
	return nil
}

func (b *bench) close() {
	if b.started {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = b.queue.Stop(ctx)
		cancel()
		b.stopQ()
	}
	_ = os.RemoveAll(b.dir)
}

// importFile generates the file, stores and checks it as the upload does,
// confirms the detected mapping with consent from the file's columns, and
// lets the queue's import job run it to the end.
func (b *bench) importFile(ctx context.Context) error {
	path := filepath.Join(b.dir, "contacts.csv")
	start := time.Now()
	if err := generate(path, b.o.rows, b.o.seed); err != nil {
		return err
	}
	st, _ := os.Stat(path)
	fmt.Fprintf(b.out, "generated %d rows (%.1f MB) in %s\n", b.o.rows, float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond))

	if b.o.cpuprof != "" {
		pf, err := os.Create(b.o.cpuprof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	benchkit.ResetPeakRSS()
	runtime.GC()
	mem := sampleMemory(10 * time.Millisecond)
	t0 := time.Now()

	// The upload: store the file, then read it once to check it.
	key := blobstore.NewKey("imports/"+strconv.FormatInt(b.tn.BusinessID(), 10), ".csv")
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	size, err := b.files.Put(ctx, key, bufio.NewReaderSize(f, 1<<20))
	f.Close()
	if err != nil {
		return err
	}
	stored := time.Now()
	sf, err := b.files.Open(ctx, key)
	if err != nil {
		return err
	}
	a, err := contactimport.Analyze(ctx, sf, importer.Format{}, importer.Limits{})
	sf.Close()
	if err != nil {
		return err
	}
	checked := time.Now()
	imp, err := imports.Create(ctx, b.tn, imports.NewImport{By: b.owner, FileName: "contacts.csv", FileKey: key, FileSize: size,
		Format: a.Format, Headers: a.Header, Mapping: a.Mapping, Region: "DE", Policy: contacts.DuplicateUpdate, TimeZone: "Europe/Berlin", RowsTotal: int64(a.Rows)})

	if err != nil {
		return err
	}
	plan := imports.ImportPlan{Region: "DE", Policy: string(contacts.DuplicateUpdate), ConsentMode: imports.ConsentFromColumns}
	for _, c := range a.Mapping.Columns {
		plan.Fields, plan.AttrKeys = append(plan.Fields, c.Field), append(plan.AttrKeys, c.AttrKey)
	}
	chk, err := plan.Check(imp.Headers, b.db.Now(), imp.Location())
	if err != nil {
		return err
	}
	if _, err := imports.Queue(ctx, b.tn, imp.ID, chk, b.owner, 0); err != nil {
		return err
	}

	// The job, on the queue.
	if err := b.startQueue(); err != nil {
		return err
	}
	jobStart := time.Now()
	if _, err := b.queue.Insert(ctx, contactimport.ImportArgs{ImportID: imp.ID, BusinessID: b.tn.BusinessID()}, nil); err != nil {
		return err
	}
	var done *imports.Import
	for {
		time.Sleep(50 * time.Millisecond)
		if done, err = imports.Get(ctx, b.tn, imp.ID); err != nil {
			return err
		}
		if done.Finished() {
			break
		}
	}
	end := time.Now()
	heapPeak, totalPeak := mem.stop()
	rss := benchkit.PeakRSS()
	if done.Status != imports.ImportDone {
		return fmt.Errorf("import ended %s: %s", done.Status, done.Error)
	}
	total := end.Sub(t0)
	job := end.Sub(jobStart)
	fmt.Fprintf(b.out, "\nimport of %d rows (%.1f MB), batches of %d, %d mappers:\n", done.RowsDone, float64(size)/1e6, done.Settings.BatchSize, runtime.GOMAXPROCS(0))
	fmt.Fprintf(b.out, "  store upload        %8s\n", stored.Sub(t0).Round(time.Millisecond))
	fmt.Fprintf(b.out, "  check file          %8s\n", checked.Sub(stored).Round(time.Millisecond))
	fmt.Fprintf(b.out, "  import job          %8s  %8.0f rows/s\n", job.Round(time.Millisecond), float64(done.RowsDone)/job.Seconds())
	fmt.Fprintf(b.out, "  end to end          %8s  %8.0f rows/s\n", total.Round(time.Millisecond), float64(done.RowsDone)/total.Seconds())
	dur := func(n int64) string { return time.Duration(n).Round(time.Millisecond).String() }
	fmt.Fprintf(b.out, "  job's time: %s storing batches (ApplyImportBatch), %s saving checkpoints, %s waiting for mapped rows\n",
		dur(b.applyTime.Load()), dur(b.recordTime.Load()), dur(b.waitTime.Load()))
	fmt.Fprintf(b.out, "  result: %d new, %d updated, %d skipped, %d kept opted out, %d rejected, %d repeated numbers, %d blank\n",
		done.Imported, done.Updated, done.Skipped, done.Suppressed, done.Failed, done.Duplicates, done.Blank)
	fmt.Fprintf(b.out, "  peak memory: Go heap %.0f MB (all Go runtime memory %.0f MB), process peak RSS (VmHWM) %s\n",
		float64(heapPeak)/(1<<20), float64(totalPeak)/(1<<20), rss)
	contacts, err := b.countContacts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  contacts stored: %d\n", contacts)
	if b.db.Dialect == models.SQLite {
		// The portal never runs ANALYZE on SQLite, so neither does the
		// benchmark: the pages are measured with the plans users get.
		return nil
	}
	_, err = b.db.SQL.ExecContext(ctx, "ANALYZE")
	return err
}

func generate(path string, rows int, seed int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := importer.Generate(w, rows, seed); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// memSampler records the peak of the Go heap and of all memory the Go
// runtime holds, reading runtime/metrics (no stop-the-world) every tick.
type memSampler struct {
	stopc             chan struct{}
	wg                sync.WaitGroup
	heapPeak, allPeak uint64
}

func sampleMemory(every time.Duration) *memSampler {
	m := &memSampler{stopc: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	read := func() {
		metrics.Read(samples)
		m.heapPeak = max(m.heapPeak, samples[0].Value.Uint64())
		m.allPeak = max(m.allPeak, samples[1].Value.Uint64())
	}
	m.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			read()
			select {
			case <-t.C:
			case <-m.stopc:
				read()
				return
			}
		}
	})
	return m
}

func (m *memSampler) stop() (heap, all uint64) {
	close(m.stopc)
	m.wg.Wait()
	return m.heapPeak, m.allPeak
}
