package timeline

// Tests of DESIGN's timeline rules on hand-made days built in code: each
// was first written against a derivation that broke the rule.

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// track builds a hand-made rep-day of fixes: stays sampled at a place and
// moves at constant speed between places, each fix with an ID of its own.
type track struct {
	t     testing.TB
	day   dwell.Date
	fixes []dwell.Fix
	n     int
}

// huntDay is the day the hand-made tracks are on, in UTC.
var huntDay = dwell.Date{Year: 2026, Month: 3, Day: 2}

// hm returns h:m:s on huntDay in UTC.
func hm(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, time.UTC) }

// huntOrigin is where the hand-made tracks start.
var huntOrigin = dwell.LatLng{Lat: -6.2, Lng: 106.8}

// offset returns the point east and north metres from huntOrigin.
func offset(east, north float64) dwell.LatLng {
	return dwell.LatLng{
		Lat: huntOrigin.Lat + north/111195,
		Lng: huntOrigin.Lng + east/(111195*math.Cos(huntOrigin.Lat*math.Pi/180)),
	}
}

func (tr *track) add(f dwell.Fix) {
	tr.n++
	if f.ID == "" {
		f.ID = fmt.Sprintf("f%05d", tr.n)
	}
	tr.fixes = append(tr.fixes, f)
}

// stay samples a still phone at p every step from from (inclusive) to to
// (exclusive), with accuracy acc and a jitter pattern of up to jit metres.
func (tr *track) stay(from, to time.Time, p dwell.LatLng, step time.Duration, acc, jit float64) {
	for ts := from; ts.Before(to); ts = ts.Add(step) {
		q := p
		if jit > 0 {
			a := float64(tr.n) * 2.399963
			r := jit * float64(tr.n%5) / 4
			q.Lat += r * math.Sin(a) / 111195
			q.Lng += r * math.Cos(a) / (111195 * math.Cos(q.Lat*math.Pi/180))
		}
		tr.add(dwell.Fix{Time: ts, Pos: q, AccuracyM: acc, SpeedMPS: 0, BearingDeg: -1})
	}
}

// move samples a rep moving in a straight line from a to b between from
// and to, reporting speed and course.
func (tr *track) move(from, to time.Time, a, b dwell.LatLng, step time.Duration, acc float64) {
	d := haversineM(a, b)
	v := d / to.Sub(from).Seconds()
	brg := math.Atan2((b.Lng-a.Lng)*math.Cos(a.Lat*math.Pi/180), b.Lat-a.Lat) * 180 / math.Pi
	if brg < 0 {
		brg += 360
	}
	for ts := from; ts.Before(to); ts = ts.Add(step) {
		f := float64(ts.Sub(from)) / float64(to.Sub(from))
		p := dwell.LatLng{Lat: a.Lat + (b.Lat-a.Lat)*f, Lng: a.Lng + (b.Lng-a.Lng)*f}
		tr.add(dwell.Fix{Time: ts, Pos: p, AccuracyM: acc, SpeedMPS: v, BearingDeg: brg})
	}
}

// circleClients returns an index and client map of circular fences.
func circleClients(t testing.TB, cs ...dwell.Client) (*geofence.Index, ClientMap) {
	t.Helper()
	ix := geofence.New(geofence.Options{})
	m := ClientMap{}
	for _, c := range cs {
		if err := ix.Put(string(c.ID), c.Fence); err != nil {
			t.Fatal(err)
		}
		m[c.ID] = c
	}
	return ix, m
}

// segmentsOf returns day's segments of kind k.
func segmentsOf(day Day, k Kind) []Segment {
	var out []Segment
	for _, s := range day.Segments {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

func circle(id string, p dwell.LatLng, r float64) dwell.Client {
	return dwell.Client{ID: dwell.ClientID(id), Fence: dwell.Geofence{Circle: &dwell.Circle{Center: p, RadiusM: r}}}
}

// TestGapDistanceAcrossSilence: a GAP's distance is the straight line
// across it, from where the rep was before the silence to where the rep
// was after, also when the stop before it is estimated to end inside the
// silence (the rep was seen again far away, so it left some time before).
func TestGapDistanceAcrossSilence(t *testing.T) {
	A, far := offset(0, 0), offset(4000, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	// The phone is off from 10:00 to 10:50; then the rep walks on, 4 km away.
	tr.move(hm(10, 50, 0), hm(11, 0, 0), far, offset(5000, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "silence", day)
	gaps := segmentsOf(day, KindGap)
	if len(gaps) != 1 {
		t.Fatalf("want one GAP, got\n%s", day.Encode())
	}
	want := haversineM(A, far)
	if g := gaps[0]; math.Abs(g.DistanceM-want) > 20 {
		t.Errorf("GAP %v..%v distance = %.1f m, want %.0f m (A to the first fix after the silence)\n%s",
			g.Start.Format("15:04:05"), g.End.Format("15:04:05"), g.DistanceM, want, day.Encode())
	}
}

// TestTravelDistanceReachesTheStops: a trip's distance is the path the rep
// drove, from the stop before to the stop after, not only the legs between
// fixes that both fall inside the TRAVEL segment: a phone sampling every
// minute at 10 m/s leaves 600 m between the last fix on the road and the
// stop.
func TestTravelDistanceReachesTheStops(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-6000, 0), A, time.Minute, 8)
	tr.stay(hm(9, 0, 0), hm(10, 0, 0), A, time.Minute, 10, 5)
	tr.add(dwell.Fix{Time: hm(10, 0, 30), Pos: offset(300, 0), AccuracyM: 8, SpeedMPS: 10, BearingDeg: 90})
	tr.move(hm(10, 1, 30), hm(10, 11, 30), offset(900, 0), offset(6900, 0), time.Minute, 8)
	tr.stay(hm(10, 11, 30), hm(10, 40, 0), offset(6900, 0), time.Minute, 10, 5)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "trips", day)
	trips := segmentsOf(day, KindTravel)
	if len(trips) != 2 {
		t.Fatalf("want two trips, got\n%s", day.Encode())
	}
	for i, s := range trips {
		if want := []float64{6000, 6900}[i]; math.Abs(s.DistanceM-want) > 0.02*want {
			t.Errorf("trip %d (%v..%v) distance = %.0f m, want %.0f m within 2%%\n%s", i,
				s.Start.Format("15:04:05"), s.End.Format("15:04:05"), s.DistanceM, want, day.Encode())
		}
	}
}

// twoShops is a rep-day in a mall (a 150 m fence) with two shops 60 m
// apart inside it: 40 min at shop A, then 20 min at shop B, with a
// verified check-in at each.
func twoShops(t testing.TB) (Input, [2]dwell.CheckIn) {
	t.Helper()
	shopA, shopB := offset(-30, 0), offset(30, 0)
	ix, cm := circleClients(t, circle("mall", offset(0, 0), 150), circle("shopA", shopA, 15), circle("shopB", shopB, 15))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), shopA, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 40, 0), shopA, time.Minute, 15, 5)
	tr.stay(hm(9, 40, 0), hm(10, 0, 0), shopB, time.Minute, 15, 5)
	tr.move(hm(10, 0, 0), hm(10, 10, 0), shopB, offset(3000, 0), 30*time.Second, 8)
	fa := dwell.Fix{ID: "ca", Time: hm(9, 2, 0), Pos: shopA, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
	fb := dwell.Fix{ID: "cb", Time: hm(9, 41, 0), Pos: shopB, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
	cis := [2]dwell.CheckIn{
		{RequestID: "in-a", Client: "shopA", Time: fa.Time, Fix: &fa},
		{RequestID: "in-b", Client: "shopB", Time: fb.Time, Fix: &fb},
	}
	return Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm}, cis
}

// TestCheckInRepeatsWithOtherContent: the same check-in (request id)
// received twice with different fixes gives the same day whichever came
// first, as fixes repeated under one ID do.
func TestCheckInRepeatsWithOtherContent(t *testing.T) {
	in, cis := twoShops(t)
	away := *cis[0].Fix
	away.Pos = offset(-3000, 0)
	again := cis[0]
	again.Fix = &away
	in.CheckIns = []dwell.CheckIn{cis[0], again}
	first := Derive(in).Encode()
	in.CheckIns = []dwell.CheckIn{again, cis[0]}
	if second := Derive(in).Encode(); !bytes.Equal(first, second) {
		t.Errorf("a check-in repeated with another fix: the order decides\none order:\n%s\nthe other:\n%s", first, second)
	}
}

// TestCheckOutAfterNextCheckIn: a rep who checks in at the next shop
// before tapping check-out at the last one did not forget the check-out:
// it closes that check-in (the next check-in still ends its visit).
func TestCheckOutAfterNextCheckIn(t *testing.T) {
	in, cis := twoShops(t)
	in.CheckIns = cis[:]
	in.CheckOuts = []dwell.CheckOut{
		{RequestID: "out-a", Client: "shopA", Time: hm(9, 42, 0)},
		{RequestID: "out-b", Client: "shopB", Time: hm(9, 59, 0)},
	}
	day := Derive(in)
	checkInvariants(t, "two shops", day)
	if day.Flags.ForgottenCheckOuts != 0 {
		t.Errorf("ForgottenCheckOuts = %d, want 0: both check-ins were checked out\n%s", day.Flags.ForgottenCheckOuts, day.Encode())
	}
	for _, c := range day.CheckIns {
		if want := map[string]string{"in-a": "out-a", "in-b": "out-b"}[c.RequestID]; c.CheckOutRequestID != want {
			t.Errorf("check-in %s closed by %q, want %q", c.RequestID, c.CheckOutRequestID, want)
		}
	}
	visits := segmentsOf(day, KindVisit)
	if len(visits) != 2 || visits[0].Client != "shopA" || visits[1].Client != "shopB" || visits[0].End.After(cis[1].Time) {
		t.Errorf("want a visit to shop A ending by the check-in at B, then shop B; got\n%s", day.Encode())
	}
}

// TestJumpInSilenceKeepsTheVisit: one fix far off, with a good accuracy,
// alone in a silence of the phone at a client, the rep there before and
// after, is one bad fix: it must not split the visit. (Within 30 min of
// its neighbours it always was taken for a multipath jump; a longer
// silence at one place is that stop's, and so is the jump inside it.)
func TestJumpInSilenceKeepsTheVisit(t *testing.T) {
	A := offset(0, 0)
	ix, cm := circleClients(t, circle("acme", A, 40))
	for _, silence := range []time.Duration{20 * time.Minute, 40 * time.Minute, 90 * time.Minute} {
		var tr track
		tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(9, 0, 0), hm(9, 30, 0), A, time.Minute, 15, 5)
		back := hm(9, 29, 0).Add(silence)
		tr.add(dwell.Fix{Time: hm(9, 29, 0).Add(silence / 2), Pos: offset(0, 500), AccuracyM: 5, SpeedMPS: 0, BearingDeg: -1})
		tr.stay(back, back.Add(30*time.Minute), A, time.Minute, 15, 5)
		out := back.Add(30 * time.Minute)
		tr.move(out, out.Add(10*time.Minute), A, offset(3000, 0), 30*time.Second, 8)
		day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
		checkInvariants(t, "silence", day)
		visits := segmentsOf(day, KindVisit)
		if len(visits) != 1 || visits[0].Start.After(hm(9, 0, 30)) || visits[0].End.Before(out.Add(-30*time.Second)) || day.Flags.OutlierFixes != 1 {
			t.Errorf("silence %v with one jump in it: want one visit 09:00..%v and 1 outlier, got\n%s", silence, out.Format("15:04"), day.Encode())
		}
	}
}

// TestOneJumpInAStop injects one multipath jump (300 to 800 m off, with an
// accuracy of 5 to 15 m) into each long stop of simulated days, between
// two fixes of that stop, and wants the day unchanged: the same visits
// and clients, as many trips, visit and idle time within a minute. Before
// a silence at one place could hold a jump, 13 of these 1,800 injections
// changed a day. Other draws of the jumps then found 0 to 2 in 1,800
// that changed a day another way: a jump that lands near a fix taken
// minutes before served as the anchor of a run of good fixes, which were
// then dropped as the jump. A run with three fixes at one place across
// its anchor is now kept (oddAnchor), while a jump that recurs at one
// spot between good fixes is still dropped. The jumps of each day are
// drawn from a generator of their own (profile and day), so that a
// change to the derivation of one day (a stop found or lost, which adds
// or removes a draw) leaves the jumps of every other day as they were.
// Draw bases 5 to 13 (the generator's first seed word) found 2, 1, 1, 0,
// 2, 0, 1, 1, 0 such days (harsh days 5, 14, 15 and 23, realistic day 37,
// canvassing day 15), and now find none; the test runs base 8.
func TestOneJumpInAStop(t *testing.T) {
	profiles := []struct {
		name string
		p    sim.Profile
	}{{"clean", sim.Clean()}, {"realistic", sim.Realistic()}, {"harsh", sim.Harsh()}, {"canvassing", sim.Canvassing()}}
	days := 40
	if testing.Short() {
		days = 8
	}
	clients := func(d Day) []dwell.ClientID {
		var out []dwell.ClientID
		for _, v := range d.Visits {
			out = append(out, v.Client)
		}
		return out
	}
	within := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Minute }
	for pi, p := range profiles {
		w := newSimWorld(t, uint64(21+pi))
		tried := 0
		for n := range days {
			r := rand.New(rand.NewPCG(8, uint64(pi)<<32|uint64(n)))
			res := w.simDay(t, p.p, uint64(300+n), n)
			in := w.input(res, res.AllFixes())
			base := Derive(in)
			obs := res.Observations
			for _, s := range base.Segments {
				if (s.Kind != KindVisit && s.Kind != KindIdle) || s.Duration() < 10*time.Minute {
					continue
				}
				at := s.Start.Add(s.Duration()/10 + time.Duration(r.Float64()*0.8*float64(s.Duration())))
				// Between two fixes taken at the stop (the rep within 100 m
				// of its centre) that are not themselves far off.
				k := sort.Search(len(obs), func(i int) bool { return obs[i].Fix.Time.After(at) })
				if k == 0 || k == len(obs) {
					continue
				}
				if pv, nx := obs[k-1], obs[k]; pv.ErrorM > 100 || nx.ErrorM > 100 || pv.Fix.Mock || nx.Fix.Mock ||
					haversineM(pv.TruePos, s.Location) > 100 || haversineM(nx.TruePos, s.Location) > 100 {
					continue
				}
				off, ang := 300+500*r.Float64(), 2*math.Pi*r.Float64()
				c := s.Location
				jump := dwell.Fix{ID: fmt.Sprintf("jump-%d", tried), Time: at, AccuracyM: 5 + 10*r.Float64(), BearingDeg: -1,
					Pos: dwell.LatLng{Lat: c.Lat + off*math.Sin(ang)/111195, Lng: c.Lng + off*math.Cos(ang)/(111195*math.Cos(c.Lat*math.Pi/180))}}
				jin := in
				jin.Fixes = append(slices.Clone(in.Fixes), jump)
				got := Derive(jin)
				tried++
				if !slices.Equal(clients(got), clients(base)) || len(segmentsOf(got, KindTravel)) != len(segmentsOf(base, KindTravel)) ||
					!within(got.Totals.Visit, base.Totals.Visit) || !within(got.Totals.Idle, base.Totals.Idle) {
					t.Errorf("%s day %d: a jump of %.0f m (accuracy %.0f m) at %v in the %s %v..%v changed the day: visit %v -> %v, idle %v -> %v\n%s",
						p.name, n, off, jump.AccuracyM, at.Format("15:04:05"), s.Kind, s.Start.Format("15:04:05"), s.End.Format("15:04:05"),
						base.Totals.Visit, got.Totals.Visit, base.Totals.Idle, got.Totals.Idle, got.Encode())
				}
			}
		}
		t.Logf("%s: %d jumps injected", p.name, tried)
	}
}

// TestDeterminismWithPausesAndConflicts derives harsh simulated days with
// pauses (one left open), every other day a split shift (two working-hours
// windows, a break of 30 to 90 min between), fixes repeated under one ID
// with other content, fixes of one instant at other places, and every
// list repeated and shuffled, and wants the same bytes every time.
func TestDeterminismWithPausesAndConflicts(t *testing.T) {
	w := newSimWorld(t, 9)
	r := rand.New(rand.NewPCG(1, 2))
	days, orders := 20, 30
	if testing.Short() {
		days, orders = 5, 10
	}
	for n := range days {
		res := w.simDay(t, sim.Harsh(), uint64(700+n), n)
		in := w.input(res, res.AllFixes())
		if n%2 == 0 {
			mid := res.Start.Add(time.Duration(r.Int64N(int64(res.End.Sub(res.Start)))))
			in.Window = Window{}
			in.Windows = []Window{{Start: mid.Add(time.Duration(30+r.IntN(60)) * time.Minute), End: res.End}, {Start: res.Start, End: mid}}
		}
		for k := range 3 {
			at := res.Start.Add(time.Duration(r.Int64N(int64(res.End.Sub(res.Start)))))
			in.Tracking = append(in.Tracking, dwell.TrackingChange{RequestID: fmt.Sprintf("p%d", k), Time: at, Paused: true})
			if k < 2 { // the last pause is never resumed
				in.Tracking = append(in.Tracking, dwell.TrackingChange{RequestID: fmt.Sprintf("r%d", k), Time: at.Add(time.Duration(r.IntN(3600)) * time.Second)})
			}
		}
		again := slices.Clone(in.Fixes[:20])
		for i := range again {
			again[i].Pos.Lat += 0.001 // the same IDs, other positions
		}
		in.Fixes = append(in.Fixes, again...)
		for i := range 10 {
			f := in.Fixes[r.IntN(len(in.Fixes))]
			f.ID, f.Pos.Lng = fmt.Sprintf("same-time-%d", i), f.Pos.Lng+0.002
			in.Fixes = append(in.Fixes, f)
		}
		day := Derive(in)
		checkInvariants(t, fmt.Sprintf("day %d", n), day)
		want := day.Encode()
		for k := range orders {
			o := in
			o.Fixes = slices.Clone(in.Fixes)
			o.Fixes = append(o.Fixes, o.Fixes[:r.IntN(30)]...)
			r.Shuffle(len(o.Fixes), func(i, j int) { o.Fixes[i], o.Fixes[j] = o.Fixes[j], o.Fixes[i] })
			o.Tracking = append(slices.Clone(in.Tracking), in.Tracking...)
			r.Shuffle(len(o.Tracking), func(i, j int) { o.Tracking[i], o.Tracking[j] = o.Tracking[j], o.Tracking[i] })
			o.CheckIns = append(slices.Clone(in.CheckIns), in.CheckIns...)
			r.Shuffle(len(o.CheckIns), func(i, j int) { o.CheckIns[i], o.CheckIns[j] = o.CheckIns[j], o.CheckIns[i] })
			o.CheckOuts = append(slices.Clone(in.CheckOuts), in.CheckOuts...)
			r.Shuffle(len(o.CheckOuts), func(i, j int) { o.CheckOuts[i], o.CheckOuts[j] = o.CheckOuts[j], o.CheckOuts[i] })
			o.Windows = slices.Clone(in.Windows)
			r.Shuffle(len(o.Windows), func(i, j int) { o.Windows[i], o.Windows[j] = o.Windows[j], o.Windows[i] })
			if got := Derive(o).Encode(); !bytes.Equal(got, want) {
				t.Fatalf("day %d, order %d: another timeline\ngot:\n%s\nwant:\n%s", n, k, got, want)
			}
		}
	}
}
