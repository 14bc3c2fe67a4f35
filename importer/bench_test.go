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

// BenchmarkRun measures the whole pipeline (decode, CSV, mapping, phone
// normalisation, batching) over 100,000 generated rows.
func BenchmarkRun(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	rows := 0
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := Run(context.Background(), bytes.NewReader(data), Config{Defaults: Defaults{Region: "DE"}}, func(Batch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		rows += st.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	// CPU time per row is steadier than rows/s on a busy machine:
	// 2 cores / (cpu-ns/row) is the rate on two idle cores.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(rows), "cpu-ns/row")
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
