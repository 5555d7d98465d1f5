package pgstore_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
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
