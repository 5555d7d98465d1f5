package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestErasedColumnAdded: a database of layout 2 (days without the erased
// column) gets the column at Open, is raised to layout 3, and an erase
// there refuses a summary derived before it.
func TestErasedColumnAdded(t *testing.T) {
	dsn := pgtest.DSN(t)
	st := openPG(t, dsn)
	ctx := t.Context()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if _, err := st.AppendFixes(ctx, "acme", "ida", []dwell.Fix{{ID: "f1", Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10}}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `ALTER TABLE days DROP COLUMN erased`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE dwell_meta SET value = 2 WHERE name = 'layout'`); err != nil {
		t.Fatal(err)
	}
	again := openPG(t, dsn)
	var layout int64
	if err := conn.QueryRow(ctx, `SELECT value FROM dwell_meta WHERE name = 'layout'`).Scan(&layout); err != nil || layout != 3 {
		t.Fatalf("layout after Open = %d, %v; want 3", layout, err)
	}
	day := dwell.DateOf(at, time.UTC)
	before, _, err := again.GetDaySummary(ctx, "acme", "ida", day)
	if err != nil || before.Version == 0 {
		t.Fatalf("GetDaySummary of a day with a fix = %+v, %v; want a data version", before, err)
	}
	if _, err := again.EraseRepHistory(ctx, "acme", "ida"); err != nil {
		t.Fatalf("EraseRepHistory: %v", err)
	}
	if _, _, err := again.PutDaySummary(ctx, "acme", "ida", day, before.Version, []byte("sum"), nil); err != nil {
		t.Fatalf("PutDaySummary: %v", err)
	}
	if sum, _, err := again.GetDaySummary(ctx, "acme", "ida", day); err != nil || sum.Summary != nil {
		t.Fatalf("a summary derived before the erase was stored after it: %+v, %v", sum, err)
	}
}

// BenchmarkAppendDayEvents compares the refresher's append, which reads
// the day's erase floor in its statement (AppendDayEvents), with the
// plain append (AppendEvents, the baseline), 10 events a call on a day
// with data.
func BenchmarkAppendDayEvents(b *testing.B) {
	const batch = 10
	st := openPeers(b, 1)[0]
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if _, err := st.AppendFixes(ctx, "bench", "r1", []dwell.Fix{{ID: "f1", Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10}}); err != nil {
		b.Fatal(err)
	}
	day := store.DayVersion{DayKey: store.DayKey{Tenant: "bench", Rep: "r1", Date: dwell.DateOf(at, time.UTC)}, Version: 1}
	calls := []struct {
		name   string
		append func(evs []dwell.Event) ([]uint64, error)
	}{
		{"AppendEvents", func(evs []dwell.Event) ([]uint64, error) { return st.AppendEvents(ctx, "bench", evs) }},
		{"AppendDayEvents", func(evs []dwell.Event) ([]uint64, error) { return st.AppendDayEvents(ctx, day, evs) }},
	}
	runs := 0 // each run of a sub-benchmark appends events of new keys
	for _, c := range calls {
		b.Run("call="+c.name, func(b *testing.B) {
			runs++
			evs := make([]dwell.Event, batch)
			for n := 0; b.Loop(); n++ {
				for j := range evs {
					evs[j] = keyedEvent("r1", fmt.Sprintf("%d/%d/%d", runs, n, j), n)
				}
				seqs, err := c.append(evs)
				if err != nil || len(seqs) != batch || seqs[batch-1] == 0 {
					b.Fatalf("%s: %v, %v", c.name, seqs, err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestEraseDuringAppends erases a rep while two other stores (servers)
// append, without pause, events derived from one of its days before the
// erase, and events of another rep: the erase is not starved by the
// appends, and once it returns the log holds none of the erased rep's
// events, then or later. Five rounds, each with new fixes (a new version
// to derive from).
func TestEraseDuringAppends(t *testing.T) {
	sts := openPeers(t, 3)
	ctx := t.Context()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	day := dwell.DateOf(at, time.UTC)
	repEvents := func() int {
		t.Helper()
		evs, err := sts[2].ListEvents(ctx, "acme", 0, 10000)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		n := 0
		for _, e := range evs {
			if e.Rep == "r1" {
				n++
			}
		}
		return n
	}
	for round := range 5 {
		fix := dwell.Fix{ID: fmt.Sprintf("f%d", round), Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10}
		if _, err := sts[2].AppendFixes(ctx, "acme", "r1", []dwell.Fix{fix}); err != nil {
			t.Fatal(err)
		}
		sum, _, err := sts[2].GetDaySummary(ctx, "acme", "r1", day)
		if err != nil {
			t.Fatal(err)
		}
		read := store.DayVersion{DayKey: store.DayKey{Tenant: "acme", Rep: "r1", Date: day}, Version: sum.Version}
		stop := make(chan struct{})
		var appended atomic.Int64
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					ev := keyedEvent("r1", fmt.Sprintf("%d/%d/%d", round, w, n), n)
					seqs, err := sts[w].AppendDayEvents(ctx, read, []dwell.Event{ev})
					if err != nil {
						t.Errorf("AppendDayEvents: %v", err)
						return
					}
					other := keyedEvent("r2", fmt.Sprintf("%d/%d/%d", round, w, n), n)
					if _, err := sts[w].AppendEvents(ctx, "acme", []dwell.Event{other}); err != nil {
						t.Errorf("AppendEvents: %v", err)
						return
					}
					if seqs[0] != 0 {
						appended.Add(1)
					}
				}
			}()
		}
		for appended.Load() < 10 {
			time.Sleep(time.Millisecond)
		}
		_, err = sts[2].EraseRepHistory(ctx, "acme", "r1")
		afterErase := repEvents()
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: EraseRepHistory during appends: %v", round, err)
		}
		if n := repEvents(); afterErase != 0 || n != 0 {
			t.Fatalf("round %d: events derived before the erase in the log: %d when it returned, %d once the appends stopped", round, afterErase, n)
		}
	}
}
