package server

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Who is idle now (ReportService.ListRepStatuses).
//
// Where the truth lives. A rep's current state is the last segment of its
// local today's timeline, and the timeline is a pure function of the data
// received (DESIGN.md). Three places hold a view of it:
//
//   - derive (refresh.go), run at the call as GetRepDay runs it (live: a
//     pause not yet resumed ends now), reads every fix, check-in, check-out
//     and pause acknowledged so far. This is the truth: a status is
//     GetRepDay's last segment at the same instant, in kind, start and
//     client.
//   - The stored per-day summary is the same derivation, made by the
//     refresher after the data changed; it trails ingest by a refresher
//     pass (a notify, then up to refreshRestMax of rest under load), and
//     derives a pause not yet resumed as lasting to the day's end. It is
//     used (storedToday) only when it is current, derived from every write
//     acknowledged when it is read, and the rep's latest fix is the last
//     fix the day's derivation kept (keptLast); the pause's end changes
//     nothing a status reads (a last
//     PAUSED segment that has not ended is "paused now" either way). Then
//     it is the truth read for a 20th to a 40th of a derivation's cost
//     (a team of 50); otherwise the day is derived. TestListRepStatusesStoredEqualsDerived
//     holds both ways equal.
//   - The event broker knows visits, geofence crossings and idle starts,
//     but not travel, and a new client would have to replay the tenant's log
//     from the start of the day to learn a state: that is what this RPC
//     saves it.
//
// The last fix. A status shows, as the rep's last fix, the latest fix the
// timeline kept (timeline.Day.LastFix): never a mock location, a spoof
// reached at an impossible speed, a multipath jump, a fix taken while
// paused or outside the working hours, none of which is evidence of where
// the rep was. The rep was last heard of at the end of the day's last
// segment, where the silence sweeper times it from too (trackedUntil), or
// at the one fix of a day with no segment yet (TRACKING, kind
// unspecified, then SILENT): a fix the timeline left out never keeps a rep
// from being SILENT (TestRepStatusLastFixNotASpoof, TestRepStatusSingleFix).
//
// Staleness is therefore the phone's alone, never the refresher's: the
// state holds as of the rep's last fix (RepStatus.last_fix_time); what the
// rep did since and has not uploaded is unknown, and a stop is IDLE (or a
// VISIT) only once it has lasted idle_min (visit_min) with fixes, so a rep
// who stopped three minutes ago still reads as TRAVEL, and since_time
// moves back to the stop's start when the stop qualifies. A rep not heard
// of for the tenant's silence threshold of working time is SILENT, by the
// rule of the REP_SILENT event (afterWorking).
//
// Cost, for a page of reps, on up to GOMAXPROCS goroutines: per rep three
// small store reads and a summary's decode when its summary is current,
// else a derivation of its day so far (GetRepDay's cost).
// BenchmarkListRepStatuses, a team of 50 with 2,040 fixes each today, on
// 2 cores shared with other work (two runs): 2.5 to 8 ms with every
// summary current, 63 to 170 ms with every summary stale, beside 1.4 to
// 1.8 ms for one GetRepDay and 0.4 to 0.5 ms for the team's breakdown of
// today from the same summaries.

// ListRepStatuses returns the current state of each rep the caller names
// (reps or a team) or may read (with neither: a manager's teams, the
// tenant for admins and partners, a rep itself), in rep id order, a page at
// a time.
func (rs *reportService) ListRepStatuses(ctx context.Context, req *dwellv1.ListRepStatusesRequest) (*dwellv1.ListRepStatusesResponse, error) {
	const op = dwell.Op("server.ListRepStatuses")
	s := rs.s
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	vs := namedRepsViolations(req.GetReps())
	if len(req.GetReps()) > 0 && req.GetTeam() != "" {
		vs = append(vs, dwell.Violation{Field: "team", Description: "give one of reps or team, not both"})
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	// The page token is checked before the scope is resolved, so a bad one
	// costs no store read.
	if _, err := pageFromRequest(op, req.GetPageSize(), req.GetPageToken(), filterDigest(p.Tenant, "rep-statuses", statusFilter(p, req))); err != nil {
		return nil, err
	}
	reps, err := s.statusScope(ctx, op, p, req.GetReps(), req.GetTeam())
	if err != nil {
		return nil, err
	}
	id := func(r dwell.Rep) string { return string(r.ID) }
	page, next, err := listPage(op, p.Tenant, "rep-statuses", statusFilter(p, req), req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Rep, bool, error) {
			out, more := pageSorted(reps, id, pg)
			return out, more, nil
		}, id)
	if err != nil {
		return nil, err
	}
	settings, err := s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	now := s.now()
	statuses := make([]*dwellv1.RepStatus, len(page))
	errs := make([]error, len(page))
	// Each rep's status (a summary's read, or its day's derivation) is one
	// goroutine's work; a page of a team uses every core, as a team query's
	// decoding does.
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, r := range page {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			statuses[i], errs[i] = s.repStatus(ctx, p.Tenant, r, settings, now)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &dwellv1.ListRepStatusesResponse{RepStatuses: statuses, NextPageToken: next, AsOfTime: tsOrNil(now)}, nil
}

// namedRepsViolations checks a request's list of reps (field "reps"), as
// GetTimeBreakdown's: at most maxPageSize, each named once (a rep named
// twice would be counted, or listed, twice; repeats are reported among
// the first maxPageSize+1 names). The names themselves are
// checked when each is resolved (readScope).
func namedRepsViolations(names []string) []dwell.Violation {
	var vs []dwell.Violation
	if len(names) > maxPageSize {
		vs = append(vs, dwell.Violation{Field: "reps", Description: "at most 1000 reps; name a team for more"})
	}
	// Repeats are looked for among the first maxPageSize+1 names only: a
	// list can be 128 KiB of names (tens of thousands), and one violation
	// each would cost the server for an answer cut to a few KB anyway.
	names = names[:min(len(names), maxPageSize+1)]
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		if seen[name] {
			vs = append(vs, dwell.Violation{Field: "reps[" + itoa(int64(i)) + "]", Description: "names " + name + " again; name each rep once"})
		}
		seen[name] = true
	}
	return vs
}

// statusFilter is the filter of a ListRepStatuses request as its page
// tokens are bound to: the reps or team named, or the caller's whole scope
// (which depends on the caller, so a rep's token and a manager's differ).
func statusFilter(p dwell.Principal, req *dwellv1.ListRepStatusesRequest) string {
	switch {
	case len(req.GetReps()) > 0:
		return "reps:" + strings.Join(req.GetReps(), ",")
	case req.GetTeam() != "":
		return "team:" + req.GetTeam()
	}
	return "scope:" + p.Role.String() + ":" + p.Subject
}

// statusScope returns the reps a ListRepStatuses request covers, in id
// order, each checked like GetRepDay's rep (readScope): the reps named, the
// team named, or with neither the caller's own scope (a manager's teams,
// the tenant for admins and partners, a rep itself).
func (s *Server) statusScope(ctx context.Context, op dwell.Op, p dwell.Principal, names []string, team string) ([]dwell.Rep, error) {
	var reps []dwell.Rep
	switch {
	case len(names) > 0:
		for i, name := range names {
			sc, err := s.readScope(ctx, op, p, "reps["+itoa(int64(i))+"]", name, "team", "")
			if err != nil {
				return nil, err
			}
			reps = append(reps, sc.reps...)
		}
	case team != "" || p.Role == dwell.RoleRep:
		sc, err := s.readScope(ctx, op, p, "reps", "", "team", team)
		if err != nil {
			return nil, err
		}
		reps = sc.reps
	case p.Role == dwell.RoleAdmin || p.Role == dwell.RolePartner:
		return s.allReps(ctx, p.Tenant)
	case p.Role == dwell.RoleManager:
		teams, err := listAll(func(pg store.Page) ([]dwell.Team, bool, error) {
			return s.store.ListTeams(ctx, p.Tenant, store.TeamFilter{Manager: p.Subject}, pg)
		}, func(t dwell.Team) string { return string(t.ID) })
		if err != nil {
			return nil, err
		}
		for _, t := range teams {
			rs, err := s.teamReps(ctx, p.Tenant, t.ID)
			if err != nil {
				return nil, err
			}
			reps = append(reps, rs...)
		}
	default:
		return nil, s.denyBecause(ctx, op, p, "reps", "role not allowed", dwell.ReasonRoleNotAllowed)
	}
	slices.SortFunc(reps, func(a, b dwell.Rep) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return reps, nil
}

// repStatus returns where rep r's local today stands at now (see the
// RepState values in report.proto): its timeline as GetRepDay would derive
// it now, from the day's stored summary when that is the same timeline
// (storedToday), else derived.
func (s *Server) repStatus(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, settings dwell.Settings, now time.Time) (*dwellv1.RepStatus, error) {
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return nil, err
	}
	date := dwell.DateOf(now, loc)
	day, fix, ok, err := s.storedToday(ctx, tenant, r, date, loc)
	if err != nil {
		return nil, err
	}
	if !ok {
		if day, fix, err = s.derivedToday(ctx, tenant, r, date, settings); err != nil {
			return nil, err
		}
	}
	return repStatusOf(r, loc, date, day.Segments, fix, settings, now), nil
}

// derivedToday derives r's day date as GetRepDay does (live: a pause not
// yet resumed ends now) and returns it with the day's last fix: the latest
// the derivation kept (timeline.Day.LastFix: not a mock location, not
// dropped for impossible speed or as a multipath jump, not taken while
// paused, within the working hours), nil if none. A fix the timeline
// left out is no evidence of where the rep was, nor that it was heard of.
func (s *Server) derivedToday(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (*timeline.Day, *dwell.Fix, error) {
	d, err := s.derive(ctx, tenant, r, date, settings, true)
	if err != nil {
		return nil, nil, err
	}
	if f, ok := d.day.LastFix(); ok {
		return &d.day, &f, nil
	}
	return &d.day, nil, nil
}

// storedToday returns r's day date as its stored summary has it, with the
// day's last fix, when both are what derivedToday would return: ok is
// false (and the caller derives) unless
//
//   - the rep's latest stored fix falls on the day, is the only stored fix
//     of its instant, and is the last fix the day's derivation kept
//     (keptLast), and
//   - the day's summary (with its detail) is current, derived from every
//     write acknowledged when it is read, and the latest fix's time is the
//     same after that read as before, so summary and fix are of one moment.
//
// A summary does not hold its day's last fix (timeline.Day.LastFix), so a
// rep whose latest fix the timeline left out (a mock location, a spoof
// reached at an impossible speed, a fix taken while paused or outside the
// working hours) is derived. The summary was derived with a pause not yet
// resumed lasting to the day's end rather than until now; that changes
// the end of the last segment only, which repStatusOf reads as "paused
// now" either way. Reads are three small store reads and a decode,
// against a derivation's read of the whole day.
func (s *Server) storedToday(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, loc *time.Location) (*timeline.Day, *dwell.Fix, bool, error) {
	from, to := date.Start(loc), date.AddDays(1).Start(loc)
	at, err := s.store.LastFixTime(ctx, tenant, r.ID)
	if err != nil || at.Before(from) || !at.Before(to) {
		return nil, nil, false, err
	}
	fixes, err := s.store.ListFixes(ctx, tenant, r.ID, at, at.Add(time.Nanosecond))
	if err != nil || len(fixes) != 1 {
		return nil, nil, false, err
	}
	fix := fixes[0]
	day, err := s.currentDay(ctx, tenant, r.ID, date, true)
	if errors.Is(err, kpi.ErrCorrupt) {
		return nil, nil, false, nil // derived instead; the refresher logs a corrupt summary
	}
	if err != nil || day == nil {
		return nil, nil, false, err
	}
	again, err := s.store.LastFixTime(ctx, tenant, r.ID)
	if err != nil || !again.Equal(at) {
		return nil, nil, false, err
	}
	if fix.Mock || !keptLast(day, at) {
		return nil, nil, false, nil
	}
	return day, &fix, true, nil
}

// keptLast reports whether the derivation of d kept a fix at t, the time
// of the rep's latest fix of the day, which is then the day's last fix
// (timeline.Day.LastFix), from what a stored summary holds: t is not in a
// PAUSED or OFF_HOURS segment and a segment of another kind ends at t
// (or, for a day with no segment, the day's observed span ends at t). The
// segments cover the observed span, which ends at the last fix kept; a
// tracked segment ends after it only at a pause or a break that begins
// there, and a fix at that instant is paused, or in the break. So with t
// the latest fix's time, a segment ending at t means that fix was kept. It
// may answer false for a fix kept (one that ends a break), which only
// costs a derivation.
func keptLast(d *timeline.Day, t time.Time) bool {
	if len(d.Segments) == 0 {
		return !d.End.IsZero() && d.End.Equal(t)
	}
	ends := false
	for _, sg := range d.Segments {
		if sg.Kind == timeline.KindPaused || sg.Kind == timeline.KindOffHours {
			if !t.Before(sg.Start) && t.Before(sg.End) {
				return false
			}
			continue
		}
		ends = ends || sg.End.Equal(t)
	}
	return ends
}

// repStatusOf is the status of rep r at now, given the segments of its
// local today date and the latest fix the day may show (nil if none).
func repStatusOf(r dwell.Rep, loc *time.Location, date dwell.Date, segs []timeline.Segment, fix *dwell.Fix, settings dwell.Settings, now time.Time) *dwellv1.RepStatus {
	st := &dwellv1.RepStatus{Rep: resourceName(collReps, string(r.ID)), Date: dateToPB(date), TimeZone: r.TimeZone}
	var last timeline.Segment
	if len(segs) > 0 {
		last = segs[len(segs)-1]
	}
	if fix != nil {
		st.LastFixTime = tsOrNil(fix.Time)
		// A day that ends paused (paused now, or resumed with no fix
		// since) shows no position: the last one is where the rep paused.
		if last.Kind != timeline.KindPaused {
			st.LastFixLocation = latLngToPB(fix.Pos)
			st.LastFixAccuracyMeters = fix.AccuracyM
		}
	}
	switch {
	case !r.InWorkingHours(now, loc):
		st.State = dwellv1.RepState_REP_STATE_OUTSIDE_WORKING_HOURS
		st.SinceTime = tsOrNil(lastWorkingEnd(r, loc, now))
		return st
	case len(segs) == 0 && fix == nil:
		st.State = dwellv1.RepState_REP_STATE_NO_DATA
		since, _, ws := dayBounds(r, date, loc)
		if len(ws) > 0 {
			since = ws[0].Start
		}
		st.SinceTime = tsOrNil(since)
		return st
	case last.Kind == timeline.KindPaused && !last.End.Before(now):
		st.State = dwellv1.RepState_REP_STATE_PAUSED
		st.Kind = dwellv1.SegmentKind_SEGMENT_KIND_PAUSED
		st.SinceTime = tsOrNil(arrived(segs)) // a pause across a break began before it
		return st
	}
	// The rep was last heard of where its day's last segment ends, or at
	// the last fix kept when that is later, as the silence sweeper times
	// it (trackedUntil): a fix alone makes no segment, so one fix after a
	// resume leaves the day ending in its PAUSED segment. A day of one fix
	// kept so far has no segment at all: the rep is tracked, heard of at
	// that fix, doing nothing known yet (kind unspecified, since the fix).
	var heard time.Time
	if len(segs) == 0 {
		heard = fix.Time
		st.SinceTime = tsOrNil(fix.Time)
	} else {
		st.Kind, st.SinceTime = segmentKindToPB(last.Kind), tsOrNil(arrived(segs))
		heard = last.End
		if fix != nil && fix.Time.After(heard) {
			heard = fix.Time
		}
	}
	if last.Kind == timeline.KindPaused {
		// Resumed, and no fix since: nothing is known after the resume.
		st.Kind, st.SinceTime = dwellv1.SegmentKind_SEGMENT_KIND_GAP, tsOrNil(last.End)
	}
	if last.Kind == timeline.KindVisit {
		st.Client = resourceName(collClients, string(last.Client))
	}
	threshold := settings.SilenceMin
	if threshold <= 0 {
		threshold = dwell.DefaultSilenceMin
	}
	st.State = dwellv1.RepState_REP_STATE_TRACKING
	if at := afterWorking(r, loc, heard, threshold); !at.IsZero() && !at.After(now) {
		st.State = dwellv1.RepState_REP_STATE_SILENT
	}
	return st
}

// arrived returns the start of the last of segs, or, for a visit or idle
// stop that ran across a split shift's break (VISIT, OFF_HOURS, VISIT of
// one client; IDLE, OFF_HOURS, IDLE at one place) or a pause across one
// (PAUSED, OFF_HOURS, PAUSED), the start of its part before the break:
// the instant the rep arrived, or paused.
func arrived(segs []timeline.Segment) time.Time {
	n := len(segs) - 1
	last := segs[n]
	for (last.Kind == timeline.KindVisit || last.Kind == timeline.KindIdle || last.Kind == timeline.KindPaused) && timeline.AfterBreak(segs, n) {
		n -= 2
	}
	return segs[n].Start
}

// lastWorkingEnd returns the latest instant at or before t at which r's
// working hours ended (a window's end not followed at once by another
// window), within the 8 days before t, or the zero time if there is none.
// Windows are dwell.Rep.WorkingWindows, as ingest reads them.
func lastWorkingEnd(r dwell.Rep, loc *time.Location, t time.Time) time.Time {
	today := dwell.DateOf(t, loc)
	for back := 0; back <= 8; back++ {
		var best time.Time
		for _, w := range r.WorkingWindows(today.AddDays(-back), loc) {
			if w.End.After(t) || r.InWorkingHours(w.End, loc) {
				continue
			}
			if w.End.After(best) {
				best = w.End
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return time.Time{}
}
