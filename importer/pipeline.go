package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
)

// DefaultBatchSize is the number of data rows per Batch.
const DefaultBatchSize = 5000

// Config configures Run.
type Config struct {
	Format   Format   // zero parts are sniffed
	Limits   Limits   // zero fields take the defaults
	Mapping  Mapping  // no columns: DetectMapping on the header
	Defaults Defaults // Now, when zero, is fixed once at the start of the run

	// SkipRows is the number of data rows already handled by an earlier,
	// interrupted run: the RowsDone of the last batch it committed. Those
	// rows are read past without being mapped or delivered.
	SkipRows int

	BatchSize  int   // data rows per batch; default DefaultBatchSize
	Workers    int   // parallel mappers; default runtime.GOMAXPROCS(0)
	TotalBytes int64 // input size if known, copied into each Batch for progress
}

// Batch is one slice of the file, delivered to the sink in file order. The
// sink owns it and its slices; Run does not reuse them.
type Batch struct {
	FirstRow   int        `json:"first_row"`   // spreadsheet row of the batch's first data row
	LastRow    int        `json:"last_row"`    // and of its last
	Rows       int        `json:"rows"`        // data rows in the batch: contacts + errors + blank rows
	RowsDone   int        `json:"rows_done"`   // data rows handled from the start of the file through this batch; store it as the checkpoint for Config.SkipRows
	Blank      int        `json:"blank"`       // rows with no values at all, skipped silently
	Contacts   []Contact  `json:"contacts"`    // in file order
	Errors     []RowError `json:"errors"`      // in file order
	BytesRead  int64      `json:"bytes_read"`  // bytes consumed from the input so far (read-ahead included)
	TotalBytes int64      `json:"total_bytes"` // Config.TotalBytes
}

// Stats summarise a run.
type Stats struct {
	Rows        int      `json:"rows"`    // data rows read, skipped ones included
	Skipped     int      `json:"skipped"` // rows passed over because of SkipRows
	Contacts    int      `json:"contacts"`
	WithConsent int      `json:"with_consent"` // contacts with HasConsent
	Errors      int      `json:"errors"`
	Blank       int      `json:"blank"`
	BytesRead   int64    `json:"bytes_read"`
	Header      []string `json:"header"`
	Mapping     Mapping  `json:"mapping"`
	Format      Format   `json:"format"`
}

// Run reads a whole file, maps its rows on cfg.Workers goroutines and calls
// sink with batches in file order, one call at a time. It holds only a few
// batches in memory whatever the file size.
//
// File-level problems (see NewReader, Mapping.Validate, a header that no
// longer matches cfg.Mapping, a row too long to be real) end the run with an
// *Error after the batches before the problem have been delivered. Problems
// confined to a row become RowErrors. A sink error or the end of ctx stops
// the run and is returned; batches not yet delivered are dropped, so a
// restart with SkipRows = last committed RowsDone continues exactly after
// the committed rows.
//
// Run keeps no state between calls: duplicate phone numbers within or across
// files are the caller's business.
func Run(ctx context.Context, r io.Reader, cfg Config, sink func(Batch) error) (Stats, error) {
	var st Stats
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Defaults.Now.IsZero() {
		cfg.Defaults.Now = time.Now()
	}
	if c := cfg.Defaults.Consent; c != nil && c.Source != "" {
		if _, ok := NormalizeSource(c.Source); !ok {
			return st, &Error{Code: CodeConsentDeclaration, Fatal: true, Message: fmt.Sprintf("The opt-in source %q of the consent declaration is not one of web form, checkout, in store, chat, phone, paper or other.", c.Source)}
		}
	}
	rd, err := NewReader(r, cfg.Format, cfg.Limits)
	if err != nil {
		return st, err
	}
	st.Header, st.Format = rd.Header(), rd.Format()
	m := cfg.Mapping
	if len(m.Columns) == 0 {
		m = DetectMapping(rd.Header())
	}
	st.Mapping = m
	if err := m.Validate(); err != nil {
		return st, err
	}
	if err := checkHeader(m, rd.Header()); err != nil {
		return st, err
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *job)
	order := make(chan *job, cfg.Workers+1) // bounds the batches in flight
	var wg sync.WaitGroup
	var readErr error
	var handled int
	wg.Go(func() {
		defer close(jobs)
		defer close(order)
		handled, readErr = produce(ctx, rd, &cfg, jobs, order)
	})
	for range cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				j.run(m, cfg.Defaults)
				close(j.done)
			}
		})
	}

	var sinkErr error
	for j := range order {
		select {
		case <-j.done:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		b := j.out
		st.Contacts += len(b.Contacts)
		st.Errors += len(b.Errors)
		st.Blank += b.Blank
		for i := range b.Contacts {
			if b.Contacts[i].HasConsent() {
				st.WithConsent++
			}
		}
		st.BytesRead = b.BytesRead
		if sinkErr = sink(b); sinkErr != nil {
			break
		}
	}
	cancel()
	for range order { // let the producer finish after an early stop
	}
	wg.Wait()
	st.Rows = handled
	st.Skipped = min(cfg.SkipRows, handled)
	switch {
	case sinkErr != nil:
		return st, sinkErr
	case parent.Err() != nil:
		return st, context.Cause(parent)
	case readErr != nil && !errors.Is(readErr, io.EOF):
		return st, readErr
	}
	st.BytesRead = rd.BytesRead()
	return st, nil
}

// checkHeader refuses a file whose header differs from the mapping's, e.g. a
// different file uploaded for a resumed import.
func checkHeader(m Mapping, header []string) error {
	for _, c := range m.Columns {
		if c.Header == "" {
			continue
		}
		got := ""
		if c.Index < len(header) {
			got = header[c.Index]
		}
		if !strings.EqualFold(strings.TrimSpace(got), strings.TrimSpace(c.Header)) {
			return fatalf(CodeHeaderChanged, 1, "The file's columns do not match the saved mapping: column %s is %q in the file but %q in the mapping.", ColumnLetter(c.Index), got, c.Header)
		}
	}
	return nil
}

// job is one batch on its way through the workers.
type job struct {
	rows     []rowIn
	cells    []string // all rows' cells, back to back
	out      Batch
	done     chan struct{}
	rowsDone int
	bytes    int64
	total    int64
}

type rowIn struct {
	row        int
	start, end int // cells[start:end]
	err        *Error
}

// produce reads the file into jobs, in order, until EOF, a fatal error or
// the end of ctx. It returns the number of data rows read and the error that
// ended reading (io.EOF at a clean end).
func produce(ctx context.Context, rd *Reader, cfg *Config, jobs, order chan<- *job) (handled int, err error) {
	var j *job
	flush := func() bool {
		if j == nil {
			return true
		}
		j.rowsDone, j.bytes, j.total = handled, rd.BytesRead(), cfg.TotalBytes
		select {
		case order <- j:
		case <-ctx.Done():
			return false
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return false
		}
		j = nil
		return true
	}
	for {
		if handled%256 == 0 && ctx.Err() != nil {
			return handled, ctx.Err()
		}
		row, rec, err := rd.Read()
		rowErr, _ := err.(*Error)
		if err != nil {
			if rowErr == nil || rowErr.Fatal {
				if !flush() {
					return handled, ctx.Err()
				}
				return handled, err
			}
		}
		handled++
		if handled <= cfg.SkipRows {
			continue
		}
		if j == nil {
			j = &job{
				rows:  make([]rowIn, 0, cfg.BatchSize),
				cells: make([]string, 0, cfg.BatchSize*max(1, len(rec))),
				done:  make(chan struct{}),
			}
		}
		start := len(j.cells)
		j.cells = append(j.cells, rec...)
		j.rows = append(j.rows, rowIn{row: row, start: start, end: len(j.cells), err: rowErr})
		if len(j.rows) == cfg.BatchSize && !flush() {
			return handled, ctx.Err()
		}
	}
}

// run maps the job's rows into j.out.
func (j *job) run(m Mapping, d Defaults) {
	b := Batch{
		Rows:       len(j.rows),
		RowsDone:   j.rowsDone,
		BytesRead:  j.bytes,
		TotalBytes: j.total,
		Contacts:   make([]Contact, 0, len(j.rows)),
	}
	if len(j.rows) > 0 {
		b.FirstRow, b.LastRow = j.rows[0].row, j.rows[len(j.rows)-1].row
	}
	// storage for the contacts' OptInAt: one allocation instead of one per row
	times := make([]time.Time, 0, len(j.rows))
	for _, in := range j.rows {
		rec := j.cells[in.start:in.end:in.end]
		if in.err != nil {
			b.Errors = append(b.Errors, in.err.RowError(rec))
			continue
		}
		if BlankRecord(rec) {
			b.Blank++
			continue
		}
		c, rerr := mapRow(in.row, rec, m, d, &times)
		if rerr != nil {
			b.Errors = append(b.Errors, *rerr)
			continue
		}
		b.Contacts = append(b.Contacts, c)
	}
	j.out = b
}

// BlankRecord reports whether every cell of rec is empty or white space:
// such a row is counted as blank, neither imported nor rejected.
func BlankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
