package server

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// repVisit is a visit with the rep and local day it belongs to.
type repVisit struct {
	rep  dwell.RepID
	date dwell.Date
	kpi.Visit
}

// ListVisits lists the visits of the per rep-day summaries, newest first
// (by start, then rep, local day and client). The range is required (at most 367 days). A rep or
// team narrows the reps (scoped like GetKpis); admins and partners may name
// neither and get every rep of the tenant.
func (rs *reportService) ListVisits(ctx context.Context, req *dwellv1.ListVisitsRequest) (*dwellv1.ListVisitsResponse, error) {
	const op = dwell.Op("server.ListVisits")
	s := rs.s
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	start, end, vs := rangeOf(req.GetStartDate(), req.GetEndDate())
	var client dwell.ClientID
	if req.GetClient() != "" {
		id, cvs := idFromName(collClients, "client", req.GetClient())
		vs = append(vs, cvs...)
		client = dwell.ClientID(id)
	}
	ver := dwell.Verification(req.GetVerification())
	if ver < dwell.VerificationUnspecified || ver > dwell.VerificationStaleFix {
		vs = append(vs, dwell.Violation{Field: "verification", Description: "is not a known verification"})
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	var sc scope
	if req.GetRep() == "" && req.GetTeam() == "" && (p.Role == dwell.RoleAdmin || p.Role == dwell.RolePartner) {
		reps, err := s.allReps(ctx, p.Tenant)
		if err != nil {
			return nil, err
		}
		sc = scope{reps: reps, key: "all"}
	} else if sc, err = s.readScope(ctx, op, p, "rep", req.GetRep(), "team", req.GetTeam()); err != nil {
		return nil, err
	}
	// "k2": the page key below, whose format changed on 28 November 2026;
	// a token of the older key fails the filter's check (INVALID_ARGUMENT,
	// start again) rather than resume at the wrong place.
	filter := fmt.Sprintf("k2|%s|%s|%s|%s|%d", sc.key, client, start, end, ver)
	// A visit is named by its rep, local day, start and client: the start
	// and rep alone are not unique (two days of one rep cut in different
	// zones, after a change of zone, or two clients' visits beginning at
	// one fix), and a page key that is not unique skips, at a page's
	// end, the items that share it. The date is fixed width, so the key
	// sorts as the tuple does.
	key := func(v repVisit) string {
		return fmt.Sprintf("%019d|%s|%04d-%02d-%02d|%s", math.MaxInt64-v.Start.UnixNano(), v.rep, v.date.Year, int(v.date.Month), v.date.Day, v.Client)
	}
	items, next, err := listPage(op, p.Tenant, "visits", filter, req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]repVisit, bool, error) {
			var all []repVisit
			repDays, err := s.daySummaries(ctx, p.Tenant, sc.reps, start, end, true)
			if err != nil {
				return nil, false, err
			}
			for i, r := range sc.reps {
				for _, d := range repDays[i] {
					for _, v := range d.Visits {
						if (client == "" || v.Client == client) && (ver == dwell.VerificationUnspecified || v.Verification == ver) {
							all = append(all, repVisit{rep: r.ID, date: d.Date, Visit: v})
						}
					}
				}
			}
			page, more := pageSorted(all, key, pg)
			return page, more, nil
		}, key)
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListVisitsResponse{NextPageToken: next}
	for _, v := range items {
		resp.Visits = append(resp.Visits, &dwellv1.Visit{
			Rep:          resourceName(collReps, string(v.rep)),
			Client:       resourceName(collClients, string(v.Client)),
			StartTime:    tsOrNil(v.Start),
			EndTime:      tsOrNil(v.End),
			Source:       visitSourceToPB(v.Source),
			Verification: dwellv1.Verification(v.Verification),
			Outcome:      dwellv1.Outcome(v.Outcome),
			Date:         dateToPB(v.date),

			PausedSeconds:   int64(v.Paused / time.Second),
			OffHoursSeconds: int64(v.OffHours / time.Second),
		})
	}
	return resp, nil
}

// allReps returns every rep of the tenant, in id order.
func (s *Server) allReps(ctx context.Context, tenant dwell.TenantID) ([]dwell.Rep, error) {
	return s.teamReps(ctx, tenant, "")
}
