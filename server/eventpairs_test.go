package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// The tests of this file check that the stream pairs its visit events:
// every VISIT_STARTED (GEOFENCE_ENTERED) of a visit that has ended has
// one VISIT_ENDED (GEOFENCE_EXITED), and the reverse, however the data
// arrives, through UploadPings, Refresh and WatchEvents.

// pairSite is the client c1 of these tests, in Jakarta.
const pairLat, pairLng = -6.2, 106.8

// jakarta is the zone of the reps newWatchEnv's mustCreateRep makes.
var jakarta = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		panic(err)
	}
	return loc
}()

// east returns the position m metres east of c1.
func east(m float64) (lat, lng float64) { return pairLat, pairLng + m/110_574 }

// pairFixes builds fixes every 30 s from from to to (inclusive), moving
// from a metres east of c1 to b metres east at a steady pace.
func pairFixes(from, to time.Time, a, b float64) []*dwellv1.Fix {
	var fs []*dwellv1.Fix
	span := to.Sub(from)
	for t := from; !t.After(to); t = t.Add(30 * time.Second) {
		m := a
		if span > 0 {
			m = a + (b-a)*float64(t.Sub(from))/float64(span)
		}
		lat, lng := east(m)
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", t.Unix()), DeviceTime: timestamppb.New(t),
			Position: &dwellv1.LatLng{Lat: lat, Lng: lng}, AccuracyMeters: 10})
	}
	return fs
}

// pairEnv starts a server with client c1 and rep r1 (Asia/Jakarta, no
// working hours) and a partner's stream of acme's events.
func pairEnv(t *testing.T) (*env, dwellv1.ReportService_WatchEventsClient) {
	t.Helper()
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateClient(admin, "c1", pairLat, pairLng, 60)
	e.mustCreateRep(admin, "r1", "")
	st, _ := openWatch(t, e.report, e.caller(context.Background(), acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	return e, st
}

// uploadRefresh uploads fixes of r1 and runs a refresh pass.
func uploadRefresh(t *testing.T, e *env, fs []*dwellv1.Fix) {
	t.Helper()
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "r1"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
}

// drain returns the events of st up to a marker it publishes (every event
// published before the call), the marker left out.
func drain(t *testing.T, e *env, st dwellv1.ReportService_WatchEventsClient, n int) []*dwellv1.Event {
	t.Helper()
	key := fmt.Sprintf("marker-%d", n)
	mark := dwell.Event{Type: dwell.EventRepSilent, Rep: "marker", Time: e.now(), DetectTime: e.now(), Key: key}
	if _, err := server.PublishEvents(context.Background(), e.srv, acme, []dwell.Event{mark}); err != nil {
		t.Fatal(err)
	}
	var out []*dwellv1.Event
	for {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		for _, ev := range resp.GetEvents() {
			if ev.GetRep() == "reps/marker" {
				return out
			}
			out = append(out, ev)
		}
	}
}

// countTypes counts the events of each type at client c1.
func countTypes(evs []*dwellv1.Event) map[dwellv1.EventType]int {
	n := map[dwellv1.EventType]int{}
	for _, ev := range evs {
		if ev.GetClient() == "clients/c1" {
			n[ev.GetType()]++
		}
	}
	return n
}

func describe(evs []*dwellv1.Event) string {
	s := ""
	for _, ev := range evs {
		s += fmt.Sprintf("\n  %v %s %v", ev.GetType(), ev.GetClient(), ev.GetEventTime().AsTime().In(jakarta).Format("2006-01-02 15:04:05"))
	}
	return s
}

// wantPairs checks that evs hold, at c1, visits started and ended, and
// fences entered and exited, n times each.
func wantPairs(t *testing.T, what string, evs []*dwellv1.Event, n int) {
	t.Helper()
	got := countTypes(evs)
	for _, typ := range []dwellv1.EventType{
		dwellv1.EventType_EVENT_TYPE_VISIT_STARTED, dwellv1.EventType_EVENT_TYPE_VISIT_ENDED,
		dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED, dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED,
	} {
		if got[typ] != n {
			t.Errorf("%s: %d %v at c1, want %d; the events:%s", what, got[typ], typ, n, describe(evs))
		}
	}
}

// repDayVisits returns r1's visits to c1 on local day date, as GetRepDay
// derives them.
func repDayVisits(t *testing.T, e *env, date *dwellv1.Date) []*dwellv1.Visit {
	t.Helper()
	rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/r1", Date: date})
	if err != nil {
		t.Fatalf("GetRepDay: %v", err)
	}
	var out []*dwellv1.Visit
	for _, v := range rd.GetVisits() {
		if v.GetClient() == "clients/c1" {
			out = append(out, v)
		}
	}
	return out
}

// TestEventsVisitSplitByLateFixes: a rep at c1 from 09:00 to 09:30 with a
// silence from 09:05 to 09:13 is one visit; late fixes show that it
// walked 700 m away in the silence and came back, and that it left at
// 09:30: two visits, each started once and ended once (not one start and
// two ends), and nothing more once nothing new arrives.
func TestEventsVisitSplitByLateFixes(t *testing.T) {
	e, st := pairEnv(t)
	at := func(h, m int) time.Time { return time.Date(2026, 11, 20, h, m, 0, 0, jakarta) }
	// Arriving from 2 km west, then at c1 with the silence.
	var onTime []*dwellv1.Fix
	onTime = append(onTime, pairFixes(at(8, 45), at(8, 59).Add(30*time.Second), -2000, -30)...)
	onTime = append(onTime, pairFixes(at(9, 0), at(9, 5), 0, 0)...)
	onTime = append(onTime, pairFixes(at(9, 13), at(9, 30), 0, 0)...)
	uploadRefresh(t, e, onTime)
	first := drain(t, e, st, 1)
	wantCount := func(what string, evs []*dwellv1.Event, typ dwellv1.EventType, n int) {
		t.Helper()
		if got := countTypes(evs)[typ]; got != n {
			t.Fatalf("%s: %d %v at c1, want %d; the events:%s", what, got, typ, n, describe(evs))
		}
	}
	wantCount("on time", first, dwellv1.EventType_EVENT_TYPE_VISIT_STARTED, 1)
	wantCount("on time", first, dwellv1.EventType_EVENT_TYPE_VISIT_ENDED, 0)

	// The late fixes: the walk in the silence, and the departure east to
	// a stop 2 km away.
	var late []*dwellv1.Fix
	late = append(late, pairFixes(at(9, 5).Add(30*time.Second), at(9, 9), 30, 700)...)
	late = append(late, pairFixes(at(9, 9).Add(30*time.Second), at(9, 12).Add(30*time.Second), 700, 30)...)
	late = append(late, pairFixes(at(9, 30).Add(30*time.Second), at(9, 45), 30, 2000)...)
	late = append(late, pairFixes(at(9, 45).Add(30*time.Second), at(10, 5), 2000, 2000)...)
	uploadRefresh(t, e, late)
	if vs := repDayVisits(t, e, pbDate(2026, 11, 20)); len(vs) != 2 {
		t.Fatalf("GetRepDay shows %d visits at c1, want the two the walk splits: %v", len(vs), vs)
	}
	all := append(first, drain(t, e, st, 2)...)
	wantPairs(t, "after the late fixes", all, 2)

	// Nothing new: a pass that derives the day again publishes nothing.
	uploadRefresh(t, e, late)
	if again := drain(t, e, st, 3); len(again) != 0 {
		t.Errorf("a re-upload published%s", describe(again))
	}
}
