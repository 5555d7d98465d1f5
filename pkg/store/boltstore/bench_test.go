package boltstore_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// BenchmarkAppendFixes measures ingest throughput: each of the concurrent
// goroutines is a different rep uploading batches of fixes with random
// 16-byte hex ids and increasing times, as phones do. One benchmark op is
// one batch; the fixes/s metric is what matters.
func BenchmarkAppendFixes(b *testing.B) {
	for _, sync := range []struct {
		name   string
		noSync bool
	}{{"durable", false}, {"nosync", true}} {
		for _, conc := range []int{1, 8, 64} {
			for _, batch := range []int{1, 100, 1000} {
				name := fmt.Sprintf("writers=%d/batch=%d/%s", conc, batch, sync.name)
				b.Run(name, func(b *testing.B) { benchAppend(b, conc, batch, sync.noSync) })
			}
		}
	}
}

func benchAppend(b *testing.B, conc, batch int, noSync bool) {
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const tenant = dwell.TenantID("bench")
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

	// Batch i goes to goroutine i % conc, so b.N batches are spread evenly.
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for g := range conc {
		n := b.N / conc
		if g < b.N%conc {
			n++
		}
		wg.Go(func() {
			rep := dwell.RepID(fmt.Sprintf("rep-%03d", g))
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			fixes := make([]dwell.Fix, batch)
			var raw [16]byte
			t := start
			for range n {
				for j := range fixes {
					for k := 0; k < 16; k += 8 {
						v := rng.Uint64()
						for m := range 8 {
							raw[k+m] = byte(v >> (8 * m))
						}
					}
					t = t.Add(time.Second)
					fixes[j] = dwell.Fix{
						ID:         hex.EncodeToString(raw[:]),
						Time:       t,
						Pos:        dwell.LatLng{Lat: -6.2 + rng.Float64()*0.1, Lng: 106.8 + rng.Float64()*0.1},
						AccuracyM:  5 + rng.Float64()*30,
						SpeedMPS:   rng.Float64() * 15,
						BearingDeg: -1,
					}
				}
				if _, err := s.AppendFixes(ctx, tenant, rep, fixes); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	fixes := float64(b.N * batch)
	b.ReportMetric(fixes/b.Elapsed().Seconds(), "fixes/s")
	// CPU time per fix (the whole process: committer, writers, GC) is what
	// the store costs whatever else the machine runs; fixes/s on a shared
	// machine is only as good as the cores the benchmark got.
	b.ReportMetric(float64(cpuTime()-cpu0)/fixes, "cpu-ns/fix")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPruneFixes measures the retention sweeper's store writes: one
// op deletes the oldest 5,000 fixes of a rep (PruneFixes, durable), beside
// appending 5,000 (AppendFixes, durable) in the same run. The sweeper's
// cost per expired fix is prune's cpu-ns/fix, and how long it holds the
// committer (and so ingest) is its ns/op.
func BenchmarkPruneFixes(b *testing.B) {
	const batch, refill = 5000, 40
	ctx := context.Background()
	const tenant = dwell.TenantID("bench")
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	mk := func() []dwell.Fix {
		fs := make([]dwell.Fix, batch)
		for j := range fs {
			fs[j] = dwell.Fix{ID: fmt.Sprintf("%016x%06d", rng.Uint64(), next), Time: start.Add(time.Duration(next) * time.Second),
				Pos: dwell.LatLng{Lat: -6.2 + rng.Float64()*0.1, Lng: 106.8 + rng.Float64()*0.1}, AccuracyM: 12, SpeedMPS: -1, BearingDeg: -1}
			next++
		}
		return fs
	}
	open := func(b *testing.B) *boltstore.Store {
		s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	b.Run("append", func(b *testing.B) {
		s := open(b)
		cpu0 := cpuTime()
		for b.Loop() {
			fs := mk()
			if _, err := s.AppendFixes(ctx, tenant, "r", fs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "fixes/s")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*batch), "cpu-ns/fix")
	})
	b.Run("prune", func(b *testing.B) {
		s := open(b)
		left := 0
		var cpu time.Duration
		for b.Loop() {
			if left < batch {
				b.StopTimer()
				for range refill {
					if _, err := s.AppendFixes(ctx, tenant, "r", mk()); err != nil {
						b.Fatal(err)
					}
				}
				left += refill * batch
				b.StartTimer()
			}
			c0 := cpuTime()
			n, _, err := s.PruneFixes(ctx, tenant, "r", start.Add(time.Duration(next)*time.Second), batch)
			cpu += cpuTime() - c0
			if err != nil || n != batch {
				b.Fatalf("PruneFixes = %d, %v; want %d", n, err, batch)
			}
			left -= n
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "fixes/s")
		b.ReportMetric(float64(cpu)/float64(b.N*batch), "cpu-ns/fix")
	})
}
