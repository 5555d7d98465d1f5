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
