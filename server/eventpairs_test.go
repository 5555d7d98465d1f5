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
	return pairFixesEvery(30*time.Second, from, to, a, b)
}

// pairFixesEvery is pairFixes with fixes every step.
func pairFixesEvery(step time.Duration, from, to time.Time, a, b float64) []*dwellv1.Fix {
	var fs []*dwellv1.Fix
	span := to.Sub(from)
	for t := from; !t.After(to); t = t.Add(step) {
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

// TestEventsStayAcrossMidnight: a rep in Jakarta without working hours
// is at c1 from 23:40 to 00:20 local, then leaves; all of it uploaded
// late. The stay is one visit to the stream: started once, at 23:40 on
// the first day, and ended once, at 00:20 on the next (each day's part
// alone would start at 23:40 and at 00:00, and only the second end).
func TestEventsStayAcrossMidnight(t *testing.T) {
	e, st := pairEnv(t)
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	var fs []*dwellv1.Fix
	fs = append(fs, pairFixes(at(18, 23, 25), at(18, 23, 39).Add(30*time.Second), -2000, -30)...)
	fs = append(fs, pairFixes(at(18, 23, 40), at(19, 0, 20), 0, 0)...)
	fs = append(fs, pairFixes(at(19, 0, 20).Add(30*time.Second), at(19, 0, 35), 30, 2000)...)
	fs = append(fs, pairFixes(at(19, 0, 35).Add(30*time.Second), at(19, 0, 55), 2000, 2000)...)
	uploadRefresh(t, e, fs)
	evs := drain(t, e, st, 1)
	wantPairs(t, "the stay", evs, 1)
	midnight := at(19, 0, 0)
	for _, ev := range evs {
		switch typ, when := ev.GetType(), ev.GetEventTime().AsTime(); {
		case ev.GetClient() != "clients/c1":
		case (typ == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED || typ == dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED) && !when.Before(midnight):
			t.Errorf("%v at %v, want the stay's start, before midnight", typ, when.In(jakarta))
		case (typ == dwellv1.EventType_EVENT_TYPE_VISIT_ENDED || typ == dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED) && !when.After(midnight):
			t.Errorf("%v at %v, want the stay's end, after midnight", typ, when.In(jakarta))
		}
	}

	// Either day derived again with nothing new publishes nothing more,
	// and neither does more data of either day that does not change the
	// stay.
	uploadRefresh(t, e, fs)
	more := pairFixes(at(18, 22, 0), at(18, 22, 10), -2000, -2000)
	more = append(more, pairFixes(at(19, 1, 0), at(19, 1, 10), 2000, 2000)...)
	for i := range more {
		more[i].Id = "more-" + more[i].Id
	}
	uploadRefresh(t, e, more)
	if again := drain(t, e, st, 2); countTypes(again)[dwellv1.EventType_EVENT_TYPE_VISIT_STARTED]+countTypes(again)[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED] != 0 {
		t.Errorf("more data outside the stay published%s", describe(again))
	}
}

// TestEventsStayAcrossTwoMidnights: a stay at c1 from 23:40 through the
// whole next day to 00:20 the day after is one visit: the last day's
// part carries on the stay the day between handed on, which carries on
// the first day's.
func TestEventsStayAcrossTwoMidnights(t *testing.T) {
	e, st := pairEnv(t)
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	upload := func(fs []*dwellv1.Fix) {
		for len(fs) > 0 {
			n := min(len(fs), 1000)
			if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "r1"), &dwellv1.UploadPingsRequest{Fixes: fs[:n]}); err != nil {
				t.Fatalf("UploadPings: %v", err)
			}
			fs = fs[n:]
		}
	}
	var fs []*dwellv1.Fix
	fs = append(fs, pairFixes(at(17, 23, 25), at(17, 23, 39).Add(30*time.Second), -2000, -30)...)
	fs = append(fs, pairFixesEvery(2*time.Minute, at(17, 23, 40), at(19, 0, 20), 0, 0)...)
	fs = append(fs, pairFixes(at(19, 0, 20).Add(30*time.Second), at(19, 0, 35), 30, 2000)...)
	fs = append(fs, pairFixes(at(19, 0, 35).Add(30*time.Second), at(19, 0, 55), 2000, 2000)...)
	upload(fs)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	evs := drain(t, e, st, 1)
	wantPairs(t, "the stay", evs, 1)
	for _, ev := range evs {
		if typ := ev.GetType(); ev.GetClient() == "clients/c1" && (typ == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED || typ == dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED) && !ev.GetEventTime().AsTime().Before(at(18, 0, 0)) {
			t.Errorf("%v at %v, want the stay's start on the first day", typ, ev.GetEventTime().AsTime().In(jakarta))
		}
	}
}

// TestEventsIdleAcrossMidnight: a rep in Jakarta without working hours
// stands 2 km from c1 (no site) from 23:30 to 00:40 local, then drives
// 2 km on and stops again. The stop across midnight is one idle stop to
// the stream: one IDLE_STARTED, at 23:30 on the first day, none at 00:00
// on the next; whether the first day's part arrived before the second's
// or with it, and however often either day is derived again.
func TestEventsIdleAcrossMidnight(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	// day1 is the first day's part: arriving from 4 km east, then idle.
	var day1 []*dwellv1.Fix
	day1 = append(day1, pairFixes(at(18, 23, 15), at(18, 23, 29).Add(30*time.Second), 4000, 2030)...)
	day1 = append(day1, pairFixes(at(18, 23, 30), at(18, 23, 59).Add(30*time.Second), 2000, 2000)...)
	// day2 is the rest: still idle to 00:40, then on to a stop 2 km east.
	var day2 []*dwellv1.Fix
	day2 = append(day2, pairFixes(at(19, 0, 0), at(19, 0, 40), 2000, 2000)...)
	day2 = append(day2, pairFixes(at(19, 0, 40).Add(30*time.Second), at(19, 0, 55), 2030, 4000)...)
	day2 = append(day2, pairFixes(at(19, 0, 55).Add(30*time.Second), at(19, 1, 20), 4000, 4000)...)
	// stopStarts returns the IDLE_STARTED times of evs in the stop's
	// span, 23:00 to 00:45.
	stopStarts := func(evs []*dwellv1.Event) []time.Time {
		var out []time.Time
		for _, ev := range evs {
			if ts := ev.GetEventTime().AsTime(); ev.GetType() == dwellv1.EventType_EVENT_TYPE_IDLE_STARTED &&
				!ts.Before(at(18, 23, 0)) && !ts.After(at(19, 0, 45)) {
				out = append(out, ts)
			}
		}
		return out
	}
	// wantStart checks that evs start the stop once, on the first day: a
	// minute either side of 23:30 (the timeline places the start between
	// the fixes), not at midnight.
	wantStart := func(t *testing.T, what string, evs []*dwellv1.Event) {
		t.Helper()
		got := stopStarts(evs)
		if len(got) != 1 || got[0].Sub(at(18, 23, 30)).Abs() > time.Minute {
			t.Errorf("%s: IDLE_STARTED of the stop at %v, want once, at 23:30; the events:%s", what, got, describe(evs))
		}
	}
	// wantNone checks that evs start the stop no more.
	wantNone := func(t *testing.T, what string, evs []*dwellv1.Event) {
		t.Helper()
		if got := stopStarts(evs); len(got) != 0 {
			t.Errorf("%s: IDLE_STARTED of the stop again at %v; the events:%s", what, got, describe(evs))
		}
	}
	// started reports whether evs start the second stop, around 00:55.
	started := func(evs []*dwellv1.Event) bool {
		for _, ev := range evs {
			if ts := ev.GetEventTime().AsTime(); ev.GetType() == dwellv1.EventType_EVENT_TYPE_IDLE_STARTED && ts.Sub(at(19, 0, 55)).Abs() <= 2*time.Minute {
				return true
			}
		}
		return false
	}

	t.Run("first day first", func(t *testing.T) {
		e, st := pairEnv(t)
		uploadRefresh(t, e, day1)
		wantStart(t, "the first day", drain(t, e, st, 1))
		uploadRefresh(t, e, day2)
		next := drain(t, e, st, 2)
		wantNone(t, "then the second day", next)
		if !started(next) {
			t.Errorf("the second day does not start the stop at 00:55; the events:%s", describe(next))
		}
		uploadRefresh(t, e, append(append([]*dwellv1.Fix(nil), day1...), day2...))
		if again := drain(t, e, st, 3); len(again) != 0 {
			t.Errorf("a re-upload published%s", describe(again))
		}
	})
	t.Run("both days at once", func(t *testing.T) {
		e, st := pairEnv(t)
		uploadRefresh(t, e, append(append([]*dwellv1.Fix(nil), day1...), day2...))
		evs := drain(t, e, st, 1)
		wantStart(t, "both days", evs)
		if !started(evs) {
			t.Errorf("the second day does not start the stop at 00:55; the events:%s", describe(evs))
		}
		// More data of either day that leaves the stop as it was: nothing
		// more of it.
		more := pairFixes(at(18, 22, 0), at(18, 22, 10), 4000, 4000)
		more = append(more, pairFixes(at(19, 1, 30), at(19, 1, 40), 4000, 4000)...)
		for i := range more {
			more[i].Id = "more-" + more[i].Id
		}
		uploadRefresh(t, e, more)
		wantNone(t, "more data outside the stop", drain(t, e, st, 2))
	})
}
