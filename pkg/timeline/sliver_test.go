package timeline

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/baseline"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// readPLT reads the GeoLife PLT files of one user of
// testdata/real/geolife_long (baseline.ReadGeoLife) into fixes of the
// given accuracy in metres (GeoLife records none).
func readPLT(t *testing.T, user string, accM float64) []dwell.Fix {
	t.Helper()
	fixes, err := baseline.ReadGeoLife(filepath.Join("..", "..", "testdata", "real", "geolife_long", user))
	if err != nil {
		t.Fatal(err)
	}
	for i := range fixes {
		fixes[i].AccuracyM = accM
	}
	return fixes
}

// TestNoShortStopAcrossSilence derives real GeoLife days on which the
// phone went silent at one place and came back at another 60 to 130 m
// away, with 25 m fences at the two places and without fences. The two
// stops' ends used to be estimated each on its own, so that the stop
// after the silence reached back over it to the last fix before, was
// judged on that length, and was left by the overlay with the minutes
// after the first fix: visits of 1 to 4 minutes and idle stops of
// seconds. DESIGN: a VISIT lasts visit_min, an IDLE idle_min; the one
// exception, a visit between a verified check-in and its check-out, does
// not arise here (no claims).
func TestNoShortStopAcrossSilence(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	st := dwell.DefaultSettings()
	for _, c := range []struct {
		user string
		day  dwell.Date
		a, b dwell.LatLng // the places before and after the silence
	}{
		{"000", dwell.Date{Year: 2008, Month: 10, Day: 23}, dwell.LatLng{Lat: 39.98392, Lng: 116.29875}, dwell.LatLng{Lat: 39.98455, Lng: 116.29946}},
		{"001", dwell.Date{Year: 2008, Month: 10, Day: 23}, dwell.LatLng{Lat: 39.97814, Lng: 116.32739}, dwell.LatLng{Lat: 39.97769, Lng: 116.32695}},
		{"001", dwell.Date{Year: 2008, Month: 10, Day: 24}, dwell.LatLng{Lat: 39.97881, Lng: 116.32493}, dwell.LatLng{Lat: 39.97903, Lng: 116.32563}},
	} {
		fixes := readPLT(t, c.user, 10)
		ix := geofence.New(geofence.Options{})
		clients := ClientMap{}
		for id, ll := range map[dwell.ClientID]dwell.LatLng{"shopA": c.a, "shopB": c.b} {
			g := dwell.Geofence{Circle: &dwell.Circle{Center: ll, RadiusM: 25}}
			if err := ix.Put(string(id), g); err != nil {
				t.Fatal(err)
			}
			clients[id] = dwell.Client{ID: id, Fence: g}
		}
		for _, fenced := range []bool{true, false} {
			in := Input{Day: c.day, Loc: sh, Fixes: fixes}
			if fenced {
				in.Fences, in.Clients = ix, clients
			}
			day := Derive(in)
			name := fmt.Sprintf("user %s %v fences=%v", c.user, c.day, fenced)
			checkInvariants(t, name, day)
			hhmm := func(at time.Time) string { return at.In(sh).Format("15:04:05") }
			for _, s := range day.Segments {
				min := map[Kind]time.Duration{KindVisit: st.VisitMin, KindIdle: st.IdleMin}[s.Kind]
				if min > 0 && s.Duration()+durSlack < min {
					t.Errorf("%s: %v %s %s-%s lasts %v, under %v", name, s.Kind, s.Client,
						hhmm(s.Start), hhmm(s.End), s.Duration().Round(time.Second), min)
				}
			}
			for _, v := range day.Visits {
				if v.Duration()+durSlack < st.VisitMin {
					t.Errorf("%s: visit %s %s-%s lasts %v, under %v", name, v.Client,
						hhmm(v.Start), hhmm(v.End), v.Duration().Round(time.Second), st.VisitMin)
				}
			}
		}
	}
}

// TestClaimLeavesNoSliverIdle: the rep parks 50 m from client X's fence
// (beyond reach of it, so the stop is idle) for a quarter of an hour and
// checks in at X with a good fix at X's door, which verifies it and lets
// it claim a visit (claims.go: the fix is nearer the site than the stop).
// The claim reaches back at most claimLead from the check-in and ends at
// the check-out, so the overlay leaves the stop's first 3 minutes and
// last minute as pieces of it: they were IDLE segments of 3 min and
// 1 min. DESIGN's IDLE lasts idle_min, its TRAVEL takes the stops shorter
// than that: they are travel, and the claimed visit stands.
func TestClaimLeavesNoSliverIdle(t *testing.T) {
	X, P := offset(0, 0), offset(0, 70)
	ix, cm := circleClients(t, circle("X", X, 20))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 70), P, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 15, 0), P, time.Minute, 5, 2)
	tr.move(hm(9, 15, 0), hm(9, 25, 0), P, offset(3000, 70), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
		CheckIns:  []dwell.CheckIn{checkInAt("in-x", "X", hm(9, 8, 0), offset(0, 15))},
		CheckOuts: []dwell.CheckOut{{RequestID: "out-x", Client: "X", Time: hm(9, 14, 0)}}})
	checkInvariants(t, "idle sliver", day)
	st := dwell.DefaultSettings()
	for _, s := range day.Segments {
		if s.Kind == KindIdle && s.Duration()+durSlack < st.IdleMin {
			t.Errorf("IDLE %s-%s lasts %v, under idle_min\n%s", s.Start.Format("15:04:05"), s.End.Format("15:04:05"), s.Duration(), day.Encode())
		}
	}
	x := visitsTo(day, "X")
	if len(day.Visits) != 1 || len(x) != 1 || x[0].CheckInRequestID != "in-x" || !x[0].Start.Equal(hm(9, 3, 0)) || !x[0].End.Equal(hm(9, 14, 0)) {
		t.Errorf("want one visit to X, in-x's claim 09:03-09:14, got\n%s", day.Encode())
	}
}

// TestSilenceAtOneSiteIsOneVisit: a warehouse (a fence of 150 m); the rep
// works at one end for 10 min, the phone goes silent for 20 min, and it
// comes back 100 m away, at the other end, for 2 min before the rep
// drives off. The two stops' estimates meet across the silence (too far
// apart for one place), and both are at the site: one visit from 09:00 to
// the rep's leaving, not a visit that ends when the walk across would have
// started and a stop too short for one after it.
func TestSilenceAtOneSiteIsOneVisit(t *testing.T) {
	A1, A2 := offset(-50, 0), offset(50, 0)
	ix, cm := circleClients(t, circle("W", offset(0, 0), 150))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3050, 0), A1, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 10, 30), A1, time.Minute, 10, 2)
	tr.stay(hm(9, 30, 0), hm(9, 32, 30), A2, 30*time.Second, 10, 2)
	tr.move(hm(9, 32, 30), hm(9, 42, 30), A2, offset(3050, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "one site across a silence", day)
	if len(day.Visits) != 1 || day.Visits[0].Client != "W" || day.Visits[0].Start.After(hm(9, 0, 0)) || day.Visits[0].End.Before(hm(9, 32, 0)) {
		t.Errorf("want one visit to W, 09:00 to 09:32 or later, got\n%s", day.Encode())
	}
}

// TestSilenceBeforeVisitIsTheVisits: the rep waits 10 min at a spot at no
// site, the phone goes silent for half an hour, and it comes back inside
// client X's fence 100 m away for 2 min before the rep drives off. The
// two stops' estimates overlap across the silence; the stop at the site
// keeps it (a phone goes silent indoors, at the client), so X has a visit
// from the end of the walk over, and the idle stop ends where it starts.
func TestSilenceBeforeVisitIsTheVisits(t *testing.T) {
	P, X := offset(0, 0), offset(100, 0)
	ix, cm := circleClients(t, circle("X", X, 20))
	var tr track
	tr.move(hm(8, 50, 0), hm(9, 0, 0), offset(-3000, 0), P, 30*time.Second, 8)
	tr.stay(hm(9, 0, 0), hm(9, 10, 30), P, time.Minute, 10, 2)
	tr.stay(hm(9, 40, 0), hm(9, 42, 30), X, 30*time.Second, 10, 2)
	tr.move(hm(9, 42, 30), hm(9, 52, 30), X, offset(3100, 0), 30*time.Second, 8)
	day := Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm})
	checkInvariants(t, "idle, silence, visit", day)
	x := visitsTo(day, "X")
	if len(day.Visits) != 1 || len(x) != 1 || x[0].Start.After(hm(9, 12, 0)) || x[0].End.Before(hm(9, 42, 0)) {
		t.Fatalf("want one visit to X over the silence, from 09:12 or earlier to 09:42 or later, got\n%s", day.Encode())
	}
	for _, s := range segmentsOf(day, KindIdle) {
		if s.End.After(x[0].Start) || s.Duration() < 10*time.Minute {
			t.Errorf("IDLE %s-%s: want the 10 min at the spot, before the visit\n%s", s.Start.Format("15:04:05"), s.End.Format("15:04:05"), day.Encode())
		}
	}
}
