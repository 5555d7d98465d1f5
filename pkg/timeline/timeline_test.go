package timeline

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// TestDeterminism derives simulated days from their fix set in 1,000+
// orders, with repeats (whole re-sent batches, single fixes twice, check-ins
// and check-outs repeated), and wants the same bytes every time.
func TestDeterminism(t *testing.T) {
	type dayCase struct {
		name string
		p    sim.Profile
	}
	cases := []dayCase{{"realistic", sim.Realistic()}, {"harsh", sim.Harsh()}, {"canvassing", sim.Canvassing()}, {"clean", sim.Clean()}}
	perDay := 260
	if testing.Short() {
		perDay = 25
	}
	total := 0
	for ci, c := range cases {
		w := newSimWorld(t, uint64(7+ci))
		res := w.simDay(t, c.p, uint64(31+ci), ci)
		base := w.input(res, res.AllFixes())
		want := Derive(base).Encode()
		checkInvariants(t, c.name, Derive(base))
		r := rand.New(rand.NewPCG(uint64(ci), 99))
		for k := range perDay {
			in := base
			var fixes []dwell.Fix
			if k%2 == 0 {
				fixes = res.Shuffled(uint64(k)) // the uploads as received, repeats included
			} else {
				fixes = append([]dwell.Fix(nil), base.Fixes...)
			}
			for range r.IntN(50) {
				fixes = append(fixes, fixes[r.IntN(len(fixes))])
			}
			r.Shuffle(len(fixes), func(i, j int) { fixes[i], fixes[j] = fixes[j], fixes[i] })
			in.Fixes = fixes
			in.CheckIns = append(append([]dwell.CheckIn(nil), base.CheckIns...), base.CheckIns...)
			r.Shuffle(len(in.CheckIns), func(i, j int) { in.CheckIns[i], in.CheckIns[j] = in.CheckIns[j], in.CheckIns[i] })
			in.CheckOuts = append(append([]dwell.CheckOut(nil), base.CheckOuts...), base.CheckOuts[:len(base.CheckOuts)/2]...)
			r.Shuffle(len(in.CheckOuts), func(i, j int) { in.CheckOuts[i], in.CheckOuts[j] = in.CheckOuts[j], in.CheckOuts[i] })
			got := Derive(in).Encode()
			total++
			if !bytes.Equal(got, want) {
				t.Fatalf("%s order %d: output differs from the sorted input's\ngot:\n%s\nwant:\n%s", c.name, k, got, want)
			}
		}
	}
	t.Logf("%d orders of %d days gave identical bytes", total, len(cases))
}

// TestDeriveEmpty covers days without usable data.
func TestDeriveEmpty(t *testing.T) {
	day := Derive(Input{})
	if len(day.Segments) != 0 || !day.Start.IsZero() {
		t.Errorf("Derive(Input{}) = %s, want an empty day", day.Encode())
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	day = Derive(Input{Fixes: []dwell.Fix{{ID: "a", Time: at, Mock: true}, {ID: "b", Time: at, Pos: dwell.LatLng{Lat: 95}}}})
	if len(day.Segments) != 0 || day.Flags.MockFixes != 1 {
		t.Errorf("mock and invalid fixes only: got %s", day.Encode())
	}
	one := Derive(Input{Fixes: []dwell.Fix{{ID: "a", Time: at, AccuracyM: 5}}})
	if len(one.Segments) != 0 || !one.Start.Equal(at) || !one.End.Equal(at) {
		t.Errorf("one fix: got %s, want an empty span at %v", one.Encode(), at)
	}
}

// TestDayBounds checks that fixes outside the local day and the working
// window are ignored.
func TestDayBounds(t *testing.T) {
	loc := time.FixedZone("X", 7*3600)
	var fixes []dwell.Fix
	start := time.Date(2026, 3, 1, 20, 0, 0, 0, loc)
	for k := range 24 * 6 {
		fixes = append(fixes, dwell.Fix{ID: string(rune('A'+k%26)) + time.Duration(k).String(), Time: start.Add(time.Duration(k) * 10 * time.Minute),
			Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10})
	}
	day := Derive(Input{Day: dwell.Date{Year: 2026, Month: 3, Day: 2}, Loc: loc, Fixes: fixes})
	lo := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	hi := lo.Add(24 * time.Hour)
	if day.Start.Before(lo) || !day.End.Before(hi) {
		t.Errorf("span %v..%v, want within %v..%v", day.Start, day.End, lo, hi)
	}
	w := Window{Start: lo.Add(8 * time.Hour), End: lo.Add(17 * time.Hour)}
	day = Derive(Input{Day: dwell.Date{Year: 2026, Month: 3, Day: 2}, Loc: loc, Window: w, Fixes: fixes})
	if day.Start.Before(w.Start) || !day.End.Before(w.End) {
		t.Errorf("span %v..%v, want within the window %v..%v", day.Start, day.End, w.Start, w.End)
	}
	if len(day.Segments) != 1 || day.Segments[0].Kind != KindIdle {
		t.Errorf("a still phone all day: got\n%s", day.Encode())
	}
}

// TestDeriveGarbage feeds Derive random and hostile input (NaN and
// infinite positions and accuracies, equal times, huge jumps, mock fixes,
// claims without fixes or for unknown clients) and wants no panic and the
// invariants kept.
func TestDeriveGarbage(t *testing.T) {
	w := newSimWorld(t, 5)
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	centre := w.city.Config.Center
	weird := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -5, 0, 1e9}
	for round := range 200 {
		var in Input
		in.Day, in.Loc = dwell.Date{Year: 2026, Month: 3, Day: 2}, wib
		in.Fences, in.Clients = w.index, w.clients
		n := r.IntN(300)
		for k := range n {
			f := dwell.Fix{
				ID:        fmt.Sprintf("g%d", r.IntN(n+1)),
				Time:      base.Add(time.Duration(r.IntN(14*3600)) * time.Second),
				Pos:       dwell.LatLng{Lat: centre.Lat + r.NormFloat64()*0.01, Lng: centre.Lng + r.NormFloat64()*0.01},
				AccuracyM: r.Float64() * 100, SpeedMPS: r.Float64()*3 - 1, Mock: r.IntN(20) == 0,
			}
			switch r.IntN(10) {
			case 0:
				f.AccuracyM = weird[r.IntN(len(weird))]
			case 1:
				f.Pos.Lat = weird[r.IntN(len(weird))]
			case 2:
				f.Pos = dwell.LatLng{Lat: r.Float64()*180 - 90, Lng: r.Float64()*360 - 180}
			case 3:
				f.SpeedMPS = weird[r.IntN(len(weird))]
			}
			_ = k
			in.Fixes = append(in.Fixes, f)
		}
		for k := range r.IntN(6) {
			ci := dwell.CheckIn{RequestID: fmt.Sprintf("in-%d", r.IntN(4)), Client: w.city.Sites[r.IntN(len(w.city.Sites))].ID,
				Time: base.Add(time.Duration(r.IntN(14*3600)) * time.Second)}
			if k%3 == 1 {
				ci.Client = "nobody"
			}
			if len(in.Fixes) > 0 && k%2 == 0 {
				f := in.Fixes[r.IntN(len(in.Fixes))]
				ci.Fix = &f
			}
			in.CheckIns = append(in.CheckIns, ci)
			in.CheckOuts = append(in.CheckOuts, dwell.CheckOut{RequestID: fmt.Sprintf("out-%d", r.IntN(4)), Client: ci.Client,
				Time: ci.Time.Add(time.Duration(r.IntN(7200)-600) * time.Second)})
		}
		day := Derive(in)
		checkInvariants(t, fmt.Sprintf("round %d", round), day)
		if bytes.Contains(day.Encode(), []byte("NaN")) || bytes.Contains(day.Encode(), []byte("Inf")) {
			t.Errorf("round %d: non-finite number in\n%s", round, day.Encode())
		}
	}
}

// TestDeriveSparseWithClaims derives days that have the whole day's
// check-ins and check-outs but only a few of its fixes, so claims start
// and end outside the observed span (a phone that uploaded its actions but
// not yet its fixes). It wants no panic and the invariants kept.
func TestDeriveSparseWithClaims(t *testing.T) {
	w := newSimWorld(t, 11)
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 120 {
		res := w.simDay(t, sim.Realistic(), uint64(500+round%12), round%12)
		all := res.AllFixes()
		in := w.input(res, nil)
		start := r.IntN(len(all))
		for k := start; k < len(all) && k < start+r.IntN(40); k++ {
			in.Fixes = append(in.Fixes, all[k])
		}
		day := Derive(in)
		checkInvariants(t, fmt.Sprintf("round %d (%d fixes)", round, len(in.Fixes)), day)
	}
}
