package timeline

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// readMisc reads one of the semicolon-separated real traces of
// testdata/real/misc (columns tracked_at, latitude, longitude, accuracy),
// as pkg/baseline's tests do.
func readMisc(t *testing.T, name, layout string) []dwell.Fix {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "real", "misc", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: header: %v", name, err)
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	var fixes []dwell.Fix
	for i := 1; ; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		row := map[string]string{}
		for k, h := range header {
			row[h] = rec[k]
		}
		at, err := time.Parse(layout, row["tracked_at"])
		if err != nil {
			t.Fatalf("%s row %d: %v", name, i, err)
		}
		fixes = append(fixes, dwell.Fix{
			ID:   fmt.Sprintf("%s#%05d", name, i),
			Time: at, Pos: dwell.LatLng{Lat: num(row["latitude"]), Lng: num(row["longitude"])},
			AccuracyM: num(row["accuracy"]), SpeedMPS: -1, BearingDeg: -1,
		})
	}
	return fixes
}

// TestRealTraces derives real phone traces without fences (so every stop
// is idle): it must not fail, must keep the invariants and must not depend
// on order; it logs what it finds.
func TestRealTraces(t *testing.T) {
	for _, tr := range []struct{ name, layout string }{
		{"google_trajectory.csv", time.RFC3339},
		{"posmo_trajectory.csv", "2006-01-02 15:04:05.999999999"},
	} {
		fixes := readMisc(t, tr.name, tr.layout)
		day := Derive(Input{Fixes: fixes})
		checkInvariants(t, tr.name, day)
		rev := make([]dwell.Fix, 0, 2*len(fixes))
		for i := len(fixes) - 1; i >= 0; i-- {
			rev = append(rev, fixes[i], fixes[i])
		}
		if got := Derive(Input{Fixes: rev}).Encode(); string(got) != string(day.Encode()) {
			t.Errorf("%s: reversed and doubled input gives another timeline", tr.name)
		}
		counts := map[Kind]int{}
		for _, s := range day.Segments {
			counts[s.Kind]++
		}
		tt := day.Totals
		t.Logf("%s: %d fixes over %v: %d segments (%d idle %v, %d travel %v %.1f km, %d gap %v); dropped %d outliers, %d impossible-speed",
			tr.name, len(fixes), day.End.Sub(day.Start).Round(time.Minute), len(day.Segments),
			counts[KindIdle], tt.Idle.Round(time.Minute), counts[KindTravel], tt.Travel.Round(time.Minute), tt.TravelDistanceM/1000,
			counts[KindGap], tt.Gap.Round(time.Minute), day.Flags.OutlierFixes, day.Flags.ImpossibleSpeedFixes)
	}
}
