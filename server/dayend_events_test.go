package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// newDayEndEnv starts a server with c1, c2 (2 km east of c1) and r1 (in
// Jakarta, working hours 08:00 to 18:00 every day) and a partner's
// stream of acme's events.
func newDayEndEnv(t *testing.T) (*env, dwellv1.ReportService_WatchEventsClient) {
	t.Helper()
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateClient(admin, "c1", pairLat, pairLng, 60)
	lat, lng := east(2000)
	e.mustCreateClient(admin, "c2", lat, lng, 60)
	var hours []*dwellv1.WorkingHours
	for d := range 7 {
		hours = append(hours, &dwellv1.WorkingHours{DayOfWeek: int32(d), StartMinute: 8 * 60, EndMinute: 18 * 60})
	}
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "r1", Rep: &dwellv1.Rep{
		DisplayName: "Rep r1", TimeZone: "Asia/Jakarta", WorkingHours: hours}}); err != nil {
		t.Fatalf("CreateRep: %v", err)
	}
	st, _ := openWatch(t, e.report, e.caller(context.Background(), acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	return e, st
}

// TestEventsVisitOpenAtDayEnd: a rep in Jakarta whose working hours end
// at 18:00 is at c1 from 17:15 to the end of its hours on 18 November,
// and begins the 19th at c2, 2 km east, at 08:00. Its visit to c1 is open
// at its day's end (no fix after 18:00 can show it leave); the next day
// shows the rep elsewhere, so the stream has one VISIT_ENDED and one
// GEOFENCE_EXITED of it, at its end as the 18th has it: whether the 18th
// was uploaded and derived before the 19th (the 19th reads what the 18th
// hands on) or after it (the 18th reads the 19th), or both at once, and
// however often either day is derived again.
func TestEventsVisitOpenAtDayEnd(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	// day1: arriving from 2 km west, then at c1 to 17:59:30.
	var day1 []*dwellv1.Fix
	day1 = append(day1, pairFixes(at(18, 17, 0), at(18, 17, 14).Add(30*time.Second), -2000, -30)...)
	day1 = append(day1, pairFixes(at(18, 17, 15), at(18, 17, 59).Add(30*time.Second), 0, 0)...)
	// dayAt is the rep's next day with data, the dth: at c2 from 08:00
	// to 08:40, then on to a stop 4 km east.
	dayAt := func(d int) []*dwellv1.Fix {
		var fs []*dwellv1.Fix
		fs = append(fs, pairFixes(at(d, 8, 0), at(d, 8, 40), 2000, 2000)...)
		fs = append(fs, pairFixes(at(d, 8, 40).Add(30*time.Second), at(d, 8, 55), 2030, 4000)...)
		return append(fs, pairFixes(at(d, 8, 55).Add(30*time.Second), at(d, 9, 15), 4000, 4000)...)
	}
	day2 := dayAt(19)

	// wantEnded checks that evs end c1's visit and fence stay once each,
	// at the end GetRepDay gives the 18th's visit, and start them once.
	wantEnded := func(t *testing.T, e *env, what string, evs []*dwellv1.Event) {
		t.Helper()
		vs := repDayVisits(t, e, pbDate(2026, 11, 18))
		if len(vs) != 1 {
			t.Fatalf("GetRepDay of the 18th shows %d visits at c1, want 1: %v", len(vs), vs)
		}
		end := vs[0].GetEndTime().AsTime()
		if end.Before(at(18, 17, 55)) {
			t.Fatalf("the 18th's visit ends at %v, want at the end of the rep's hours", end.In(jakarta))
		}
		wantPairs(t, what, evs, 1)
		for _, ev := range evs {
			if typ := ev.GetType(); ev.GetClient() == "clients/c1" &&
				(typ == dwellv1.EventType_EVENT_TYPE_VISIT_ENDED || typ == dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED) &&
				!ev.GetEventTime().AsTime().Equal(end) {
				t.Errorf("%s: %v at %v, want at the visit's end, %v", what, typ, ev.GetEventTime().AsTime().In(jakarta), end.In(jakarta))
			}
		}
	}
	// again derives both days again and uploads their fixes again:
	// nothing more at c1.
	again := func(t *testing.T, e *env, st dwellv1.ReportService_WatchEventsClient, n int) {
		t.Helper()
		uploadRefresh(t, e, day1)
		uploadRefresh(t, e, day2)
		if more := drain(t, e, st, n); len(countTypes(more)) != 0 {
			t.Errorf("deriving both days again published at c1:%s", describe(more))
		}
	}

	t.Run("day 1 first", func(t *testing.T) {
		e, st := newDayEndEnv(t)
		uploadRefresh(t, e, day1)
		first := drain(t, e, st, 1)
		if n := countTypes(first)[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED]; n != 0 {
			t.Fatalf("the 18th alone ended the visit:%s", describe(first))
		}
		uploadRefresh(t, e, day2)
		wantEnded(t, e, "then the 19th", append(first, drain(t, e, st, 2)...))
		again(t, e, st, 3)
	})
	t.Run("day 2 first", func(t *testing.T) {
		e, st := newDayEndEnv(t)
		uploadRefresh(t, e, day2)
		first := drain(t, e, st, 1)
		if n := len(countTypes(first)); n != 0 {
			t.Fatalf("the 19th alone told of c1:%s", describe(first))
		}
		uploadRefresh(t, e, day1)
		wantEnded(t, e, "then the 18th", append(first, drain(t, e, st, 2)...))
		again(t, e, st, 3)
	})
	// After two days without data (a weekend: the phone off), the day
	// with data ends the stay too, in either order.
	t.Run("after two days without data", func(t *testing.T) {
		e, st := newDayEndEnv(t)
		uploadRefresh(t, e, day1)
		uploadRefresh(t, e, dayAt(21))
		wantEnded(t, e, "the 18th, then the 21st", drain(t, e, st, 1))
	})
	t.Run("after two days without data, uploaded last", func(t *testing.T) {
		e, st := newDayEndEnv(t)
		uploadRefresh(t, e, dayAt(21))
		uploadRefresh(t, e, day1)
		wantEnded(t, e, "the 21st, then the 18th", drain(t, e, st, 1))
	})
	t.Run("together", func(t *testing.T) {
		e, st := newDayEndEnv(t)
		uploadRefresh(t, e, append(append([]*dwellv1.Fix(nil), day1...), day2...))
		wantEnded(t, e, "both days", drain(t, e, st, 1))
		again(t, e, st, 2)
	})
}

// TestEventsCarriedStayLeftAtDayEnd: r1 (no working hours) is at c1 from
// 23:15 on the 18th to 23:50 on the 19th, observed across midnight (one
// stay carried across it: its parts are seconds apart, within
// timeline.StayGapMax; before that bound this test carried the stay
// across a night between working hours, now two visits), then drives
// west; the 19th ends before it has been gone SettleAfter, so the stay is
// open at the 19th's end, Left. On the 20th it is at c2. The stay is one
// visit: one VISIT_STARTED and one VISIT_ENDED (one GEOFENCE_ENTERED and
// one GEOFENCE_EXITED), the end at 23:50:30 on the 19th, whether the 20th is
// derived after the 19th or in the same pass (the 19th reading the 20th
// and the 20th reading what the 19th hands on must anchor the end at the
// same instant, where the stay began on the 18th; that the in-order end
// is under that anchor too, TestDiffCarriedStayLeftAtDayEnd checks).
func TestEventsCarriedStayLeftAtDayEnd(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	var day18 []*dwellv1.Fix
	day18 = append(day18, pairFixes(at(18, 23, 0), at(18, 23, 14).Add(30*time.Second), -2000, -30)...)
	day18 = append(day18, pairFixes(at(18, 23, 15), at(18, 23, 59).Add(30*time.Second), 0, 0)...)
	var day19 []*dwellv1.Fix
	day19 = append(day19, pairFixesEvery(2*time.Minute, at(19, 0, 0), at(19, 23, 50), 0, 0)...)
	day19 = append(day19, pairFixes(at(19, 23, 50).Add(30*time.Second), at(19, 23, 59).Add(30*time.Second), -30, -2000)...)
	var day20 []*dwellv1.Fix
	day20 = append(day20, pairFixes(at(20, 8, 0), at(20, 8, 40), 2000, 2000)...)
	day20 = append(day20, pairFixes(at(20, 8, 40).Add(30*time.Second), at(20, 8, 55), 2030, 4000)...)
	day20 = append(day20, pairFixes(at(20, 8, 55).Add(30*time.Second), at(20, 9, 15), 4000, 4000)...)

	// stayEnv is pairEnv with c2, 2 km east.
	stayEnv := func(t *testing.T) (*env, dwellv1.ReportService_WatchEventsClient) {
		e, st := pairEnv(t)
		lat, lng := east(2000)
		e.mustCreateClient(e.admin(acme), "c2", lat, lng, 60)
		return e, st
	}
	// check wants one stay at c1 in evs, ended where GetRepDay ends the
	// 19th's visit (about 23:50).
	check := func(t *testing.T, e *env, what string, evs []*dwellv1.Event) {
		t.Helper()
		wantPairs(t, what, evs, 1)
		vs := repDayVisits(t, e, pbDate(2026, 11, 19))
		if len(vs) != 1 {
			t.Fatalf("GetRepDay of the 19th shows %d visits at c1, want 1: %v", len(vs), vs)
		}
		end := vs[0].GetEndTime().AsTime()
		if end.Before(at(19, 23, 49)) || end.After(at(19, 23, 52)) {
			t.Fatalf("the 19th's visit ends at %v, want about 23:50", end.In(jakarta))
		}
		for _, ev := range evs {
			if typ := ev.GetType(); ev.GetClient() == "clients/c1" &&
				(typ == dwellv1.EventType_EVENT_TYPE_VISIT_ENDED || typ == dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED) &&
				!ev.GetEventTime().AsTime().Equal(end) {
				t.Errorf("%s: %v at %v, want at the visit's end, %v", what, typ, ev.GetEventTime().AsTime().In(jakarta), end.In(jakarta))
			}
		}
	}
	both := append(append([]*dwellv1.Fix(nil), day19...), day20...)
	t.Run("in order", func(t *testing.T) {
		e, st := stayEnv(t)
		uploadRefresh(t, e, day18)
		uploadRefresh(t, e, day19)
		uploadRefresh(t, e, day20)
		check(t, e, "in order", drain(t, e, st, 1))
	})
	t.Run("19th and 20th in one pass", func(t *testing.T) {
		e, st := stayEnv(t)
		uploadRefresh(t, e, day18)
		uploadRefresh(t, e, both)
		check(t, e, "one pass", drain(t, e, st, 1))
	})
}

// TestEventsOpenAtDayEndMovedStart: r1 is at c1 from 17:30 to the end of
// its hours on the 18th, and at c2 from 08:00 on the 19th: the 19th ends
// the visit, once. Then an earlier batch of the 18th arrives late: the
// rep came from the west at 17:00 and was at c1 from 17:15. The visit's
// start moved; it is the same visit, whose end was told: nothing new at
// c1 (within a day, a moved start of an ended visit tells nothing new
// either).
func TestEventsOpenAtDayEndMovedStart(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	onTime := pairFixes(at(18, 17, 30), at(18, 17, 59).Add(30*time.Second), 0, 0)
	var late []*dwellv1.Fix
	late = append(late, pairFixes(at(18, 17, 0), at(18, 17, 14).Add(30*time.Second), -2000, -30)...)
	late = append(late, pairFixes(at(18, 17, 15), at(18, 17, 29).Add(30*time.Second), 0, 0)...)
	var day19 []*dwellv1.Fix
	day19 = append(day19, pairFixes(at(19, 8, 0), at(19, 8, 40), 2000, 2000)...)
	day19 = append(day19, pairFixes(at(19, 8, 40).Add(30*time.Second), at(19, 8, 55), 2030, 4000)...)
	day19 = append(day19, pairFixes(at(19, 8, 55).Add(30*time.Second), at(19, 9, 15), 4000, 4000)...)

	e, st := newDayEndEnv(t)
	uploadRefresh(t, e, onTime)
	uploadRefresh(t, e, day19)
	first := drain(t, e, st, 1)
	wantPairs(t, "the 18th, then the 19th", first, 1)
	uploadRefresh(t, e, late)
	if vs := repDayVisits(t, e, pbDate(2026, 11, 18)); len(vs) != 1 || !vs[0].GetStartTime().AsTime().Before(at(18, 17, 16)) {
		t.Fatalf("GetRepDay of the 18th after the late batch: %v, want one visit at c1 from about 17:15", vs)
	}
	if more := drain(t, e, st, 2); len(countTypes(more)) != 0 {
		t.Errorf("the late batch of the 18th published at c1:%s", describe(more))
	}
}

// TestEventsPausedOvernightAtClient: r1 (no working hours) is at c1 and
// pauses tracking there (10 s after its last fix), resumes there the next
// day, and leaves 40 minutes after the resume for a stop 4 km east. Its
// phone's first fix after the resume comes at once, 30 s or 2 min later
// (the day shows the seconds between as a GAP after the PAUSED time).
// Paused overnight (from 18:00 on the 18th to 08:00 on the 19th, the
// rep's night) it made two visits, as GetKpis counts two meetings: the
// parts are 14 hours apart, more than timeline.StayGapMax, so the 18th's
// visit ends at the pause (told once the 19th's data shows the rep's new
// visit) and the 19th's starts at its first fix. (It asserted one visit
// while the live stream carried a stay however long the pause; a partner
// then saw one visit of 15 hours where the KPIs counted two.) Paused for
// a few minutes across midnight (23:50 to 00:05) it is one visit: one
// start (the 18th's) and one end (the 19th's, when the rep leaves), no
// end at the pause and no second start after the resume, and one meeting.
func TestEventsPausedOvernightAtClient(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	for _, tc := range []struct {
		name             string
		arrive, pause    time.Time // at c1 from arrive; last fix at pause, paused 10 s later
		resume           time.Time
		visits, meetings int
	}{
		{"overnight", at(18, 17, 0), at(18, 18, 0), at(19, 8, 0), 2, 2},
		{"across midnight", at(18, 23, 0), at(18, 23, 50), at(19, 0, 5), 1, 1},
	} {
		for _, firstFix := range []time.Duration{0, 30 * time.Second, 2 * time.Minute} {
			t.Run(tc.name+"/"+firstFix.String(), func(t *testing.T) {
				e, st := pairEnv(t)
				var day18 []*dwellv1.Fix
				day18 = append(day18, pairFixes(tc.arrive.Add(-15*time.Minute), tc.arrive.Add(-30*time.Second), -2000, -30)...)
				day18 = append(day18, pairFixes(tc.arrive, tc.pause, 0, 0)...)
				uploadRefresh(t, e, day18)
				e.pause("r1", "p1", tc.pause.Add(10*time.Second))
				e.resume("r1", "r1", tc.resume)
				leave := tc.resume.Add(40 * time.Minute)
				var day19 []*dwellv1.Fix
				day19 = append(day19, pairFixes(tc.resume.Add(firstFix), leave, 0, 0)...)
				day19 = append(day19, pairFixes(leave.Add(30*time.Second), leave.Add(15*time.Minute), 30, 4000)...)
				day19 = append(day19, pairFixes(leave.Add(15*time.Minute+30*time.Second), leave.Add(35*time.Minute), 4000, 4000)...)
				uploadRefresh(t, e, day19)
				evs := drain(t, e, st, 1)
				wantPairs(t, "paused at c1 "+tc.name, evs, tc.visits)

				v18, v19 := repDayVisits(t, e, pbDate(2026, 11, 18)), repDayVisits(t, e, pbDate(2026, 11, 19))
				if len(v18) != 1 || len(v19) != 1 {
					t.Fatalf("GetRepDay: %d visits at c1 on the 18th, %d on the 19th; want 1 each", len(v18), len(v19))
				}
				// The events of each visit told, at its start and end:
				// one from the 18th to the 19th, or one on each day.
				type span struct{ start, end time.Time }
				want := []span{{v18[0].GetStartTime().AsTime(), v19[0].GetEndTime().AsTime()}}
				if tc.visits == 2 {
					want = []span{{v18[0].GetStartTime().AsTime(), v18[0].GetEndTime().AsTime()},
						{v19[0].GetStartTime().AsTime(), v19[0].GetEndTime().AsTime()}}
				}
				for _, ev := range evs {
					if ev.GetClient() != "clients/c1" {
						continue
					}
					ended := ev.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_ENDED || ev.GetType() == dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED
					ok := false
					for _, w := range want {
						ok = ok || !ended && ev.GetEventTime().AsTime().Equal(w.start) || ended && ev.GetEventTime().AsTime().Equal(w.end)
					}
					if !ok {
						t.Errorf("%v at %v, want at the start or end of the visits %v", ev.GetType(),
							ev.GetEventTime().AsTime().In(jakarta), want)
					}
				}
				// The KPIs count as many meetings (package kpi).
				k, err := e.report.GetKpis(e.admin(acme), &dwellv1.GetKpisRequest{Rep: "reps/r1", StartDate: pbDate(2026, 11, 18), EndDate: pbDate(2026, 11, 19)})
				if err != nil {
					t.Fatalf("GetKpis: %v", err)
				}
				if n := k.GetVisitTime().GetBasis().GetRecords(); n != int32(tc.meetings) {
					t.Errorf("GetKpis: KPI 2 counts %d visits, want %d", n, tc.meetings)
				}
			})
		}
	}
}

// TestEventsFirstVisitPartedByLateFixes: r1 (no working hours) comes to
// c1 at 23:40 on the 18th and is there to 23:59:30; the 19th's first
// fixes uploaded show it at c1 from 00:10: one stay across midnight (its
// parts ten minutes apart, within timeline.StayGapMax), told of by the
// 18th's VISIT_STARTED alone. Then fixes of the 19th's first ten minutes
// arrive late: the rep walked 700 m away and came back, so the 19th's
// visit, reached by travel, is a visit of its own. The stream tells the
// 18th's stay ended (at its end as the 18th has it) and the visit's
// start, at its start, once; when the rep leaves at 00:40, the visit's
// end, which pairs with that start (before the fix, the stream ended a
// visit it never started). Deriving the days again tells nothing more.
func TestEventsFirstVisitPartedByLateFixes(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	var day18 []*dwellv1.Fix
	day18 = append(day18, pairFixes(at(18, 23, 25), at(18, 23, 39).Add(30*time.Second), -2000, -30)...)
	day18 = append(day18, pairFixes(at(18, 23, 40), at(18, 23, 59).Add(30*time.Second), 0, 0)...)
	onTime := pairFixes(at(19, 0, 10), at(19, 0, 40), 0, 0)
	var walk []*dwellv1.Fix
	walk = append(walk, pairFixes(at(19, 0, 0), at(19, 0, 5), 30, 700)...)
	walk = append(walk, pairFixes(at(19, 0, 5).Add(30*time.Second), at(19, 0, 9).Add(30*time.Second), 700, 30)...)
	var leave []*dwellv1.Fix
	leave = append(leave, pairFixes(at(19, 0, 40).Add(30*time.Second), at(19, 0, 55), 30, 2000)...)
	leave = append(leave, pairFixes(at(19, 0, 55).Add(30*time.Second), at(19, 1, 15), 2000, 2000)...)

	e, st := pairEnv(t)
	uploadRefresh(t, e, day18)
	uploadRefresh(t, e, onTime)
	told := drain(t, e, st, 1)
	if got := countTypes(told); got[dwellv1.EventType_EVENT_TYPE_VISIT_STARTED] != 1 || got[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED] != 0 {
		t.Fatalf("the 18th, then the 19th carrying the stay on: want one VISIT_STARTED at c1 and no end; the events:%s", describe(told))
	}

	uploadRefresh(t, e, walk)
	v19 := repDayVisits(t, e, pbDate(2026, 11, 19))
	if len(v19) != 1 || v19[0].GetStartTime().AsTime().Before(at(19, 0, 8)) {
		t.Fatalf("GetRepDay of the 19th after the late fixes: %v, want one visit at c1 from about 00:10", v19)
	}
	start := v19[0].GetStartTime().AsTime()
	parted := drain(t, e, st, 2)
	var starts []*dwellv1.Event
	for _, ev := range parted {
		if ev.GetClient() == "clients/c1" && ev.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED {
			starts = append(starts, ev)
		}
	}
	if len(starts) != 1 || !starts[0].GetEventTime().AsTime().Equal(start) {
		t.Fatalf("the late fixes: want one VISIT_STARTED at c1 at the 19th's visit's start, %v; the events:%s",
			start.In(jakarta), describe(parted))
	}
	if got := countTypes(parted); got[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED] != 1 {
		t.Errorf("the late fixes: want the 18th's stay ended; the events:%s", describe(parted))
	}

	uploadRefresh(t, e, leave)
	left := drain(t, e, st, 3)
	all := append(append(append([]*dwellv1.Event(nil), told...), parted...), left...)
	wantPairs(t, "the stay, then the visit parted from it", all, 2)
	wantAlternate(t, "the stay, then the visit parted from it", all)
	v19 = repDayVisits(t, e, pbDate(2026, 11, 19))
	if len(v19) != 1 {
		t.Fatalf("GetRepDay of the 19th after the departure: %d visits at c1, want 1", len(v19))
	}
	var ends []*dwellv1.Event
	for _, ev := range left {
		if ev.GetClient() == "clients/c1" && ev.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_ENDED {
			ends = append(ends, ev)
		}
	}
	if len(ends) != 1 || !ends[0].GetEventTime().AsTime().Equal(v19[0].GetEndTime().AsTime()) {
		t.Errorf("the departure: want one VISIT_ENDED at c1 at the visit's end, %v; the events:%s",
			v19[0].GetEndTime().AsTime().In(jakarta), describe(left))
	}

	uploadRefresh(t, e, day18)
	uploadRefresh(t, e, append(append(onTime, walk...), leave...))
	if more := drain(t, e, st, 4); len(countTypes(more)) != 0 {
		t.Errorf("deriving both days again published at c1:%s", describe(more))
	}
}

// TestEventsFirstVisitPartedByDayBefore: as
// TestEventsFirstVisitPartedByLateFixes, but the late fixes are the
// 18th's: r1 was at c1 from 23:40 to 23:50 and at c1 again from 00:10 on
// the 19th (one stay, its parts 20 minutes apart); the 18th's last ten
// minutes, uploaded late, show it walking 700 m away. The 18th's stay
// ends at 23:50 and the 19th's visit, no longer its continuation, starts
// on its own, once; its end pairs with that start.
func TestEventsFirstVisitPartedByDayBefore(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, jakarta) }
	var day18 []*dwellv1.Fix
	day18 = append(day18, pairFixes(at(18, 23, 25), at(18, 23, 39).Add(30*time.Second), -2000, -30)...)
	day18 = append(day18, pairFixes(at(18, 23, 40), at(18, 23, 50), 0, 0)...)
	walk := pairFixes(at(18, 23, 50).Add(30*time.Second), at(18, 23, 59).Add(30*time.Second), 30, 700)
	day19 := pairFixes(at(19, 0, 10), at(19, 0, 40), 0, 0)
	var leave []*dwellv1.Fix
	leave = append(leave, pairFixes(at(19, 0, 40).Add(30*time.Second), at(19, 0, 55), 30, 2000)...)
	leave = append(leave, pairFixes(at(19, 0, 55).Add(30*time.Second), at(19, 1, 15), 2000, 2000)...)

	e, st := pairEnv(t)
	uploadRefresh(t, e, day18)
	uploadRefresh(t, e, day19)
	told := drain(t, e, st, 1)
	if got := countTypes(told); got[dwellv1.EventType_EVENT_TYPE_VISIT_STARTED] != 1 || got[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED] != 0 {
		t.Fatalf("the 18th, then the 19th carrying the stay on: want one VISIT_STARTED at c1 and no end; the events:%s", describe(told))
	}
	uploadRefresh(t, e, walk)
	parted := drain(t, e, st, 2)
	v19 := repDayVisits(t, e, pbDate(2026, 11, 19))
	if len(v19) != 1 {
		t.Fatalf("GetRepDay of the 19th: %d visits at c1, want 1", len(v19))
	}
	var starts []*dwellv1.Event
	for _, ev := range parted {
		if ev.GetClient() == "clients/c1" && ev.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED {
			starts = append(starts, ev)
		}
	}
	if start := v19[0].GetStartTime().AsTime(); len(starts) != 1 || !starts[0].GetEventTime().AsTime().Equal(start) {
		t.Fatalf("the 18th's late fixes: want one VISIT_STARTED at c1 at the 19th's visit's start, %v; the events:%s",
			start.In(jakarta), describe(parted))
	}
	uploadRefresh(t, e, leave)
	all := append(append(told, parted...), drain(t, e, st, 3)...)
	wantPairs(t, "the stay, then the visit parted from it", all, 2)
	wantAlternate(t, "the stay, then the visit parted from it", all)
	uploadRefresh(t, e, append(day18, walk...))
	uploadRefresh(t, e, append(day19, leave...))
	if more := drain(t, e, st, 4); len(countTypes(more)) != 0 {
		t.Errorf("deriving both days again published at c1:%s", describe(more))
	}
}

// wantAlternate checks that evs, in stream order, start and end visits
// (enter and exit fences) at c1 in turn, starting with a start: a partner
// pairs a visit's events by their order at the client.
func wantAlternate(t *testing.T, what string, evs []*dwellv1.Event) {
	t.Helper()
	for _, kind := range [][2]dwellv1.EventType{
		{dwellv1.EventType_EVENT_TYPE_VISIT_STARTED, dwellv1.EventType_EVENT_TYPE_VISIT_ENDED},
		{dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED, dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED},
	} {
		open := false
		for _, ev := range evs {
			if ev.GetClient() != "clients/c1" || ev.GetType() != kind[0] && ev.GetType() != kind[1] {
				continue
			}
			if open != (ev.GetType() == kind[1]) {
				t.Errorf("%s: %v at %v does not pair with the events before it; the events:%s", what, ev.GetType(),
					ev.GetEventTime().AsTime().In(jakarta), describe(evs))
				break
			}
			open = !open
		}
	}
}
