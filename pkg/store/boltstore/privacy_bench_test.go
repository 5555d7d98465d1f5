package boltstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// BenchmarkPruneActionFixes measures what a retention sweep's
// PruneActionFixes costs per record it clears, and that the cost does not
// grow with the rep's history: one op clears the fixes of the 100
// check-ins and check-outs recorded since the previous op. In
// "history=0" the rep has no older records; in "history=20000" it has
// 20,000 older check-ins whose fixes were cleared already, which a call
// that rescanned the rep's history would decode every time. The ratio of
// the two is the figure; the records are stored with NoSync in both, so
// the fsync that every durable write pays does not hide the difference.
func BenchmarkPruneActionFixes(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	const tenant = dwell.TenantID("bench")
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	fix := func(at time.Time) *dwell.Fix {
		return &dwell.Fix{Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 9, SpeedMPS: -1, BearingDeg: -1}
	}
	for _, history := range []int{0, 20000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			next := 0
			record := func(n int) {
				for range n {
					at := start.Add(time.Duration(next) * time.Second)
					id := fmt.Sprintf("a-%d", next)
					next++
					var err error
					if next%2 == 0 {
						_, _, err = s.RecordCheckOut(ctx, tenant, dwell.CheckOut{RequestID: id, Rep: "r", Client: "c", Time: at, Fix: fix(at), Outcome: dwell.OutcomePositive})
					} else {
						_, _, err = s.RecordCheckIn(ctx, tenant, dwell.CheckIn{RequestID: id, Rep: "r", Client: "c", Time: at, Fix: fix(at)})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			record(history)
			if _, _, err := s.PruneActionFixes(ctx, tenant, "r", start.Add(time.Duration(next)*time.Second), history+1); err != nil {
				b.Fatal(err)
			}
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				record(batch)
				b.StartTimer()
				c0 := cpuTime()
				n, more, err := s.PruneActionFixes(ctx, tenant, "r", start.Add(time.Duration(next)*time.Second), 5000)
				cpu += cpuTime() - c0
				if err != nil || n != batch || more {
					b.Fatalf("PruneActionFixes = %d, %v, %v; want %d, false", n, more, err, batch)
				}
			}
			b.ReportMetric(float64(cpu)/float64(b.N*batch), "cpu-ns/record")
		})
	}
}
