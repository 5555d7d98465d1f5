package server_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// BenchmarkTodayWithPauses measures GetTimeBreakdown over today for a team
// of 100 reps, each with 4 hours of fixes today, their summaries derived
// and current, over loopback gRPC against a real bbolt file. The baseline
// team (plain) never paused; in the other (resumed) each rep paused for
// half an hour and resumed, as at lunch: the stored summaries of both are
// current, so the report should cost the same. In the third (open) each
// rep has been paused since 14:00 and has sent nothing since: its summary
// holds the pause to the day's end, and the report reads it with the pause
// ending at the present (liveDay), so it should cost about the same too;
// it cost 20 to 100 times as much while such a day was derived inline at
// every report. In the last (yesterday) each rep
// paused at 20:00 yesterday and has sent nothing since: today has no data,
// hence no summary, and is derived inline from the pause alone
// (pausedDays), after a read of the rep's tracking changes.
//
//	go test -run '^$' -bench BenchmarkTodayWithPauses ./server/
func BenchmarkTodayWithPauses(b *testing.B) {
	const reps = 100
	e := newEnvSync(b, false)
	admin := e.admin(acme)
	now := e.now() // 17:00 in Jakarta, where the reps work
	teams := []string{"plain", "resumed", "open", "yesterday"}
	for _, team := range teams {
		e.mustCreateTeam(admin, team, "boss-"+team)
		for i := range reps {
			id := fmt.Sprintf("%s%03d", team, i)
			e.mustCreateRep(admin, id, team)
			rep := e.as(acme, dwell.RoleRep, id)
			last := now // the phone of a rep paused now sent nothing since
			pauseAt := now.Add(-3 * time.Hour)
			switch team {
			case "open":
				last = pauseAt
			case "yesterday":
				pauseAt = now.Add(-21 * time.Hour) // 20:00 yesterday in Jakarta
				last = pauseAt
			}
			if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes(id, 480, last)}); err != nil {
				b.Fatal(err)
			}
			if team == "plain" {
				continue
			}
			if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "p", PauseTime: timestamppb.New(pauseAt)}); err != nil {
				b.Fatal(err)
			}
			if team != "resumed" {
				continue
			}
			if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "r", ResumeTime: timestamppb.New(now.Add(-150 * time.Minute))}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := e.srv.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	today := pbDate(2026, 11, 20)
	for _, team := range teams {
		b.Run("team="+team, func(b *testing.B) {
			boss := e.as(acme, dwell.RoleManager, "boss-"+team)
			req := &dwellv1.GetTimeBreakdownRequest{Team: "teams/" + team, StartDate: today, EndDate: today}
			for b.Loop() {
				res, err := e.report.GetTimeBreakdown(boss, req)
				if err != nil {
					b.Fatal(err)
				}
				var paused int64
				for _, row := range res.GetRows() {
					paused += row.GetTotals().GetPausedSeconds()
				}
				if team == "resumed" && paused != reps*1800 || team == "plain" && paused != 0 || team == "open" && paused != reps*3*3600 ||
					team == "yesterday" && paused != reps*17*3600 {
					b.Fatalf("paused %d s in %d rows", paused, len(res.GetRows()))
				}
			}
		})
	}
	// The plain team over the week to today: six days of each rep's week
	// have no data, so each rep's tracking changes are read once
	// (pausedDays) and show no pause. Beside team=plain, the cost of that
	// read.
	b.Run("team=plain/week", func(b *testing.B) {
		boss := e.as(acme, dwell.RoleManager, "boss-plain")
		req := &dwellv1.GetTimeBreakdownRequest{Team: "teams/plain", StartDate: pbDate(2026, 11, 14), EndDate: today}
		for b.Loop() {
			res, err := e.report.GetTimeBreakdown(boss, req)
			if err != nil {
				b.Fatal(err)
			}
			days := 0
			for _, row := range res.GetRows() {
				days += int(row.GetFieldDays())
			}
			if days != reps {
				b.Fatalf("%d field days, want %d", days, reps)
			}
		}
	})
}
