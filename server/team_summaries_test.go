package server_test

import (
	"context"
	"testing"
	"time"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// oldTeamDay makes team t1 of reps rep-10 and rep-9 (in id order, which is
// not their store keys' order: a key begins with the id's length), each
// with an hour at a site on 20 November 2026, derived and stored; then,
// 40 days later, a visit minimum of two hours, which re-derives only the
// last 35 days: the old day's stored summaries keep the visits.
func oldTeamDay(t *testing.T) *env {
	e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e.start()
	t.Cleanup(e.stop)
	ctx := context.Background()
	admin := e.admin(acme)
	e.mustCreateClient(admin, "site", feedLat, feedLng, 60)
	e.mustCreateTeam(admin, "t1", "boss")
	for _, r := range []string{"rep-10", "rep-9"} {
		e.mustCreateRep(admin, r, "t1")
		stayDayOf(t, e, r)
	}
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	e.advance(40 * 24 * time.Hour)
	admin = e.admin(acme)
	if _, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{VisitMinSeconds: 7200}, UpdateMask: mask("visit_min_seconds")}); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return e
}

// TestTeamVisitsUseStoredSummaries: a team's visits of an old day are the
// ones its reps' stored summaries hold, for every rep of the team, as each
// rep's own listing gives them.
func TestTeamVisitsUseStoredSummaries(t *testing.T) {
	e := oldTeamDay(t)
	admin := e.admin(acme)
	count := func(req *dwellv1.ListVisitsRequest) map[string]int {
		resp, err := e.report.ListVisits(admin, req)
		if err != nil {
			t.Fatalf("ListVisits: %v", err)
		}
		n := map[string]int{}
		for _, v := range resp.GetVisits() {
			n[v.GetRep()]++
		}
		return n
	}
	d := pbDate(2026, 11, 20)
	team := count(&dwellv1.ListVisitsRequest{Team: "teams/t1", StartDate: d, EndDate: d})
	for _, r := range []string{"reps/rep-10", "reps/rep-9"} {
		alone := count(&dwellv1.ListVisitsRequest{Rep: r, StartDate: d, EndDate: d})
		if team[r] != 1 || alone[r] != 1 {
			t.Errorf("%s: the team's listing has %d visits, the rep's own %d; want the stored 1", r, team[r], alone[r])
		}
	}
}

// TestTeamBreakdownUsesStoredSummaries: the same for a team's time
// breakdown read by a freshly started server (its cache of days empty).
func TestTeamBreakdownUsesStoredSummaries(t *testing.T) {
	e := oldTeamDay(t)
	e.restart()
	admin := e.admin(acme)
	d := pbDate(2026, 11, 20)
	visit := func(req *dwellv1.GetTimeBreakdownRequest) map[string]int64 {
		resp, err := e.report.GetTimeBreakdown(admin, req)
		if err != nil {
			t.Fatalf("GetTimeBreakdown: %v", err)
		}
		out := map[string]int64{}
		for _, r := range resp.GetRows() {
			out[r.GetRep()] += r.GetTotals().GetVisitProspectSeconds() + r.GetTotals().GetVisitCustomerSeconds()
		}
		return out
	}
	team := visit(&dwellv1.GetTimeBreakdownRequest{Team: "teams/t1", StartDate: d, EndDate: d})
	for _, r := range []string{"reps/rep-10", "reps/rep-9"} {
		alone := visit(&dwellv1.GetTimeBreakdownRequest{Reps: []string{r}, StartDate: d, EndDate: d})
		if team[r] != alone[r] || team[r] < 3600 {
			t.Errorf("%s: visit seconds in the team's breakdown %d, in its own %d; want the stored hour", r, team[r], alone[r])
		}
	}
}
