package server

import (
	"context"
	"sync"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// kpiLookBackDays is how many days before a KPI range GetKpis reads for
// the range's joins (kpi.Input.Since): a follow-up due in the range counts
// if it was given at most this long before the range, and a win's
// meetings are seen this far back. The API documents it (report.proto).
const kpiLookBackDays = 60

// GetKpis computes the ten KPIs (package kpi) of a rep or a team over a
// range of local days from the per rep-day summaries (never re-deriving a
// current day), the reps' opportunities, appointments and quotas, and the
// current kinds of the won deals' clients.
func (rs *reportService) GetKpis(ctx context.Context, req *dwellv1.GetKpisRequest) (*dwellv1.GetKpisResponse, error) {
	const op = dwell.Op("server.GetKpis")
	s := rs.s
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	start, end, vs := rangeOf(req.GetStartDate(), req.GetEndDate())
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	sc, err := s.readScope(ctx, op, p, "rep", req.GetRep(), "team", req.GetTeam())
	if err != nil {
		return nil, err
	}
	// The look-back: follow-ups given before the range and due in it,
	// and the meetings before the range of the deals won in it. The
	// look-ahead: the visits after the range's end that keep an
	// appointment planned in it (one lasts up to a day), the day after
	// end (two where that day is cut short by a daylight-saving change
	// in some rep's zone).
	since := start.AddDays(-kpiLookBackDays)
	until := end
	for _, r := range sc.reps {
		loc, err := s.location(r.TimeZone)
		if err != nil {
			return nil, err
		}
		if d := kpi.LookAhead(end, loc); until.Before(d) {
			until = d
		}
	}
	in := kpi.Input{Start: start, End: end, Since: since}
	// The sales inputs are read beside the day summaries: the summaries'
	// read is one goroutine's work (their decoding and the KPIs use every
	// core), and a team's appointments and quotas (one read,
	// store.ListRepSales) cost a few milliseconds more.
	var (
		wg       sync.WaitGroup
		salesErr error
	)
	wg.Go(func() { salesErr = s.kpiSales(ctx, p.Tenant, sc.reps, start, end, &in) })
	in.Reps, err = s.repDays(ctx, p.Tenant, sc.reps, since, until)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if salesErr != nil {
		return nil, salesErr
	}
	clients := &storeClients{ctx: ctx, s: s, tenant: p.Tenant, cache: map[dwell.ClientID]*dwell.Client{}}
	in.ClientKind = clients.kind
	return kpisToPB(kpi.Compute(in)), nil
}

// kpiSales reads the appointments of reps planned in [start, end] (their
// local days), their quotas and their opportunities into in.
func (s *Server) kpiSales(ctx context.Context, tenant dwell.TenantID, reps []dwell.Rep, start, end dwell.Date, in *kpi.Input) error {
	ids := make([]dwell.RepID, len(reps))
	spans := make([]store.RepSpan, len(reps))
	for i, r := range reps {
		ids[i] = r.ID
		loc, err := s.location(r.TimeZone)
		if err != nil {
			return err
		}
		spans[i] = store.RepSpan{Rep: r.ID, From: start.Start(loc), To: end.AddDays(1).Start(loc)}
	}
	as, qs, err := s.store.ListRepSales(ctx, tenant, spans)
	if err != nil {
		return err
	}
	in.Appointments = append(in.Appointments, as...)
	in.Quotas = append(in.Quotas, qs...)
	if len(ids) == 0 {
		return nil
	}
	os, err := listAll(func(pg store.Page) ([]dwell.Opportunity, bool, error) {
		return s.store.ListOpportunities(ctx, tenant, store.OpportunityFilter{Reps: ids}, pg)
	}, func(o dwell.Opportunity) string { return string(o.ID) })
	in.Opportunities = append(in.Opportunities, os...)
	return err
}

func basisToPB(b kpi.Basis) *dwellv1.Basis {
	return &dwellv1.Basis{Days: int32(b.Days), Records: int32(b.Records)}
}

func kpisToPB(r kpi.Result) *dwellv1.GetKpisResponse {
	hist := make([]int32, len(r.VisitTime.Histogram))
	for i, n := range r.VisitTime.Histogram {
		hist[i] = int32(n)
	}
	var reasons []*dwellv1.RejectionCount
	for _, rc := range r.Rejection.Reasons {
		reasons = append(reasons, &dwellv1.RejectionCount{Reason: dwellv1.RejectionReason(rc.Reason), Count: int32(rc.Count)})
	}
	return &dwellv1.GetKpisResponse{
		Idle: &dwellv1.IdleKpi{Basis: basisToPB(r.Idle.Basis), IdleSeconds: r.Idle.IdleS, IdleSecondsPerDay: r.Idle.IdleSPerDay,
			IdleShare: r.Idle.IdleShare, TravelSeconds: r.Idle.TravelS, TravelMeters: r.Idle.TravelM},
		VisitTime: &dwellv1.VisitTimeKpi{Basis: basisToPB(r.VisitTime.Basis), ProspectSeconds: r.VisitTime.ProspectS,
			ProspectMeanSeconds: r.VisitTime.ProspectMeanS, CustomerSeconds: r.VisitTime.CustomerS,
			CustomerMeanSeconds: r.VisitTime.CustomerMeanS, DurationHistogram: hist,
			WonMeanSeconds: r.VisitTime.WonMeanS, NotWonMeanSeconds: r.VisitTime.NotWonMeanS},
		Meetings: &dwellv1.MeetingsKpi{Basis: basisToPB(r.Meetings.Basis), VerifiedVisitsPerDay: r.Meetings.VisitsPerDay,
			AppointmentsPlanned: int32(r.Meetings.Planned), AppointmentsKept: int32(r.Meetings.Kept)},
		Calls: &dwellv1.CallsKpi{Basis: basisToPB(r.Calls.Basis), Calls: int32(r.Calls.Calls), ConnectedCalls: int32(r.Calls.Connected),
			MeanTalkSeconds: r.Calls.MeanTalkS},
		WinRatio: &dwellv1.WinRatioKpi{Basis: basisToPB(r.WinRatio.Basis), Wins: int32(r.WinRatio.Wins), Meetings: int32(r.WinRatio.Meetings),
			Ratio: r.WinRatio.Ratio, MultiMeetingWinShare: r.WinRatio.MultiMeetingShare},
		Rejection: &dwellv1.RejectionKpi{Basis: basisToPB(r.Rejection.Basis), MeetingsWithOutcome: int32(r.Rejection.WithOutcome),
			Rejections: int32(r.Rejection.Rejections), Rate: r.Rejection.Rate, Reasons: reasons,
			CheckOutsWithoutMeeting: int32(r.Rejection.WithoutMeeting)},
		Cadence: &dwellv1.CadenceKpi{Basis: basisToPB(r.Cadence.Basis), PositivePerDay: r.Cadence.PositivePerDay,
			FollowUpsDue: int32(r.Cadence.Due), FollowUpsDone: int32(r.Cadence.Done), FollowUpRate: r.Cadence.Rate,
			MedianDaysToFollowUp: r.Cadence.MedianDays},
		Engagement: &dwellv1.EngagementKpi{Basis: basisToPB(r.Engagement.Basis), CustomerVisits: int32(r.Engagement.CustomerVisits),
			CustomerCalls: int32(r.Engagement.CustomerCalls), CustomerWonShare: r.Engagement.CustomerWonShare},
		SalesCycle: &dwellv1.SalesCycleKpi{Basis: basisToPB(r.SalesCycle.Basis), MeanDays: r.SalesCycle.MeanDays,
			MedianDays: r.SalesCycle.MedianDays, TeamSpreadDays: r.SalesCycle.TeamSpreadDays},
		Quota: &dwellv1.QuotaKpi{Basis: basisToPB(r.Quota.Basis), Won: moneyToPB(r.Quota.Won), Quota: moneyToPB(r.Quota.Quota),
			Attainment: r.Quota.Attainment},
	}
}
