package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// BenchmarkListRepStatuses measures "who is idle now" for a team of 50
// reps, each with today's fixes so far (BenchmarkGetRepDay's day moved to
// the test clock's day and cut at its 17:00: 2,040 fixes a rep), over
// loopback gRPC against a real bbolt file. Beside it, in the same run: the
// derivation of one rep's day alone, GetRepDay of that day, and the team's
// breakdown of today from the stored summaries; then ListRepStatuses of one
// rep and of the team twice: with every summary current (the answers come
// from them) and with every summary stale (refresher stopped, one more fix
// a rep: 50 derivations over GOMAXPROCS cores).
//
//	go test -run '^$' -bench BenchmarkListRepStatuses ./server/
func BenchmarkListRepStatuses(b *testing.B) {
	const team = 50
	e := newEnvSync(b, false) // the benchmark reads; fsync only slows its setup
	city, err := sim.NewCity(7, sim.CityConfig{})
	if err != nil {
		b.Fatal(err)
	}
	admin := e.admin(acme)
	importCity(b, e, admin, city)
	e.mustCreateTeam(admin, "bench", "mgr")
	var today []dwell.Fix
	for _, f := range benchDayFixes(city) {
		f.Time = f.Time.Add(24 * time.Hour)
		if f.Time.Before(e.now()) {
			today = append(today, f)
		}
	}
	for i := range team {
		id := fmt.Sprintf("bench-%02d", i)
		e.mustCreateRep(admin, id, "bench")
		e.upload(b, e.as(acme, dwell.RoleRep, id), today)
	}
	// Summaries stored, so the refresher does not derive beside the
	// measurements (and the summaries baseline reads current ones).
	if err := e.srv.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	ix, clients := localFences(b, city.Clients())
	in := timeline.Input{Day: dwell.DateOf(e.now(), jakarta), Loc: jakarta, Fixes: today, Fences: ix, Clients: clients, Settings: dwell.DefaultSettings()}
	want := timeline.Derive(in)
	last := want.Segments[len(want.Segments)-1]
	mgr := e.as(acme, dwell.RoleManager, "mgr")
	check := func(b *testing.B, resp *dwellv1.ListRepStatusesResponse, n int) {
		if len(resp.GetRepStatuses()) != n {
			b.Fatalf("ListRepStatuses: %d statuses, want %d", len(resp.GetRepStatuses()), n)
		}
		for _, s := range resp.GetRepStatuses() {
			if s.GetKind().String() != "SEGMENT_KIND_"+last.Kind.String() || !s.GetSinceTime().AsTime().Equal(last.Start) {
				b.Fatalf("%s: %v since %v, want %v since %v", s.GetRep(), s.GetKind(), s.GetSinceTime().AsTime(), last.Kind, last.Start)
			}
		}
	}

	b.Logf("%d reps × %d fixes today; each rep's now: %v since %v", team, len(today), last.Kind, last.Start)
	b.Run("derive-only-1", func(b *testing.B) {
		for b.Loop() {
			timeline.Derive(in)
		}
	})
	b.Run("GetRepDay-1", func(b *testing.B) {
		req := &dwellv1.GetRepDayRequest{Rep: "reps/bench-00", Date: dateToPBTest(in.Day)}
		for b.Loop() {
			resp, err := e.report.GetRepDay(mgr, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(resp.GetSegments()) != len(want.Segments) {
				b.Fatalf("GetRepDay: %d segments, want %d", len(resp.GetSegments()), len(want.Segments))
			}
		}
	})
	// The team's breakdown of today, read from the same (current, cached)
	// summaries: the floor of any answer built on them.
	b.Run("breakdown-team-50", func(b *testing.B) {
		req := &dwellv1.GetTimeBreakdownRequest{Team: "teams/bench", StartDate: dateToPBTest(in.Day), EndDate: dateToPBTest(in.Day)}
		for b.Loop() {
			resp, err := e.report.GetTimeBreakdown(mgr, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(resp.GetRows()) != team {
				b.Fatalf("GetTimeBreakdown: %d rows, want %d", len(resp.GetRows()), team)
			}
		}
	})
	statuses := func(name string, req *dwellv1.ListRepStatusesRequest, n int) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				resp, err := e.report.ListRepStatuses(mgr, req)
				if err != nil {
					b.Fatal(err)
				}
				check(b, resp, n)
			}
		})
	}
	one := &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/bench-00"}}
	all := &dwellv1.ListRepStatusesRequest{Team: "teams/bench"}
	// Every summary is current: the statuses come from them.
	if _, ok, _, err := server.RepStatusBothWays(b.Context(), e.srv, acme, "bench-00", e.now()); err != nil || !ok {
		b.Fatalf("bench-00 with its summary current: answered from it %v, %v; want true", ok, err)
	}
	statuses("status-1-summary", one, 1)
	statuses("status-team-50-summaries", all, team)
	// The refresher stopped, one more fix a rep (where it stood 15 s
	// before) leaves every summary stale: the statuses derive every day.
	e.srv.Close()
	for i := range team {
		f := today[len(today)-1]
		f.ID, f.Time = "late", f.Time.Add(15*time.Second)
		e.upload(b, e.as(acme, dwell.RoleRep, fmt.Sprintf("bench-%02d", i)), []dwell.Fix{f})
	}
	if _, ok, _, err := server.RepStatusBothWays(b.Context(), e.srv, acme, "bench-00", e.now()); err != nil || ok {
		b.Fatalf("bench-00 with its summary stale: answered from it %v, %v; want false", ok, err)
	}
	statuses("status-1-derived", one, 1)
	statuses("status-team-50-derived", all, team)
}

func dateToPBTest(d dwell.Date) *dwellv1.Date {
	return &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}
