package server_test

import (
	"math"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func TestGetTimeBreakdownOverGRPC(t *testing.T) {
	f := newReportFixture(t)
	e := f.e
	ana := e.as(acme, dwell.RoleManager, "ana")
	tot := f.repDay.GetTotals()
	same := func(what string, got *dwellv1.DayTotals) {
		t.Helper()
		if got.GetIdleSeconds() != tot.GetIdleSeconds() || got.GetTravelSeconds() != tot.GetTravelSeconds() ||
			got.GetGapSeconds() != tot.GetGapSeconds() || got.GetVisitProspectSeconds() != tot.GetVisitProspectSeconds() ||
			got.GetVisitCustomerSeconds() != tot.GetVisitCustomerSeconds() || math.Abs(got.GetDistanceMeters()-tot.GetDistanceMeters()) > 1e-6 {
			t.Fatalf("%s: totals %v, want GetRepDay's %v", what, got, tot)
		}
	}
	for _, refreshed := range []bool{false, true} {
		if refreshed {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		byDay, err := e.report.GetTimeBreakdown(ana, &dwellv1.GetTimeBreakdownRequest{Team: "teams/north",
			StartDate: pbDate(2026, 11, 1), EndDate: pbDate(2026, 11, 30), Grouping: dwellv1.Grouping_GROUPING_DAY})
		if err != nil {
			t.Fatal(err)
		}
		if len(byDay.GetRows()) != 1 || byDay.GetRows()[0].GetDate().GetDay() != 19 || byDay.GetRows()[0].GetFieldDays() != 1 {
			t.Fatalf("by day = %v, want one row for the 19th", byDay.GetRows())
		}
		same("by day", byDay.GetRows()[0].GetTotals())
		same("total", byDay.GetTotal())
	}
	byRep, err := e.report.GetTimeBreakdown(e.admin(acme), &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/budi", "reps/sari"},
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	if err != nil {
		t.Fatal(err)
	}
	if rows := byRep.GetRows(); len(rows) != 2 || rows[0].GetRep() != "reps/budi" || rows[1].GetFieldDays() != 0 || rows[0].GetDate() != nil {
		t.Fatalf("by rep = %v, want budi's row and an empty one for sari", rows)
	}
	same("by rep", byRep.GetRows()[0].GetTotals())

	_, err = e.report.GetTimeBreakdown(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/sari"},
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantCode(t, "a rep asks for another rep", err, codes.PermissionDenied)
	_, err = e.report.GetTimeBreakdown(ana, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/budi", "reps/sari"},
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantCode(t, "a manager asks for another team's rep", err, codes.PermissionDenied)
	_, err = e.report.GetTimeBreakdown(ana, &dwellv1.GetTimeBreakdownRequest{Team: "teams/south",
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantCode(t, "a manager asks for another team", err, codes.PermissionDenied)
	_, err = e.report.GetTimeBreakdown(ana, &dwellv1.GetTimeBreakdownRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 19)})
	wantViolation(t, "no end date", err, "end_date")
	// A rep named twice would count twice in the total: refused.
	_, err = e.report.GetTimeBreakdown(ana, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/budi", "reps/budi"},
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantViolation(t, "a rep named twice", err, "reps[1]")
}
