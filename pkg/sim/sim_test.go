package sim

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// The oracles below measure on the sphere, independently of the
// simulator's plane.

const oracleEarthRadiusM = 6371008.8

func haversineM(a, b dwell.LatLng) float64 {
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * oracleEarthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// fenceDistM returns the signed distance in metres from p to g's boundary,
// negative inside. Polygons are measured in a tangent plane at p.
func fenceDistM(g dwell.Geofence, p dwell.LatLng) float64 {
	if g.Circle != nil {
		return haversineM(g.Circle.Center, p) - g.Circle.RadiusM
	}
	k := oracleEarthRadiusM * math.Pi / 180
	local := func(q dwell.LatLng) [2]float64 {
		return [2]float64{(q.Lng - p.Lng) * k * math.Cos(p.Lat*math.Pi/180), (q.Lat - p.Lat) * k}
	}
	d, in := math.Inf(1), false
	for _, ring := range append([][]dwell.LatLng{g.Polygon.Shell}, g.Polygon.Holes...) {
		for i := range ring {
			a, b := local(ring[i]), local(ring[(i+1)%len(ring)])
			if (a[1] > 0) != (b[1] > 0) && 0 < (b[0]-a[0])*(0-a[1])/(b[1]-a[1])+a[0] {
				in = !in
			}
			ab := [2]float64{b[0] - a[0], b[1] - a[1]}
			f := math.Max(0, math.Min(1, -(a[0]*ab[0]+a[1]*ab[1])/(ab[0]*ab[0]+ab[1]*ab[1])))
			d = math.Min(d, math.Hypot(a[0]+f*ab[0], a[1]+f*ab[1]))
		}
	}
	if in {
		return -d
	}
	return d
}

func acrossM(g dwell.Geofence) float64 {
	if g.Circle != nil {
		return 2 * g.Circle.RadiusM
	}
	m := 0.0
	for i, a := range g.Polygon.Shell {
		for _, b := range g.Polygon.Shell[i+1:] {
			m = math.Max(m, haversineM(a, b))
		}
	}
	return m
}

var (
	cityOnce sync.Once
	city     *City
	cityErr  error
)

func testCity(t testing.TB) *City {
	t.Helper()
	cityOnce.Do(func() { city, cityErr = NewCity(42, CityConfig{}) })
	if cityErr != nil {
		t.Fatalf("NewCity(42) = %v", cityErr)
	}
	return city
}

var seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

// eachDay runs f on every profile's day for every seed.
func eachDay(t *testing.T, f func(t *testing.T, r *DayResult)) {
	c := testCity(t)
	for _, p := range Profiles() {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", p.Name, seed), func(t *testing.T) {
				r, err := Day(seed, c, p, DayConfig{Rep: dwell.RepID(fmt.Sprintf("rep-%d", seed%3))})
				if err != nil {
					t.Fatalf("Day(%d, %s) = %v", seed, p.Name, err)
				}
				f(t, r)
			})
		}
	}
}

func site(t *testing.T, id dwell.ClientID) Site {
	t.Helper()
	s, ok := testCity(t).Site(id)
	if !ok {
		t.Fatalf("client %s is not a site of the city", id)
	}
	return s
}

func TestDeterminism(t *testing.T) {
	a, err := NewCity(9, CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCity(9, CityConfig{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("NewCity(9) twice gave different cities")
	}
	loc := time.FixedZone("WIB", 7*3600)
	for _, p := range Profiles() {
		cfg := DayConfig{Rep: "r7", Loc: loc, Date: dwell.Date{Year: 2026, Month: 5, Day: 12}}
		x, err := Day(11, a, p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := Day(11, b, p, cfg)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: Day(11) twice gave different results", p.Name)
		}
		if x.Digest() != y.Digest() {
			t.Errorf("%s: Day(11) digests %s and %s differ", p.Name, x.Digest(), y.Digest())
		}
		z, _ := Day(12, a, p, cfg)
		if z.Digest() == x.Digest() {
			t.Errorf("%s: Day(11) and Day(12) have the same digest", p.Name)
		}
		if want := time.Date(2026, 5, 12, 1, 0, 0, 0, time.UTC); !x.Start.Equal(want) {
			t.Errorf("%s: Start = %v, want %v (08:00 WIB)", p.Name, x.Start, want)
		}
	}
}

func TestCity(t *testing.T) {
	c := testCity(t)
	ids := map[dwell.ClientID]bool{}
	kinds := map[SiteKind]int{}
	for i, s := range c.Sites {
		if vs := dwell.ValidateClient("client", s.Client, true); len(vs) > 0 {
			t.Errorf("site %s: invalid client: %v", s.ID, vs)
		}
		if ids[s.ID] {
			t.Errorf("site %s: duplicate id", s.ID)
		}
		ids[s.ID] = true
		kinds[s.Kind]++
		if got := acrossM(s.Fence); math.Abs(got-s.AcrossM) > 0.01*s.AcrossM {
			t.Errorf("site %s: AcrossM = %.2f, oracle %.2f", s.ID, s.AcrossM, got)
		}
		switch s.Kind {
		case SiteOffice:
			if r := s.Fence.Circle.RadiusM; r < 25 || r > 150 {
				t.Errorf("office %s: radius %g m, want 25..150", s.ID, r)
			}
		case SiteMallStore:
			mall, _ := c.Site(s.ID[:3])
			if d := fenceDistM(mall.Fence, s.Fence.Circle.Center); d > -s.Fence.Circle.RadiusM+1 {
				t.Errorf("store %s: centre %.1f m from its mall's boundary, want inside by its radius", s.ID, d)
			}
		case SiteShop:
			if s.AcrossM < 15 || s.AcrossM > 30 {
				t.Errorf("shop %s: %.1f m across, want 15..30", s.ID, s.AcrossM)
			}
		}
		// Fences do not overlap, except stores with their mall.
		for j, o := range c.Sites[:i] {
			if s.Kind == SiteMallStore && (o.Kind == SiteMall || o.Kind == SiteMallStore) {
				continue
			}
			if d := fenceDistM(o.Fence, s.Fence.Center()); d < 0 {
				t.Errorf("sites %s and %d (%s) overlap", s.ID, j, o.ID)
			}
		}
	}
	for _, k := range []SiteKind{SiteOffice, SiteBuilding, SiteMall, SiteMallStore, SiteShop} {
		if kinds[k] == 0 {
			t.Errorf("no %s site", k)
		}
	}
	holes := 0
	for _, s := range c.Sites {
		if s.Fence.Polygon != nil && len(s.Fence.Polygon.Holes) > 0 {
			holes++
		}
	}
	if holes == 0 {
		t.Error("no building with a courtyard")
	}
	for k, cl := range c.Clusters {
		if len(cl.Sites) != c.Config.ShopsPerCluster {
			t.Errorf("cluster %d: %d shops, want %d", k, len(cl.Sites), c.Config.ShopsPerCluster)
		}
		for _, i := range cl.Sites {
			s := c.Sites[i]
			nearest := math.Inf(1)
			for _, j := range cl.Sites {
				if j != i {
					nearest = math.Min(nearest, haversineM(s.Fence.Center(), c.Sites[j].Fence.Center()))
				}
			}
			if nearest > 70 {
				t.Errorf("shop %s: nearest neighbour %.0f m away, want tens of metres", s.ID, nearest)
			}
		}
	}
	if _, err := NewCity(1, CityConfig{RadiusM: 600, Clients: 5000}); !dwell.Is(dwell.Invalid, err) {
		t.Errorf("NewCity of 5000 clients in 600 m = %v, want invalid", err)
	}
}

func TestTruthTimeline(t *testing.T) {
	eachDay(t, func(t *testing.T, r *DayResult) {
		if len(r.Segments) == 0 || !r.Segments[0].Start.Equal(r.Start) || !r.Segments[len(r.Segments)-1].End.Equal(r.End) {
			t.Fatalf("segments do not span [%v, %v)", r.Start, r.End)
		}
		visits := 0
		for i, s := range r.Segments {
			if !s.Start.Before(s.End) {
				t.Errorf("segment %d %s is empty or reversed: %v..%v", i, s.Kind, s.Start, s.End)
			}
			if i > 0 && !s.Start.Equal(r.Segments[i-1].End) {
				t.Errorf("segment %d starts at %v, previous ends at %v", i, s.Start, r.Segments[i-1].End)
			}
			if i > 0 && s.Kind == r.Segments[i-1].Kind && s.Kind != KindVisit {
				t.Errorf("segments %d and %d are both %s", i-1, i, s.Kind)
			}
			switch s.Kind {
			case KindVisit:
				vd := r.Profile.VisitDuration
				if v := r.Visits[visits]; v.CheckIn >= 0 && r.CheckIns[v.CheckIn].Mode == ModeAtDoor {
					vd.Max += 5 * time.Minute // the walk in from the door
				}
				if s.Duration() < vd.Min || s.Duration() > vd.Max+time.Millisecond {
					t.Errorf("visit %d lasts %v, want %v..%v", i, s.Duration(), vd.Min, vd.Max)
				}
				if r.Visits[visits].Segment != i {
					t.Errorf("Visits[%d].Segment = %d, want %d", visits, r.Visits[visits].Segment, i)
				}
				visits++
			case KindIdle:
				if s.Duration() < 10*time.Minute {
					t.Errorf("idle %d lasts %v, want at least 10m", i, s.Duration())
				}
			case KindGap:
				if d := haversineM(r.PosAt(s.Start), r.PosAt(s.End)); d < 140 {
					t.Errorf("gap %d: rep only %.0f m elsewhere after it", i, d)
				}
			case KindTravel:
			default:
				t.Errorf("segment %d has kind %v", i, s.Kind)
			}
		}
		if visits != len(r.Visits) {
			t.Errorf("%d visit segments, %d Visits", visits, len(r.Visits))
		}
		if n := len(r.Visits) + r.HiddenVisits; n < r.Profile.Visits.Min || n > r.Profile.Visits.Max {
			t.Errorf("%d visits (%d hidden), want %d..%d", n, r.HiddenVisits, r.Profile.Visits.Min, r.Profile.Visits.Max)
		}
		// Every stop of the track inside a trip is shorter than idle_min.
		for i := 0; i+1 < len(r.Track); {
			j := i
			for j+1 < len(r.Track) && r.Track[j+1].Pos == r.Track[i].Pos {
				j++
			}
			if j > i {
				mid := r.Track[i].Time.Add(r.Track[j].Time.Sub(r.Track[i].Time) / 2)
				if k, _ := r.TruthAt(mid); k == KindTravel && r.Track[j].Time.Sub(r.Track[i].Time) >= 5*time.Minute {
					t.Errorf("a %v stop at %v is travel", r.Track[j].Time.Sub(r.Track[i].Time), r.Track[i].Time)
				}
			}
			i = j + 1
		}
		if len(r.PhoneOff) != countKind(r, KindGap) {
			t.Errorf("%d phone-off intervals, %d gaps", len(r.PhoneOff), countKind(r, KindGap))
		}
	})
}

func countKind(r *DayResult, k Kind) int {
	n := 0
	for _, s := range r.Segments {
		if s.Kind == k {
			n++
		}
	}
	return n
}

func TestTruthPlaces(t *testing.T) {
	c := testCity(t)
	eachDay(t, func(t *testing.T, r *DayResult) {
		for _, v := range r.Visits {
			s := site(t, v.Client)
			for _, at := range []time.Time{v.Start, v.Start.Add(v.End.Sub(v.Start) / 2), v.End.Add(-time.Millisecond)} {
				p := r.PosAt(at)
				if d := fenceDistM(s.Fence, p); d > -0.5 {
					t.Errorf("visit to %s at %v: rep %.1f m from the boundary, want inside", v.Client, at, d)
				}
				// Where fences overlap, the visited site's centre is the nearest.
				for _, o := range c.Sites {
					if o.ID != s.ID && fenceDistM(o.Fence, p) <= 0 && haversineM(o.Fence.Center(), p) < haversineM(s.Fence.Center(), p) {
						t.Errorf("visit to %s at %v: also inside %s whose centre is nearer", v.Client, at, o.ID)
					}
				}
			}
			if k, id := r.TruthAt(v.Start); k != KindVisit || id != v.Client {
				t.Errorf("TruthAt(%v) = %v %s, want VISIT %s", v.Start, k, id, v.Client)
			}
		}
		for _, s := range r.Segments {
			if s.Kind != KindIdle {
				continue
			}
			for _, o := range c.Sites {
				if d := fenceDistM(o.Fence, s.Pos); d < 95 {
					t.Errorf("idle at %v is %.0f m from %s, want at least 100", s.Start, d, o.ID)
				}
			}
		}
		// Road-like speeds, never a jump.
		for i := 1; i < len(r.Track); i++ {
			a, b := r.Track[i-1], r.Track[i]
			dt := b.Time.Sub(a.Time).Seconds()
			if dt <= 0 {
				t.Fatalf("track point %d at %v not after %v", i, b.Time, a.Time)
			}
			if kmh := haversineM(a.Pos, b.Pos) / dt * 3.6; kmh > r.Profile.SpeedKMH.Max*1.01 {
				t.Errorf("track %v..%v at %.1f km/h, want at most %g", a.Time, b.Time, kmh, r.Profile.SpeedKMH.Max)
			}
		}
		if k, _ := r.TruthAt(r.End); k != KindNone {
			t.Errorf("TruthAt(End) = %v, want NONE", k)
		}
		if k, _ := r.TruthAt(r.Start.Add(-time.Second)); k != KindNone {
			t.Errorf("TruthAt(Start-1s) = %v, want NONE", k)
		}
	})
}

func TestObservations(t *testing.T) {
	type tally struct{ within, all, throttled, outliers, mocks int }
	byProfile := map[string]*tally{}
	eachDay(t, func(t *testing.T, r *DayResult) {
		ty := byProfile[r.Profile.Name]
		if ty == nil {
			ty = &tally{}
			byProfile[r.Profile.Name] = ty
		}
		ids := map[string]bool{}
		silent := append(slices.Clone(r.PhoneOff), r.Silences...)
		var prev time.Time
		for i, o := range r.Observations {
			f := o.Fix
			if vs := dwell.ValidateFix("fix", f, r.End, 365*24*time.Hour); len(vs) > 0 {
				t.Errorf("fix %d invalid: %v", i, vs)
			}
			if ids[f.ID] {
				t.Errorf("fix id %s repeats", f.ID)
			}
			ids[f.ID] = true
			if f.Time.Before(prev) {
				t.Errorf("fix %d at %v before %v", i, f.Time, prev)
			}
			if f.Time.Before(r.Start) || !f.Time.Before(r.End) {
				t.Errorf("fix %d at %v outside the day", i, f.Time)
			}
			for _, iv := range silent {
				if iv.Contains(f.Time) {
					t.Errorf("fix %d at %v while the phone is off or silent", i, f.Time)
				}
			}
			if d := haversineM(o.TruePos, r.PosAt(f.Time)); d > 0.1 {
				t.Errorf("fix %d: TruePos %.2f m from PosAt", i, d)
			}
			if d := haversineM(o.TruePos, f.Pos); math.Abs(d-o.ErrorM) > 0.1+0.005*d {
				t.Errorf("fix %d: ErrorM %.2f, oracle %.2f", i, o.ErrorM, d)
			}
			if o.Outlier {
				ty.outliers++
				if o.ErrorM < r.Profile.OutlierDistanceM.Min-20 {
					t.Errorf("outlier %d only %.0f m off", i, o.ErrorM)
				}
			}
			if f.Mock {
				ty.mocks++
			}
			if i > 0 && o.Source == SourceTrack && f.Time.Sub(prev) >= 2*time.Minute {
				ty.throttled++
			}
			prev = f.Time
			if o.Source != SourceTrack || o.Outlier || f.Mock {
				continue
			}
			acc := r.Profile.OutdoorAccuracyM
			if o.Indoor {
				acc = r.Profile.IndoorAccuracyM
			}
			if f.AccuracyM < acc.Min-0.05 || f.AccuracyM > acc.Max+0.05 {
				t.Errorf("fix %d: accuracy %g m, want %g..%g", i, f.AccuracyM, acc.Min, acc.Max)
			}
			ty.all++
			if o.ErrorM <= f.AccuracyM {
				ty.within++
			}
		}
	})
	for name, ty := range byProfile {
		if share := float64(ty.within) / float64(ty.all); share < 0.6 || share > 0.76 {
			t.Errorf("%s: %.2f of fixes within their accuracy, want about 0.68", name, share)
		}
		if name != "clean" && (ty.throttled == 0 || ty.outliers == 0 || ty.mocks == 0) {
			t.Errorf("%s: %d throttled intervals, %d outliers, %d mock fixes; want some of each", name, ty.throttled, ty.outliers, ty.mocks)
		}
		if name == "clean" && ty.throttled+ty.outliers+ty.mocks > 0 {
			t.Errorf("clean: %d throttled intervals, %d outliers, %d mock fixes; want none", ty.throttled, ty.outliers, ty.mocks)
		}
	}
}

func TestUploads(t *testing.T) {
	dups := map[string]int{}
	eachDay(t, func(t *testing.T, r *DayResult) {
		want := map[string]dwell.Fix{}
		for _, f := range r.AllFixes() {
			want[f.ID] = f
		}
		seen := map[string]int{}
		outOfOrder := false
		for i, b := range r.Uploads {
			if len(b.Fixes) == 0 || len(b.Fixes) > r.Profile.BatchMax {
				t.Errorf("batch %d has %d fixes, want 1..%d", i, len(b.Fixes), r.Profile.BatchMax)
			}
			if i > 0 && b.ArriveAt.Before(r.Uploads[i-1].ArriveAt) {
				t.Errorf("batch %d arrives before batch %d", i, i-1)
			}
			for j, f := range b.Fixes {
				if w, ok := want[f.ID]; !ok || !reflect.DeepEqual(w, f) {
					t.Errorf("batch %d: fix %s is not an observation", i, f.ID)
				}
				if f.Time.After(b.ArriveAt) {
					t.Errorf("batch %d arrives at %v with a fix of %v", i, b.ArriveAt, f.Time)
				}
				if j > 0 && f.Time.Before(b.Fixes[j-1].Time) {
					outOfOrder = true
				}
				seen[f.ID]++
			}
		}
		for id := range want {
			if seen[id] == 0 {
				t.Errorf("fix %s never uploaded", id)
			}
		}
		n := 0
		for _, k := range seen {
			n += k - 1
		}
		dups[r.Profile.Name] += n
		if r.Profile.Name == "clean" && (n > 0 || outOfOrder) {
			t.Errorf("clean: %d repeats, out of order %t; want none", n, outOfOrder)
		}
		if r.Profile.Name == "realistic" && !outOfOrder {
			t.Error("realistic: every batch in order")
		}
		// Shuffled is the same multiset in another order.
		all := r.Shuffled(3)
		if !reflect.DeepEqual(all, r.Shuffled(3)) {
			t.Error("Shuffled(3) twice differs")
		}
		count := map[string]int{}
		for _, f := range all {
			count[f.ID]++
		}
		if !reflect.DeepEqual(count, seen) {
			t.Error("Shuffled is not the uploads' multiset")
		}
	})
	for _, name := range []string{"realistic", "harsh", "canvassing"} {
		if dups[name] == 0 {
			t.Errorf("%s: no duplicate uploads", name)
		}
	}
}

func TestCanvassing(t *testing.T) {
	c := testCity(t)
	for _, seed := range seeds {
		p := Canvassing()
		p.PhoneOffGaps = IntRange{}
		r, err := Day(seed, c, p, DayConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(r.Visits); n < 15 || n > 25 {
			t.Errorf("seed %d: %d visits, want 15..25", seed, n)
		}
		for _, v := range r.Visits {
			s := site(t, v.Client)
			if d := v.End.Sub(v.Start); d < 5*time.Minute || d > 15*time.Minute {
				t.Errorf("seed %d: visit to %s lasts %v, want 5..15 min", seed, v.Client, d)
			}
			if s.Kind != SiteShop || s.AcrossM < 15 || s.AcrossM > 30 {
				t.Errorf("seed %d: visit to %s, a %s %.1f m across; want a shop 15..30 m across", seed, v.Client, s.Kind, s.AcrossM)
			}
		}
		// The rep walks a street shop by shop, skipping some: consecutive
		// visits are tens of metres apart per shop passed.
		order := func(s Site) int {
			return slices.IndexFunc(c.Clusters[s.Cluster].Sites, func(i int) bool { return c.Sites[i].ID == s.ID })
		}
		for i := 1; i < len(r.Visits); i++ {
			a, b := site(t, r.Visits[i-1].Client), site(t, r.Visits[i].Client)
			if a.Cluster != b.Cluster {
				continue
			}
			passed := order(a) - order(b)
			if passed < 0 {
				passed = -passed
			}
			if d := haversineM(a.Fence.Center(), b.Fence.Center()); d > 60*float64(passed) {
				t.Errorf("seed %d: next shop %s %.0f m from %s, %d shops along", seed, b.ID, d, a.ID, passed)
			}
		}
	}
}

func TestCheckIns(t *testing.T) {
	modes := map[CheckInMode]int{}
	forgotten, lowAcc := 0, 0
	eachDay(t, func(t *testing.T, r *DayResult) {
		fixes := map[string]dwell.Fix{}
		for _, f := range r.AllFixes() {
			fixes[f.ID] = f
		}
		closed := map[int]bool{}
		for _, co := range r.CheckOuts {
			if closed[co.CheckIn] {
				t.Errorf("check-in %d closed twice", co.CheckIn)
			}
			closed[co.CheckIn] = true
			ci := r.CheckIns[co.CheckIn]
			if ci.Client != co.Client || !co.Time.After(ci.Time) || co.Visit != ci.Visit {
				t.Errorf("check-out %s does not match its check-in %s", co.RequestID, ci.RequestID)
			}
			if co.Outcome < dwell.OutcomePositive || co.Outcome > dwell.OutcomeNoDecision {
				t.Errorf("check-out %s: outcome %d", co.RequestID, co.Outcome)
			}
			if co.Outcome == dwell.OutcomeFollowUp && !co.FollowUpDate.Valid() {
				t.Errorf("check-out %s: follow-up without a date", co.RequestID)
			}
			if co.Outcome == dwell.OutcomeRejected && (co.RejectionReason == dwell.RejectionReasonUnspecified ||
				co.RejectionReason == dwell.RejectionOther && co.RejectionText == "") {
				t.Errorf("check-out %s: rejected without a reason", co.RequestID)
			}
			if co.Honest {
				s := site(t, co.Client)
				if d := fenceDistM(s.Fence, co.TruePos); d > 0 {
					t.Errorf("honest check-out %s: rep %.1f m outside", co.RequestID, d)
				}
			}
		}
		for i, ci := range r.CheckIns {
			modes[ci.Mode]++
			if !closed[i] {
				forgotten++
			}
			if ci.Rep != r.Rep || ci.RequestID == "" || ci.Fix == nil || ci.ReceiveTime.Before(ci.Time) {
				t.Errorf("check-in %d incomplete: %+v", i, ci.CheckIn)
				continue
			}
			if f, ok := fixes[ci.Fix.ID]; !ok || !reflect.DeepEqual(f, *ci.Fix) || !f.Time.Equal(ci.Time) {
				t.Errorf("check-in %s: its fix is not the observation taken then", ci.RequestID)
			}
			s := site(t, ci.Client)
			fixDist, trueDist := fenceDistM(s.Fence, ci.Fix.Pos), fenceDistM(s.Fence, ci.TruePos)
			if math.Abs(fixDist-ci.FenceDistanceM) > 0.5+0.005*math.Abs(fixDist) {
				t.Errorf("check-in %s: FenceDistanceM %.1f, oracle %.1f", ci.RequestID, ci.FenceDistanceM, fixDist)
			}
			// A fresh fix the app waited for is within its accuracy; the
			// fix the phone had (low accuracy) is within 5 times it.
			reach := ci.Fix.AccuracyM
			if low := r.Profile.LowCheckInAccuracyM; r.Profile.LowAccuracyCheckInShare > 0 && ci.Fix.AccuracyM >= low.Min-0.05 {
				lowAcc++
				reach = 5 * ci.Fix.AccuracyM
			}
			switch ci.Mode {
			case ModeOnSite, ModeAtDoor:
				if !ci.Honest || trueDist > 0 || fixDist > reach || ci.Fix.Mock {
					t.Errorf("%s check-in %s: rep %.1f m, fix %.1f m (accuracy %g) from the boundary", ci.Mode, ci.RequestID, trueDist, fixDist, ci.Fix.AccuracyM)
				}
				v := r.Visits[ci.Visit]
				if v.Client != ci.Client || !ci.Time.Before(v.End) {
					t.Errorf("%s check-in %s not at its visit", ci.Mode, ci.RequestID)
				}
				if ci.Mode == ModeOnSite && ci.Time.Before(v.Start) {
					t.Errorf("on-site check-in %s before its visit", ci.RequestID)
				}
				if ci.Mode == ModeAtDoor && (!ci.Time.Equal(v.Start) || trueDist < -6.6) { // 5 m, and a second of walking
					t.Errorf("at-door check-in %s at %v, %.1f m inside, for a visit from %v", ci.RequestID, ci.Time, -trueDist, v.Start)
				}
			case ModeNearby:
				if ci.Honest || ci.Visit != -1 || trueDist < 79 || trueDist > 501 || ci.Fix.Mock {
					t.Errorf("nearby check-in %s: rep %.0f m from the fence", ci.RequestID, trueDist)
				}
				if k, _ := r.TruthAt(ci.Time); k != KindVisit && k != KindIdle {
					t.Errorf("nearby check-in %s during %v", ci.RequestID, k)
				}
			case ModeCarPark, ModePhantom:
				if ci.Honest || fixDist < 150 || ci.Fix.Mock {
					t.Errorf("%s check-in %s: fix only %.0f m from the fence", ci.Mode, ci.RequestID, fixDist)
				}
				if fixDist > 2100 {
					t.Errorf("%s check-in %s: fix %.0f m from the fence, want at most 2 km", ci.Mode, ci.RequestID, fixDist)
				}
				if k, _ := r.TruthAt(ci.Time); ci.Mode == ModePhantom && (k != KindIdle || ci.Visit != -1) {
					t.Errorf("phantom check-in %s during %v", ci.RequestID, k)
				}
			case ModeMock:
				if ci.Honest || !ci.Fix.Mock || trueDist < 150 || fixDist > 0 {
					t.Errorf("mock check-in %s: rep %.0f m, fix %.0f m from the fence", ci.RequestID, trueDist, fixDist)
				}
			default:
				t.Errorf("check-in %s: mode %v", ci.RequestID, ci.Mode)
			}
			if ci.Visit >= 0 && r.Visits[ci.Visit].CheckIn != i {
				t.Errorf("check-in %s: visit %d does not point back", ci.RequestID, ci.Visit)
			}
		}
	})
	for _, m := range []CheckInMode{ModeOnSite, ModeCarPark, ModePhantom, ModeMock, ModeAtDoor, ModeNearby} {
		if modes[m] == 0 {
			t.Errorf("no %s check-in in any day", m)
		}
	}
	if lowAcc == 0 {
		t.Error("no check-in with a low-accuracy fix in any day")
	}
	if forgotten == 0 {
		t.Error("no forgotten check-out in any day")
	}
}

func TestErrors(t *testing.T) {
	c := testCity(t)
	bad := Realistic()
	bad.OutlierRate = 2
	if _, err := Day(1, c, bad, DayConfig{}); !dwell.Is(dwell.Invalid, err) {
		t.Errorf("Day with OutlierRate 2 = %v, want invalid", err)
	}
	if _, err := Day(1, c, Realistic(), DayConfig{Start: 9 * time.Hour, End: 10 * time.Hour}); !dwell.Is(dwell.Invalid, err) {
		t.Errorf("Day of 1h = %v, want invalid", err)
	}
	small, err := NewCity(1, CityConfig{ShopClusters: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Day(1, small, Canvassing(), DayConfig{}); !dwell.Is(dwell.FailedPrecondition, err) {
		t.Errorf("canvassing a city without shops = %v, want failed precondition", err)
	}
	long := Realistic()
	long.Visits = IntRange{20, 20}
	long.VisitDuration = DurationRange{50 * time.Minute, 60 * time.Minute}
	if _, err := Day(1, c, long, DayConfig{}); !dwell.Is(dwell.FailedPrecondition, err) {
		t.Errorf("20 visits of 50 min in a day = %v, want failed precondition", err)
	}
}

func TestNames(t *testing.T) {
	for k, want := range map[Kind]string{KindNone: "NONE", KindVisit: "VISIT", KindIdle: "IDLE", KindTravel: "TRAVEL", KindGap: "GAP", 99: "NONE"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
	for _, p := range Profiles() {
		if q, ok := ProfileByName(p.Name); !ok || !reflect.DeepEqual(p, q) {
			t.Errorf("ProfileByName(%q) = %v, %t", p.Name, q.Name, ok)
		}
		if err := p.validate(); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
	}
}

func FuzzDay(f *testing.F) {
	for _, s := range []uint64{0, 1, 1 << 40, math.MaxUint64} {
		f.Add(s, uint8(1))
	}
	c := testCity(f)
	profiles := Profiles()
	f.Fuzz(func(t *testing.T, seed uint64, which uint8) {
		p := profiles[int(which)%len(profiles)]
		r, err := Day(seed, c, p, DayConfig{})
		if err != nil {
			t.Fatalf("Day(%d, %s) = %v", seed, p.Name, err)
		}
		at := r.Start
		for _, s := range r.Segments {
			if !s.Start.Equal(at) || !s.End.After(s.Start) {
				t.Fatalf("segments not contiguous at %v", at)
			}
			at = s.End
		}
		if !at.Equal(r.End) {
			t.Fatalf("segments end at %v, want %v", at, r.End)
		}
		seen := map[string]bool{}
		for _, b := range r.Uploads {
			for _, f := range b.Fixes {
				seen[f.ID] = true
			}
		}
		if len(seen) != len(r.Observations) {
			t.Fatalf("%d distinct fixes uploaded, %d observed", len(seen), len(r.Observations))
		}
	})
}

func BenchmarkDayRealistic(b *testing.B) {
	c := testCity(b)
	p := Realistic()
	for i := 0; b.Loop(); i++ {
		if _, err := Day(uint64(i), c, p, DayConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewCity(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := NewCity(uint64(i), CityConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConcurrentDays(t *testing.T) {
	c := testCity(t)
	want := make([]string, 4)
	for i := range want {
		r, err := Day(uint64(i), c, Profiles()[i], DayConfig{})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r.Digest()
	}
	got := make([]string, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			r, err := Day(uint64(i), c, Profiles()[i], DayConfig{})
			if err == nil {
				got[i] = r.Digest()
			}
		})
	}
	wg.Wait()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("days in parallel %v, serially %v", got, want)
	}
}

// TestDoppler checks the reported speeds against each profile: the share
// of fixes with a speed outdoors and indoors, still fixes near 0 (exactly
// 0 under the static hold), moving fixes near the true speed with a
// course, and no course on a fix without speed.
func TestDoppler(t *testing.T) {
	type tally struct{ out, outSpeed, in, inSpeed, still, stillZero, moving, movingNear int }
	byProfile := map[string]*tally{}
	eachDay(t, func(t *testing.T, r *DayResult) {
		ty := byProfile[r.Profile.Name]
		if ty == nil {
			ty = &tally{}
			byProfile[r.Profile.Name] = ty
		}
		p := r.Profile
		for i, o := range r.Observations {
			f := o.Fix
			if o.Source != SourceTrack || f.Mock {
				continue
			}
			if f.SpeedMPS < 0 && f.BearingDeg >= 0 {
				t.Errorf("fix %d has a course but no speed", i)
			}
			if o.Indoor {
				ty.in++
				if f.SpeedMPS >= 0 {
					ty.inSpeed++
				}
			} else {
				ty.out++
				if f.SpeedMPS >= 0 {
					ty.outSpeed++
				}
			}
			if f.SpeedMPS < 0 {
				continue
			}
			if f.SpeedMPS > 0 && f.SpeedMPS < p.StaticHoldMPS-0.005 {
				t.Errorf("fix %d: speed %g m/s under the static hold %g", i, f.SpeedMPS, p.StaticHoldMPS)
			}
			// True speed from the track around the fix.
			a, m, b := r.PosAt(f.Time.Add(-time.Second)), r.PosAt(f.Time), r.PosAt(f.Time.Add(time.Second))
			v, v2 := haversineM(a, m), haversineM(m, b)
			if math.Abs(v-v2) > 0.05 {
				continue // at a corner or a stop: the speed changes there
			}
			sd := p.SpeedErrorMPS
			if o.Indoor {
				sd = p.IndoorSpeedErrorMPS
			}
			switch {
			case v == 0:
				ty.still++
				if f.SpeedMPS == 0 {
					ty.stillZero++
				}
			case v > 1:
				ty.moving++
				if math.Abs(f.SpeedMPS-v) <= 2*sd+0.01 {
					ty.movingNear++
				}
			}
			if (f.BearingDeg < 0) != (f.SpeedMPS == 0) {
				t.Errorf("fix %d: speed %g m/s, course %g: want a course exactly when the speed is not 0", i, f.SpeedMPS, f.BearingDeg)
			}
		}
	})
	for name, ty := range byProfile {
		p, _ := ProfileByName(name)
		out, in := float64(ty.outSpeed)/float64(ty.out), float64(ty.inSpeed)/float64(ty.in)
		if math.Abs(out-p.SpeedShare) > 0.05 || math.Abs(in-p.IndoorSpeedShare) > 0.05 {
			t.Errorf("%s: %.2f of outdoor and %.2f of indoor fixes with speed, want %.2f and %.2f", name, out, in, p.SpeedShare, p.IndoorSpeedShare)
		}
		if ty.still == 0 || ty.stillZero == 0 || ty.stillZero == ty.still {
			t.Errorf("%s: %d of %d still fixes report 0 m/s, want some but not all", name, ty.stillZero, ty.still)
		}
		if near := float64(ty.movingNear) / float64(max(ty.moving, 1)); ty.moving == 0 || near < 0.9 {
			t.Errorf("%s: %.2f of %d moving fixes within two standard errors of the true speed, want >= 0.9", name, near, ty.moving)
		}
	}
}
