package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestKpisPausedWeekendIsNoFieldDay: a rep tracked on Friday 20 November
// 2026, paused tracking that evening and resumed on Monday morning. The
// weekend between is paused whole (GetTimeBreakdown reports its paused
// seconds), but the rep was not in the field: GetKpis over Friday to
// Monday rests on two field days, not four, and the breakdown counts no
// field day on Saturday or Sunday.
func TestKpisPausedWeekendIsNoFieldDay(t *testing.T) {
	e := newEnv(t) // the clock reads Friday 20 November 2026, 10:00 UTC
	admin := e.admin(acme)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	rep := e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("fri", 60, e.now())}); err != nil {
		t.Fatal(err)
	}
	e.advance(8 * time.Hour) // Friday 18:00
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "pause", PauseTime: timestamppb.New(e.now())}); err != nil {
		t.Fatal(err)
	}
	e.advance(62 * time.Hour) // Monday 08:00
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "resume", ResumeTime: timestamppb.New(e.now())}); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour) // Monday 10:00
	rep = e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("mon", 60, e.now())}); err != nil {
		t.Fatal(err)
	}
	admin = e.admin(acme)
	fri, mon := pbDate(2026, 11, 20), pbDate(2026, 11, 23)
	for _, refreshed := range []bool{false, true} {
		if refreshed {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: fri, EndDate: mon,
			Grouping: dwellv1.Grouping_GROUPING_DAY})
		if err != nil {
			t.Fatal(err)
		}
		fieldDays := map[int32]int32{}
		for _, row := range bd.GetRows() {
			fieldDays[row.GetDate().GetDay()] = row.GetFieldDays()
			if d := row.GetDate().GetDay(); (d == 21 || d == 22) && row.GetTotals().GetPausedSeconds() != 24*3600 {
				t.Fatalf("refreshed %v: the %dth paused %d s, want a whole day", refreshed, d, row.GetTotals().GetPausedSeconds())
			}
		}
		if fieldDays[20] != 1 || fieldDays[21] != 0 || fieldDays[22] != 0 || fieldDays[23] != 1 {
			t.Errorf("refreshed %v: field days by day %v, want Friday and Monday only", refreshed, fieldDays)
		}
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: fri, EndDate: mon})
		if err != nil {
			t.Fatal(err)
		}
		if got := k.GetIdle().GetBasis().GetDays(); got != 2 {
			t.Errorf("refreshed %v: GetKpis rests on %d field days, want 2 (the paused weekend is none)", refreshed, got)
		}
		if got := k.GetMeetings().GetVerifiedVisitsPerDay()*2 - float64(k.GetMeetings().GetBasis().GetRecords()); got != 0 {
			t.Errorf("refreshed %v: visits per day %v over %d visits, want them over 2 days", refreshed, k.GetMeetings().GetVerifiedVisitsPerDay(), k.GetMeetings().GetBasis().GetRecords())
		}
	}
}
