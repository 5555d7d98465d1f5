package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// pausedByDay returns the paused seconds GetRepDay shows for each day of
// rep from..to (UTC dates) and their sum.
func (e *env) pausedByDay(rep string, from, to time.Time) (map[dwell.Date]int64, int64) {
	e.t.Helper()
	admin := e.admin(acme)
	by := map[dwell.Date]int64{}
	var sum int64
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/" + rep, Date: pbDate(d.Year(), int(d.Month()), d.Day())})
		if err != nil {
			e.t.Fatalf("GetRepDay(%v): %v", d, err)
		}
		if p := rd.GetTotals().GetPausedSeconds(); p != 0 {
			by[dwell.DateOf(d, time.UTC)] = p
			sum += p
		}
	}
	return by, sum
}

// checkPausedDays checks that GetTimeBreakdown (by day and by rep, for
// the rep named and for its team) and GetKpis over from..to count the
// paused seconds GetRepDay shows, day by day, and want in all, with no
// field day and no idle time.
func (e *env) checkPausedDays(stage string, from, to time.Time, want int64, wantDays int) {
	e.t.Helper()
	t := e.t
	byDay, sum := e.pausedByDay("ida", from, to)
	if sum != want || len(byDay) != wantDays {
		t.Errorf("%s: GetRepDay shows %d s paused on %d days, want %d s on %d", stage, sum, len(byDay), want, wantDays)
	}
	admin, boss := e.admin(acme), e.as(acme, dwell.RoleManager, "boss")
	start, end := pbDate(from.Year(), int(from.Month()), from.Day()), pbDate(to.Year(), int(to.Month()), to.Day())
	for _, q := range []struct {
		who string
		ctx context.Context
		req *dwellv1.GetTimeBreakdownRequest
	}{
		{"rep by day", admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: start, EndDate: end, Grouping: dwellv1.Grouping_GROUPING_DAY}},
		{"team by day", boss, &dwellv1.GetTimeBreakdownRequest{Team: "teams/t", StartDate: start, EndDate: end, Grouping: dwellv1.Grouping_GROUPING_DAY}},
		{"rep by rep", admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: start, EndDate: end, Grouping: dwellv1.Grouping_GROUPING_REP}},
		{"team by rep", boss, &dwellv1.GetTimeBreakdownRequest{Team: "teams/t", StartDate: start, EndDate: end}},
	} {
		b, err := e.report.GetTimeBreakdown(q.ctx, q.req)
		if err != nil {
			t.Fatalf("%s: GetTimeBreakdown %s: %v", stage, q.who, err)
		}
		if got := b.GetTotal().GetPausedSeconds(); got != sum {
			t.Errorf("%s: GetTimeBreakdown %s: %d s paused, GetRepDay %d s", stage, q.who, got, sum)
		}
		if got := b.GetTotal().GetIdleSeconds(); got != 0 {
			t.Errorf("%s: GetTimeBreakdown %s: %d s idle, want none (paused is never idle)", stage, q.who, got)
		}
		var fieldDays int32
		for _, row := range b.GetRows() {
			fieldDays += row.GetFieldDays()
		}
		if fieldDays != 0 {
			t.Errorf("%s: GetTimeBreakdown %s: %d field days, want none", stage, q.who, fieldDays)
		}
		if q.req.Grouping != dwellv1.Grouping_GROUPING_DAY {
			continue
		}
		rows := map[dwell.Date]int64{}
		for _, row := range b.GetRows() {
			d := row.GetDate()
			rows[dwell.Date{Year: int(d.GetYear()), Month: time.Month(d.GetMonth()), Day: int(d.GetDay())}] = row.GetTotals().GetPausedSeconds()
		}
		if len(rows) != len(byDay) {
			t.Errorf("%s: GetTimeBreakdown %s: %d rows, GetRepDay %d paused days", stage, q.who, len(rows), len(byDay))
		}
		for d, p := range byDay {
			if rows[d] != p {
				t.Errorf("%s: GetTimeBreakdown %s: %v paused %d s, GetRepDay %d s", stage, q.who, d, rows[d], p)
			}
		}
	}
	for _, q := range []*dwellv1.GetKpisRequest{{Rep: "reps/ida", StartDate: start, EndDate: end}, {Team: "teams/t", StartDate: start, EndDate: end}} {
		k, err := e.report.GetKpis(boss, q)
		if err != nil {
			t.Fatalf("%s: GetKpis: %v", stage, err)
		}
		if k.GetIdle().GetIdleSeconds() != 0 || k.GetIdle().GetBasis().GetDays() != 0 {
			t.Errorf("%s: GetKpis %v: %d s idle over %d field days, want none (paused is never idle, nor a field day)",
				stage, q, k.GetIdle().GetIdleSeconds(), k.GetIdle().GetBasis().GetDays())
		}
	}
}

// createPausingIda creates ida, a UTC rep in team t that boss manages.
func createPausingIda(e *env) {
	e.t.Helper()
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "t", "boss")
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC", Team: "teams/t"}}); err != nil {
		e.t.Fatalf("CreateRep: %v", err)
	}
}

// TestOpenPauseDaysWithoutData: a rep pauses at 20:00 on 17 November 2026
// and has not resumed at 10:00 on the 20th. The 18th to the 20th hold no
// data (the store gives them no data version), yet GetRepDay shows them
// paused, the 20th until now: GetTimeBreakdown (by day and by rep, of the
// rep and of its team) and GetKpis count them too, as paused time and no
// field day. Once the rep resumes at 09:00 on the 20th, the days are
// marked and summarised, and all agree again.
func TestOpenPauseDaysWithoutData(t *testing.T) {
	e := newEnv(t) // 2026-11-20 10:00 UTC
	createPausingIda(e)
	e.pause("ida", "p1", time.Date(2026, 11, 17, 20, 0, 0, 0, time.UTC))
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	e.checkPausedDays("open", from, to, 4*3600+2*86400+10*3600, 4)
	// A range that begins after the pause's day, none of whose days has data.
	e.checkPausedDays("open, after the pause's day", from.AddDate(0, 0, 1), to, 2*86400+10*3600, 3)
	// Days not begun yet are empty.
	e.checkPausedDays("open, into the future", from, to.AddDate(0, 0, 3), 4*3600+2*86400+10*3600, 4)
	e.resume("ida", "r1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	e.checkPausedDays("resumed, before the refresher", from, to, 4*3600+2*86400+9*3600, 4)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.checkPausedDays("resumed", from, to, 4*3600+2*86400+9*3600, 4)
}

// TestLongPauseDaysWithoutData: a pause of 40 days, longer than the 31
// days a resume marks back to it. The days between hold no data; before
// and after the resume, GetTimeBreakdown and GetKpis count every day
// GetRepDay shows paused, those more than 31 days before the resume (the
// store never marks them, and the older ones are settled: GetRepDay
// derives them from the pauses alone) included.
func TestLongPauseDaysWithoutData(t *testing.T) {
	e := newEnv(t) // 2026-11-20 10:00 UTC
	createPausingIda(e)
	pausedAt := e.now().AddDate(0, 0, -40).Add(10 * time.Hour) // 2026-10-11 20:00
	e.pause("ida", "p1", pausedAt)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	want := int64(e.now().Sub(pausedAt) / time.Second)
	e.checkPausedDays("open", from, to, want, 41)
	e.advance(time.Hour)
	e.resume("ida", "r1", e.now())
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.checkPausedDays("resumed", from, to, want+3600, 41)
}
