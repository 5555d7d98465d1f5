package server_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestOpenPauseReadFromSummary: a report over the day that holds the
// present, for a rep paused now, reads the day's current summary with its
// open pause ended at the present (kpi.Day.PausedUntil) rather than
// deriving the day (liveDay). For reps paused at a client, while
// travelling, with a check-in left open, before their working hours end,
// across a split shift's break and across their midnight, at instants from
// the pause's present to minutes and hours later (past the working hours,
// into the next day), the day read so equals the report's inline
// derivation, summary and segments byte for byte, and so do the answers of
// GetTimeBreakdown, GetKpis, ListVisits, GetRepDay and ListRepStatuses
// with and without that reading (server.DeriveOpenPauses).
func TestOpenPauseReadFromSummary(t *testing.T) {
	type scenario struct {
		name string
		zone string
		// hours are the rep's working hours every day, [start, end) in
		// minutes; none: the whole day.
		hours [][2]int32
		// setup uploads the rep's data; now is the clock (10:00 UTC).
		setup func(e *env, rep string, now time.Time)
		// at are the instants a report is made at, from now; served says
		// whether the summary is read then, not derived.
		at     []time.Duration
		served []bool
		// visits is how many visits the day has.
		visits int
	}
	upload := func(e *env, rep string, fs []*dwellv1.Fix) {
		e.t.Helper()
		if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, rep), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
			e.t.Fatalf("UploadPings: %v", err)
		}
	}
	checkIn := func(e *env, rep, id string, at time.Time) {
		e.t.Helper()
		if _, err := e.ingest.CheckIn(e.as(acme, dwell.RoleRep, rep), &dwellv1.CheckInRequest{RequestId: id, Client: "clients/c1", CheckInTime: timestamppb.New(at)}); err != nil {
			e.t.Fatalf("CheckIn: %v", err)
		}
	}
	hour := func(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
	// Minutes and hours on, with odd milliseconds (paused seconds are
	// whole seconds per segment), to 23:59 UTC and into the next day.
	later := []time.Duration{0, 7*time.Minute + 300*time.Millisecond, hour(2) + 999*time.Millisecond, hour(13.99), hour(14.5)}
	scenarios := []scenario{
		{name: "at a client", zone: "UTC", setup: func(e *env, rep string, now time.Time) {
			upload(e, rep, pairFixes(now.Add(-3*time.Hour), now.Add(-150*time.Minute), 3000, 0))
			upload(e, rep, pairFixes(now.Add(-150*time.Minute+30*time.Second), now.Add(-time.Hour-20*time.Second), 0, 5))
			e.pause(rep, "p", now.Add(-time.Hour))
		}, at: later, served: []bool{true, true, true, true, true}, visits: 1},
		{name: "travelling", zone: "UTC", setup: func(e *env, rep string, now time.Time) {
			upload(e, rep, pairFixes(now.Add(-2*time.Hour), now.Add(-30*time.Minute-10*time.Second), 0, 20000))
			e.pause(rep, "p", now.Add(-30*time.Minute))
		}, at: later, served: []bool{true, true, true, true, true}},
		{name: "a check-in left open", zone: "UTC", setup: func(e *env, rep string, now time.Time) {
			upload(e, rep, pairFixes(now.Add(-2*time.Hour), now.Add(-time.Hour), 5, 0))
			checkIn(e, rep, "ci", now.Add(-110*time.Minute))
			e.pause(rep, "p", now.Add(-time.Hour+time.Second))
			// A check-in while paused, at the client the rep paused at.
			checkIn(e, rep, "ci2", now.Add(-20*time.Minute))
		}, at: later, served: []bool{true, true, true, true, true}, visits: 1},
		{name: "then the working hours end", zone: "UTC", hours: [][2]int32{{6 * 60, 12 * 60}}, setup: func(e *env, rep string, now time.Time) {
			upload(e, rep, pairFixes(now.Add(-3*time.Hour), now.Add(-time.Hour-30*time.Second), 0, 2000))
			e.pause(rep, "p", now.Add(-time.Hour))
		}, at: []time.Duration{0, hour(1.5), hour(2) - 500*time.Millisecond, hour(2), hour(5), hour(14.5)},
			served: []bool{true, true, true, true, true, true}},
		{name: "across a split shift's break", zone: "UTC", hours: [][2]int32{{6 * 60, 9*60 + 30}, {10*60 + 30, 16 * 60}}, setup: func(e *env, rep string, now time.Time) {
			upload(e, rep, pairFixes(now.Add(-4*time.Hour), now.Add(-3*time.Hour-30*time.Second), 0, 2000))
			e.pause(rep, "p", now.Add(-3*time.Hour))
		}, // 10:00 is in the break, 10:30 the afternoon's start: derived.
			at:     []time.Duration{0, 30 * time.Minute, 30*time.Minute + time.Millisecond, hour(1), hour(6), hour(7)},
			served: []bool{false, false, true, true, true, true}},
		{name: "across the rep's midnight", zone: "Asia/Jakarta", setup: func(e *env, rep string, now time.Time) {
			// 17:00 in Jakarta: the rep paused at 23:00 last night after
			// an evening's fixes, and logged a call today, so today has
			// data and a summary: paused from its midnight.
			upload(e, rep, pairFixes(now.Add(-21*time.Hour), now.Add(-18*time.Hour-30*time.Second), 0, 4000))
			e.pause(rep, "p", now.Add(-18*time.Hour))
			if _, err := e.ingest.LogCall(e.as(acme, dwell.RoleRep, rep), &dwellv1.LogCallRequest{RequestId: "call", Client: "clients/c1",
				StartTime: timestamppb.New(now.Add(-7 * time.Hour)), TalkSeconds: 60, Direction: dwellv1.CallDirection_CALL_DIRECTION_OUTBOUND, Outcome: dwellv1.CallOutcome_CALL_OUTCOME_CONNECTED}); err != nil {
				e.t.Fatalf("LogCall: %v", err)
			}
		}, at: []time.Duration{0, 7*time.Minute + 300*time.Millisecond, hour(6.99), hour(7), hour(8)},
			served: []bool{true, true, true, true, true}},
	}
	for _, c := range scenarios {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t) // 10:00 UTC, 20 November 2026
			admin := e.admin(acme)
			e.mustCreateClient(admin, "c1", pairLat, pairLng, 60)
			e.mustCreateTeam(admin, "t", "boss")
			var hours []*dwellv1.WorkingHours
			for d := range 7 {
				for _, h := range c.hours {
					hours = append(hours, &dwellv1.WorkingHours{DayOfWeek: int32(d), StartMinute: h[0], EndMinute: h[1]})
				}
			}
			if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{
				DisplayName: "Rep ida", TimeZone: c.zone, Team: "teams/t", WorkingHours: hours}}); err != nil {
				t.Fatalf("CreateRep: %v", err)
			}
			start := e.now()
			c.setup(e, "ida", start)
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			today := dwell.DateOf(start, loc)
			vs, err := e.report.ListVisits(e.as(acme, dwell.RoleManager, "boss"), &dwellv1.ListVisitsRequest{Team: "teams/t",
				StartDate: pbDate(today.Year, int(today.Month), today.Day), EndDate: pbDate(today.Year, int(today.Month), today.Day)})
			if err != nil || len(vs.GetVisits()) != c.visits {
				t.Fatalf("ListVisits: %d visits (%v), want %d", len(vs.GetVisits()), err, c.visits)
			}
			for k, at := range c.at {
				e.advance(start.Add(at).Sub(e.now()))
				now := e.now()
				what := fmt.Sprintf("at %v", now.In(loc).Format("2006-01-02 15:04:05.000 MST"))
				stored, derived, served, open, err := server.LiveDayBothWays(t.Context(), e.srv, acme, "ida", today)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if !open {
					t.Fatalf("%s: the stored summary of %v has no open pause", what, today)
				}
				if served != c.served[k] {
					t.Errorf("%s: the summary served: %v, want %v", what, served, c.served[k])
				}
				if served && !bytes.Equal(stored, derived) {
					t.Errorf("%s: the day read from its summary differs from its derivation:\n%q\n%q", what, stored, derived)
				}
				server.DeriveOpenPauses(e.srv, false)
				read := openPauseAnswers(t, e, today)
				server.DeriveOpenPauses(e.srv, true)
				want := openPauseAnswers(t, e, today)
				server.DeriveOpenPauses(e.srv, false)
				for i := range want {
					if !bytes.Equal(read[i], want[i]) {
						t.Errorf("%s: answer %d read from the summary differs from the derived one", what, i)
					}
				}
			}
		})
	}
}

// openPauseAnswers returns the reports over the rep ida's (team t's) day
// date, each deterministically encoded: the time breakdowns by rep and by
// day, the rep's and the team's KPIs, the visits, the rep's day and the
// rep's status now.
func openPauseAnswers(t *testing.T, e *env, date dwell.Date) [][]byte {
	t.Helper()
	admin, boss := e.admin(acme), e.as(acme, dwell.RoleManager, "boss")
	d := pbDate(date.Year, int(date.Month), date.Day)
	var out [][]byte
	add := func(m proto.Message, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	add(e.report.GetTimeBreakdown(boss, &dwellv1.GetTimeBreakdownRequest{Team: "teams/t", StartDate: d, EndDate: d}))
	add(e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: d, EndDate: d, Grouping: dwellv1.Grouping_GROUPING_DAY}))
	add(e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: d, EndDate: d}))
	add(e.report.GetKpis(boss, &dwellv1.GetKpisRequest{Team: "teams/t", StartDate: d, EndDate: d}))
	add(e.report.ListVisits(boss, &dwellv1.ListVisitsRequest{Team: "teams/t", StartDate: d, EndDate: d}))
	add(e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d}))
	add(e.report.ListRepStatuses(boss, &dwellv1.ListRepStatusesRequest{Team: "teams/t"}))
	return out
}
