package server

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// GetTimeBreakdown answers from the per rep-day summaries (refresh.go):
// one read of each rep's summaries over the range, a stale or missing one
// derived inline. Reps are named one by one (each checked like GetRepDay)
// or as a team (a manager must manage it).
func (rs *reportService) GetTimeBreakdown(ctx context.Context, req *dwellv1.GetTimeBreakdownRequest) (*dwellv1.GetTimeBreakdownResponse, error) {
	const op = dwell.Op("server.GetTimeBreakdown")
	s := rs.s
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	start, end, vs := rangeOf(req.GetStartDate(), req.GetEndDate())
	g := req.GetGrouping()
	if g != dwellv1.Grouping_GROUPING_UNSPECIFIED && g != dwellv1.Grouping_GROUPING_REP && g != dwellv1.Grouping_GROUPING_DAY {
		vs = append(vs, dwell.Violation{Field: "grouping", Description: "must be GROUPING_REP or GROUPING_DAY"})
	}
	// A rep named twice would be counted twice in the total.
	vs = append(vs, namedRepsViolations(req.GetReps())...)
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	var reps []dwell.Rep
	if len(req.GetReps()) > 0 {
		if req.GetTeam() != "" {
			return nil, invalid(op, []dwell.Violation{{Field: "team", Description: "give one of reps or team, not both"}})
		}
		for i, name := range req.GetReps() {
			sc, err := s.readScope(ctx, op, p, "reps["+itoa(int64(i))+"]", name, "team", "")
			if err != nil {
				return nil, err
			}
			reps = append(reps, sc.reps...)
		}
	} else {
		sc, err := s.readScope(ctx, op, p, "reps", "", "team", req.GetTeam())
		if err != nil {
			return nil, err
		}
		reps = sc.reps
	}
	in, err := s.repDays(ctx, p.Tenant, reps, start, end)
	if err != nil {
		return nil, err
	}
	rows := kpi.Breakdown(in, start, end, g == dwellv1.Grouping_GROUPING_DAY)
	resp := &dwellv1.GetTimeBreakdownResponse{Total: &dwellv1.DayTotals{}}
	var total kpi.Totals
	for _, r := range rows {
		row := &dwellv1.BreakdownRow{Rep: resourceName(collReps, string(r.Rep)), Totals: totalsToPB(r.Totals), FieldDays: int32(r.FieldDays)}
		if !r.Date.IsZero() {
			row.Date = dateToPB(r.Date)
		}
		total.Add(r.Totals)
		resp.Rows = append(resp.Rows, row)
	}
	resp.Total = totalsToPB(total)
	return resp, nil
}

// repDays returns the day summaries of reps over [start, end], as the
// input of package kpi.
func (s *Server) repDays(ctx context.Context, tenant dwell.TenantID, reps []dwell.Rep, start, end dwell.Date) ([]kpi.Rep, error) {
	days, err := s.daySummaries(ctx, tenant, reps, start, end, false)
	if err != nil {
		return nil, err
	}
	out := make([]kpi.Rep, len(reps))
	for i, r := range reps {
		loc, err := s.location(r.TimeZone)
		if err != nil {
			return nil, err
		}
		out[i] = kpi.Rep{ID: r.ID, Loc: loc, Days: days[i]}
	}
	return out, nil
}

func totalsToPB(t kpi.Totals) *dwellv1.DayTotals {
	return &dwellv1.DayTotals{
		VisitProspectSeconds: t.VisitProspectS,
		VisitCustomerSeconds: t.VisitCustomerS,
		IdleSeconds:          t.IdleS,
		TravelSeconds:        t.TravelS,
		GapSeconds:           t.GapS,
		PausedSeconds:        t.PausedS,
		DistanceMeters:       t.DistanceM,
	}
}
