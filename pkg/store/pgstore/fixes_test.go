package pgstore_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// BenchmarkAppendFixes measures ingest into the PostgreSQL store beside its
// baseline, the bbolt store with durability on, in the same run: each
// parallel goroutine is a rep of its own uploading batches of 1,000 fixes
// with random 16-byte hex ids and increasing times, as phones do. One op is
// one batch; fixes/s is the figure that matters, and only its ratio between
// the two stores means anything on a shared machine. The PostgreSQL test
// server runs with fsync=off (pgtest), so its commits are not flushed to
// disk while bbolt's are: the ratio flatters PostgreSQL by the cost of an
// fsync per commit. The server's CPU is its own processes', on the same
// cores as the benchmark.
func BenchmarkAppendFixes(b *testing.B) {
	const batch = 1000
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"pg", func(b *testing.B) store.Store {
			s, err := pgstore.Open(context.Background(), pgtest.DSN(b), pgstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, par := range []int{1, 4} {
		for _, st := range stores {
			b.Run(fmt.Sprintf("store=%s/parallelism=%d", st.name, par), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				benchAppend(b, s, batch, par)
			})
		}
	}
}

// benchAppend runs b.N batches of batch fixes through s.AppendFixes from
// par times GOMAXPROCS goroutines, one rep each.
func benchAppend(b *testing.B, s store.Store, batch, par int) {
	ctx := context.Background()
	const tenant = dwell.TenantID("bench")
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	var reps atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := reps.Add(1)
		rep := dwell.RepID(fmt.Sprintf("rep-%03d", g))
		rng := rand.New(rand.NewPCG(uint64(g), 42))
		fixes := make([]dwell.Fix, batch)
		raw := make([]byte, 0, 16)
		t := start
		for pb.Next() {
			for j := range fixes {
				raw = binary.LittleEndian.AppendUint64(raw[:0], rng.Uint64())
				raw = binary.LittleEndian.AppendUint64(raw, rng.Uint64())
				t = t.Add(time.Second)
				fixes[j] = dwell.Fix{
					ID:         hex.EncodeToString(raw),
					Time:       t,
					Pos:        dwell.LatLng{Lat: -6.2 + rng.Float64()*0.1, Lng: 106.8 + rng.Float64()*0.1},
					AccuracyM:  5 + rng.Float64()*30,
					SpeedMPS:   rng.Float64() * 15,
					BearingDeg: -1,
				}
			}
			stored, err := s.AppendFixes(ctx, tenant, rep, fixes)
			if err != nil {
				b.Error(err)
				return
			}
			n := 0
			for _, ok := range stored {
				if ok {
					n++
				}
			}
			if n != batch {
				b.Errorf("AppendFixes stored %d of a batch of %d new fixes", n, batch)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "fixes/s")
}
