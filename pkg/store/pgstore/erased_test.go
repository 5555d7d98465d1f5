package pgstore_test

import (
	"context"
	"fmt"
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
