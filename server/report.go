package server

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// reportService implements dwellv1.ReportServiceServer. GetRepDay derives
// a recent day on request from the stored fixes and claims, so it always
// reflects every fix and event received, late ones included; a day past
// the retention period, or older than the days directory and settings
// changes derive again (settled), it serves as its stored summary has it
// when that is current (storedRepDay), as the other reports read it. The
// other RPCs are in breakdown.go, kpis.go, visits.go, watch.go and
// status.go.
type reportService struct {
	dwellv1.UnimplementedReportServiceServer
	s *Server
}

// storeClients is a timeline.ClientSource over the store, caching what one
// derivation looks up.
type storeClients struct {
	ctx    context.Context
	s      *Server
	tenant dwell.TenantID
	cache  map[dwell.ClientID]*dwell.Client
}

func (c *storeClients) Client(id dwell.ClientID) (dwell.Client, bool) {
	if got, ok := c.cache[id]; ok {
		if got == nil {
			return dwell.Client{}, false
		}
		return *got, true
	}
	cl, err := c.s.store.GetClient(c.ctx, c.tenant, id)
	if err != nil {
		// A deleted client (or a failed read) is unknown to the derivation,
		// which then falls back on the fence index.
		c.cache[id] = nil
		return dwell.Client{}, false
	}
	c.cache[id] = &cl
	return cl, true
}

// dayBounds returns the instants that bound local day d in loc and, when
// the rep has working hours that weekday, each of its windows that day, in
// time order: dwell.Rep.WorkingWindows, the windows ingest refuses fixes
// outside of, so every fix accepted as inside the hours is inside the
// day's windows (a window whose end the clocks show twice runs to its
// later occurrence; one whose edge they skip starts or ends at the jump).
// A split shift (09:00-12:00 and 13:00-17:00) has several: the derivation
// shows the time between them as off hours, not as the stop or silence
// the rep's untracked break would otherwise be.
func dayBounds(r dwell.Rep, d dwell.Date, loc *time.Location) (from, to time.Time, ws []timeline.Window) {
	from, to = d.Start(loc), d.AddDays(1).Start(loc)
	for _, w := range r.WorkingWindows(d, loc) {
		ws = append(ws, timeline.Window(w))
	}
	return from, to, ws
}

func (rs *reportService) GetRepDay(ctx context.Context, req *dwellv1.GetRepDayRequest) (*dwellv1.GetRepDayResponse, error) {
	const op = dwell.Op("server.GetRepDay")
	s := rs.s
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var id dwell.RepID
	if req.GetRep() == "" && p.Role == dwell.RoleRep {
		id = dwell.RepID(p.Subject)
	} else {
		rid, err := nameID(op, collReps, "rep", req.GetRep())
		if err != nil {
			return nil, err
		}
		id = dwell.RepID(rid)
	}
	date := dateFromPB(req.GetDate())
	if req.GetDate() == nil {
		return nil, invalid(op, []dwell.Violation{{Field: "date", Description: "is required"}})
	}
	if err := invalid(op, dwell.ValidateDate("date", date)); err != nil {
		return nil, err
	}
	if err := s.canReadRep(ctx, op, p, id); err != nil {
		return nil, err
	}
	r, err := s.store.GetRep(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	// One read of the settings serves the retention and the derivation.
	settings, err := s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	// One read of the rep's prune horizon serves the retention and
	// whether the day is settled.
	pruned, err := s.store.PrunedBefore(ctx, p.Tenant, r.ID)
	if err != nil {
		return nil, err
	}
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return nil, err
	}
	past, lost := s.pastRetention(loc, date, settings.Retention, pruned)
	if past || s.settled(date, settings.Retention, pruned) {
		resp, err := s.storedRepDay(ctx, p.Tenant, r, date, settings, past, lost, req.GetIncludeFixes())
		if resp != nil || err != nil {
			return resp, err
		}
	}
	d, err := s.derive(ctx, p.Tenant, r, date, settings, true)
	if err != nil {
		return nil, err
	}
	// A visit's outcome is its check-in's check-out's, which may be of the
	// next day (a meeting across midnight).
	day := d.day
	outcomes := make(map[string]dwell.Outcome, len(d.checkOuts)+len(d.laterOuts))
	for _, co := range slices.Concat(d.checkOuts, d.laterOuts) {
		outcomes[co.RequestID] = co.Outcome
	}
	closedBy := make(map[string]string, len(day.CheckIns))
	for _, ci := range day.CheckIns {
		closedBy[ci.RequestID] = ci.CheckOutRequestID
	}
	resp := repDayToPB(r, date, day, len(d.fixes), d.clients.kind, func(checkIn string) dwell.Outcome {
		return outcomes[closedBy[checkIn]]
	})
	resp.PastRetention = past
	if req.GetIncludeFixes() {
		resp.Fixes = fixesToPB(timeline.Unpaused(d.fixes, day.Segments))
	}
	return resp, nil
}

// pastRetention reports whether a rep's local day date (in loc) began
// before the tenant's retention period (retention before now), so that
// the sweeper may have deleted some of its fixes (privacy.go), or lost
// data to retention already (lost: it began before the rep's prune
// horizon pruned, see lostData), perhaps under a shorter period set
// before.
func (s *Server) pastRetention(loc *time.Location, date dwell.Date, retention time.Duration, pruned time.Time) (past, lost bool) {
	lost = lostBefore(loc, date, pruned)
	return lost || date.Start(loc).Before(s.now().Add(-retention)), lost
}

// lostData reports whether rep-day date of r began before the rep's prune
// horizon (store.Privacy.PrunedBefore): it has lost fixes, or the
// positions of check-ins and check-outs, to retention. Such a day can no
// longer change: derived again from what is left it would lose the visits
// and stops of what it lost, in every report, so its summary stays as
// derived while everything was there (keptSummary), and ingest refuses
// data for it.
func (s *Server) lostData(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date) (bool, error) {
	pruned, err := s.store.PrunedBefore(ctx, tenant, r.ID)
	if err != nil || pruned.IsZero() {
		return false, err
	}
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return false, err
	}
	return lostBefore(loc, date, pruned), nil
}

// lostBefore reports whether local day date (in loc) began before the
// prune horizon pruned (zero: none).
func lostBefore(loc *time.Location, date dwell.Date, pruned time.Time) bool {
	return !pruned.IsZero() && date.Start(loc).Before(pruned)
}

// keptSummary returns the stored summary of a day that lost data to
// retention (lostData), current or not, and its detail; a nil Summary if
// the day lost nothing or has no summary. A day can be marked dirty after
// it lost data: data that raced the sweep past ingest's check, a mark the
// refresher had not drained when the sweep came (a backlog, a failing
// listener, a crash), a tool writing to the store.
func (s *Server) keptSummary(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date) (store.DaySummary, []byte, error) {
	lost, err := s.lostData(ctx, tenant, r, date)
	if err != nil || !lost {
		return store.DaySummary{}, nil, err
	}
	return s.store.GetDaySummary(ctx, tenant, r.ID, date)
}

// settled reports whether local day date is older than the first day a
// change of settings, clients or a rep's zone or working hours derives
// again (store.RederiveDays before the present, in UTC, less one day for
// the zones ahead of it, as the stores count it). Only data of its own
// (fixes and actions, a resume) marks such a day, so its stored summary
// keeps what it was derived with (the zone, working hours, settings and
// fences of then), and GetRepDay serves that summary, as the reports read
// it, rather than derive it with today's directory (storedRepDay). The
// stores re-derive no day that may have lost fixes either: none before
// two UTC days after the start of the retention period or of the rep's
// prune horizon (their keptFrom), so those days are settled too.
// pruned is the rep's prune horizon (zero if none).
func (s *Server) settled(date dwell.Date, retention time.Duration, pruned time.Time) bool {
	now := s.now()
	first := dwell.DateOf(now, time.UTC).AddDays(-store.RederiveDays - 1)
	if kept := dwell.DateOf(now.Add(-retention), time.UTC).AddDays(2); first.Before(kept) {
		first = kept
	}
	if !pruned.IsZero() {
		if kept := dwell.DateOf(pruned, time.UTC).AddDays(2); first.Before(kept) {
			first = kept
		}
	}
	return date.Before(first)
}

// storedRepDay returns the day as its stored summary has it, for a day
// that may have lost fixes to retention (pastRetention, past) or that no
// directory or settings change derives again (settled): derived again, it
// would lose the visits and stops of its expired fixes, or be cut and
// derived with today's zone, working hours and settings, and disagree with
// the reports, which read the same summary. A settled day the store holds
// no data version for (its data, if any, was cut into other days in the
// rep's zone of then) is derived from the pauses and resumes alone
// (noData), as the reports derive it (pausedDays in refresh.go): its fixes
// and actions count in the days that hold them. It returns nil (and the caller derives the
// day) when there is no summary with its detail, or when the summary is
// not current and the day has not lost data yet (lost false), since then
// the reports derive it too; a day that lost data keeps its summary even
// if data came since (keptSummary).
func (s *Server) storedRepDay(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings, past, lost, withFixes bool) (*dwellv1.GetRepDayResponse, error) {
	sum, detail, err := s.store.GetDaySummary(ctx, tenant, r.ID, date)
	if err != nil {
		return nil, err
	}
	if sum.Version == 0 && sum.Summary == nil && !past {
		return s.noDataRepDay(ctx, tenant, r, date, settings)
	}
	if sum.Summary == nil || detail == nil || !(sum.Current() || lost) {
		return nil, nil
	}
	kd, err := kpi.DecodeDay(sum.Summary, detail)
	if err != nil {
		s.log.Warn("corrupt day summary; deriving the day", slog.String("rep", string(r.ID)), slog.Any("date", date))
		return nil, nil
	}
	day := kd.Timeline()
	kinds := make(map[dwell.ClientID]dwell.ClientKind, len(kd.Visits))
	outcomes := make(map[string]dwell.Outcome, len(kd.Visits))
	for _, v := range kd.Visits {
		kinds[v.Client] = v.Kind
		if v.CheckInRequestID != "" {
			outcomes[v.CheckInRequestID] = v.Outcome
		}
	}
	// Visit time is split by the client's kind when the day was derived,
	// as the summary's totals are.
	kind := func(c dwell.ClientID) dwell.ClientKind { return kinds[c] }
	resp := repDayToPB(r, date, *day, kd.FixCount, kind, func(checkIn string) dwell.Outcome { return outcomes[checkIn] })
	resp.PastRetention = past
	if withFixes && !day.Start.IsZero() {
		// The fixes of the day's own span, not of the date's bounds in the
		// rep's zone now: a settled day may have been cut in the zone of
		// then (a change of zone re-cuts only the recent days).
		fixes, err := s.store.ListFixes(ctx, tenant, r.ID, day.Start, day.End.Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		resp.Fixes = fixesToPB(timeline.Unpaused(fixes, day.Segments))
	}
	return resp, nil
}

// noDataRepDay returns settled day date of r, which the store holds no
// data version for, derived with settings from the rep's pauses and
// resumes only, with no fix or action: the reports count its paused time
// alone, derived the same way (pausedDays in refresh.go), and its data
// (after a change of the rep's zone, the fixes of its instants) counts in
// the stored days cut in the zone of then.
func (s *Server) noDataRepDay(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (*dwellv1.GetRepDayResponse, error) {
	d, err := s.deriveFrom(ctx, tenant, r, date, settings, deriveOpts{live: true, noData: true})
	if err != nil {
		return nil, err
	}
	return repDayToPB(r, date, d.day, 0, d.clients.kind, func(string) dwell.Outcome { return dwell.Outcome(0) }), nil
}

// fixesToPB converts fixes.
func fixesToPB(fixes []dwell.Fix) []*dwellv1.Fix {
	out := make([]*dwellv1.Fix, len(fixes))
	for i, f := range fixes {
		out[i] = fixToPB(f)
	}
	return out
}

// repDayToPB converts a derived day. Visit time is split between prospects
// and customers by kind (the client's current kind for a day derived now).
func repDayToPB(r dwell.Rep, date dwell.Date, day timeline.Day, fixCount int, kind func(dwell.ClientID) dwell.ClientKind, outcome func(checkIn string) dwell.Outcome) *dwellv1.GetRepDayResponse {
	repName := resourceName(collReps, string(r.ID))
	pbDate := dateToPB(date)
	resp := &dwellv1.GetRepDayResponse{
		Rep: repName, Date: pbDate, TimeZone: r.TimeZone, FixCount: int32(fixCount),
		Totals: &dwellv1.DayTotals{},
		Flags: &dwellv1.DayFlags{
			MockFixes:            int32(day.Flags.MockFixes),
			ImpossibleSpeedFixes: int32(day.Flags.ImpossibleSpeedFixes),
			UnverifiedCheckIns:   int32(day.Flags.UnverifiedCheckIns),
			ForgottenCheckOuts:   int32(day.Flags.ForgottenCheckOuts),
		},
	}
	t := resp.Totals
	for _, sg := range day.Segments {
		out := &dwellv1.Segment{
			Kind:           segmentKindToPB(sg.Kind),
			StartTime:      tsOrNil(sg.Start),
			EndTime:        tsOrNil(sg.End),
			DistanceMeters: sg.DistanceM,
		}
		secs := int64(sg.End.Sub(sg.Start) / time.Second)
		switch sg.Kind {
		case timeline.KindVisit:
			out.Client = resourceName(collClients, string(sg.Client))
			out.Location = latLngToPB(sg.Location)
			if kind(sg.Client) == dwell.ClientKindCustomer {
				t.VisitCustomerSeconds += secs
			} else {
				t.VisitProspectSeconds += secs
			}
		case timeline.KindIdle:
			out.Location = latLngToPB(sg.Location)
			t.IdleSeconds += secs
		case timeline.KindTravel:
			t.TravelSeconds += secs
			t.DistanceMeters += sg.DistanceM
		case timeline.KindGap:
			t.GapSeconds += secs
		case timeline.KindPaused:
			t.PausedSeconds += secs
		}
		resp.Segments = append(resp.Segments, out)
	}
	for _, v := range day.Visits {
		pv := &dwellv1.Visit{
			Rep:          repName,
			Client:       resourceName(collClients, string(v.Client)),
			StartTime:    tsOrNil(v.Start),
			EndTime:      tsOrNil(v.End),
			Source:       visitSourceToPB(v.Source),
			Verification: dwellv1.Verification(v.Verification),
			Date:         pbDate,

			PausedSeconds:   int64(v.Paused / time.Second),
			OffHoursSeconds: int64(v.OffHours / time.Second),
		}
		if v.CheckInRequestID != "" {
			pv.Outcome = dwellv1.Outcome(outcome(v.CheckInRequestID))
		}
		resp.Visits = append(resp.Visits, pv)
	}
	return resp
}

func segmentKindToPB(k timeline.Kind) dwellv1.SegmentKind {
	switch k {
	case timeline.KindVisit:
		return dwellv1.SegmentKind_SEGMENT_KIND_VISIT
	case timeline.KindIdle:
		return dwellv1.SegmentKind_SEGMENT_KIND_IDLE
	case timeline.KindTravel:
		return dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL
	case timeline.KindGap:
		return dwellv1.SegmentKind_SEGMENT_KIND_GAP
	case timeline.KindPaused:
		return dwellv1.SegmentKind_SEGMENT_KIND_PAUSED
	case timeline.KindOffHours:
		return dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS
	}
	return dwellv1.SegmentKind_SEGMENT_KIND_UNSPECIFIED
}

func visitSourceToPB(s timeline.Source) dwellv1.VisitSource {
	switch s {
	case timeline.SourceGeofence:
		return dwellv1.VisitSource_VISIT_SOURCE_GEOFENCE
	case timeline.SourceCheckIn:
		return dwellv1.VisitSource_VISIT_SOURCE_CHECK_IN
	case timeline.SourceBoth:
		return dwellv1.VisitSource_VISIT_SOURCE_BOTH
	}
	return dwellv1.VisitSource_VISIT_SOURCE_UNSPECIFIED
}
