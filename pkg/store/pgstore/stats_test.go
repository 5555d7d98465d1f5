package pgstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestStats: writes are counted as commits, reads are not, and the pool's
// figures show its connections taken and given back.
func TestStats(t *testing.T) {
	st := openPG(t, pgtest.DSN(t))
	ctx := t.Context()
	before := st.Stats()
	if err := st.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	fs := make([]dwell.Fix, 10)
	for i := range fs {
		fs[i] = dwell.Fix{ID: fmt.Sprintf("f%d", i), Time: t0.Add(time.Duration(i) * time.Second), Pos: dwell.LatLng{Lat: 1, Lng: 1}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
	}
	if _, err := st.AppendFixes(ctx, "acme", "r1", fs); err != nil {
		t.Fatal(err)
	}
	mid := st.Stats()
	if got := mid.Commits - before.Commits; got != 2 {
		t.Errorf("two writes counted %d commits, want 2", got)
	}
	if _, err := st.ListFixes(ctx, "acme", "r1", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := st.Stats()
	if after.Commits != mid.Commits {
		t.Errorf("a read counted %d commits", after.Commits-mid.Commits)
	}
	if after.Acquires <= before.Acquires {
		t.Errorf("acquires %d -> %d, want more", before.Acquires, after.Acquires)
	}
	if after.AcquiredConns != 0 || after.IdleConns < 1 || after.MaxConns < 1 || after.TotalConns < after.IdleConns {
		t.Errorf("pool at rest: %+v, want none acquired, some idle", after)
	}
}
