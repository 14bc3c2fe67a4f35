package importer

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

var benchFile = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	if err := Generate(&buf, 100_000, 1); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// perRow reports a benchmark's costs per data row, the unit an import of
// any size scales with.
type perRow struct {
	cpu0     time.Duration
	mallocs0 uint64
}

func startPerRow() perRow {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return perRow{cpu0: cpuTime(), mallocs0: ms.Mallocs}
}

func (p perRow) report(b *testing.B, rows int) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	// CPU time per row is steadier than wall time on a busy machine:
	// 2 cores / (cpu-ns/row) is the rate on two idle cores.
	b.ReportMetric(float64(cpuTime()-p.cpu0)/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(ms.Mallocs-p.mallocs0)/float64(rows), "allocs/row")
}

// BenchmarkRun measures the whole pipeline (decode, CSV, mapping, phone
// normalisation, batching) over 100,000 generated rows streamed from an
// io.Reader.
func BenchmarkRun(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	p := startPerRow()
	for b.Loop() {
		st, err := Run(context.Background(), bytes.NewReader(data), Config{Defaults: Defaults{Region: "DE"}}, func(Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rows += st.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	p.report(b, rows)
}

// BenchmarkReader measures Reader.Read alone over the generated file.
func BenchmarkReader(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	p := startPerRow()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), Format{}, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, _, err := rd.Read()
			if err == io.EOF {
				break
			}
			if e, ok := err.(*Error); err != nil && (!ok || e.Fatal) {
				b.Fatal(err)
			}
			rows++
		}
	}
	p.report(b, rows)
}

// BenchmarkMapRow measures MapRow alone over the rows of the generated file.
func BenchmarkMapRow(b *testing.B) {
	rd, err := NewReader(bytes.NewReader(benchFile()), Format{}, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	m := DetectMapping(rd.Header())
	var recs [][]string
	for {
		_, rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err == nil {
			recs = append(recs, append([]string(nil), rec...))
		}
	}
	d := Defaults{Region: "DE", Now: time.Now()}
	b.ReportAllocs()
	rows := 0
	p := startPerRow()
	for b.Loop() {
		for i, rec := range recs {
			MapRow(i+2, rec, m, d)
		}
		rows += len(recs)
	}
	p.report(b, rows)
}

// BenchmarkRun1MStreaming streams a generated 1,000,000-row file through Run
// (the generator runs alongside, in a pipe) and reports the peak heap in
// use, which stays flat whatever the file size.
func BenchmarkRun1MStreaming(b *testing.B) {
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(Generate(pw, 1_000_000, 2)) }()
		var peak uint64
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
		}()
		start := time.Now()
		st, err := Run(context.Background(), pr, Config{Defaults: Defaults{Region: "DE"}}, func(Batch) error { return nil })
		close(stop)
		<-done
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Rows)/time.Since(start).Seconds(), "rows/s")
		b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
	}
}
