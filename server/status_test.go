package server_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// The test env's clock reads 2026-11-20 10:00 UTC: 17:00 on a Friday in
// Jakarta, the reps' zone. Every status below is of that instant.

// statusPlace is where the status tests' reps stop: B is no client's site;
// the shop is a client's.
var (
	statusB    = dwell.LatLng{Lat: -6.2100, Lng: 106.8200}
	statusShop = dwell.LatLng{Lat: -6.2000, Lng: 106.8000}
)

// jakartaAt returns hh:mm:ss on the test's day (2026-11-20) in Jakarta.
func jakartaAt(t testing.TB, hh, mm, ss int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2026, 11, 20, hh, mm, ss, 0, loc)
}

// stillFixes returns a fix every 30 s in [from, to] at p, with a metre of
// deterministic jitter, 10 m accuracy and speed 0.
func stillFixes(prefix string, p dwell.LatLng, from, to time.Time) []dwell.Fix {
	var out []dwell.Fix
	for i, at := 0, from; !at.After(to); i, at = i+1, at.Add(30*time.Second) {
		q := dwell.LatLng{Lat: p.Lat + 1e-5*math.Sin(float64(i)), Lng: p.Lng + 1e-5*math.Cos(float64(i))}
		out = append(out, dwell.Fix{ID: fmt.Sprintf("%s-%04d", prefix, i), Time: at, Pos: q, AccuracyM: 10, SpeedMPS: 0, BearingDeg: -1})
	}
	return out
}

// driveFixes returns a fix every 30 s in [from, to) of a drive due east at
// 10 m/s that reaches p at to.
func driveFixes(prefix string, p dwell.LatLng, from, to time.Time) []dwell.Fix {
	const speed = 10.0
	mPerDegLng := 111320 * math.Cos(p.Lat*math.Pi/180)
	var out []dwell.Fix
	for i, at := 0, from; at.Before(to); i, at = i+1, at.Add(30*time.Second) {
		left := to.Sub(at).Seconds() * speed
		q := dwell.LatLng{Lat: p.Lat, Lng: p.Lng - left/mPerDegLng}
		out = append(out, dwell.Fix{ID: fmt.Sprintf("%s-%04d", prefix, i), Time: at, Pos: q, AccuracyM: 10, SpeedMPS: speed, BearingDeg: 90})
	}
	return out
}

// upload sends fixes as rep's phone, in batches of at most 1,000.
func (e *env) upload(t testing.TB, rep context.Context, fixes []dwell.Fix) {
	t.Helper()
	for len(fixes) > 0 {
		n := min(len(fixes), 1000)
		req := &dwellv1.UploadPingsRequest{}
		for _, f := range fixes[:n] {
			req.Fixes = append(req.Fixes, pbFix(f))
		}
		resp, err := e.ingest.UploadPings(rep, req)
		if err != nil {
			t.Fatalf("UploadPings: %v", err)
		}
		if resp.GetAck().GetRejected() > 0 {
			t.Fatalf("UploadPings rejected %d fixes: %v", resp.GetAck().GetRejected(), resp.GetAck().GetResults())
		}
		fixes = fixes[n:]
	}
}

// statusFixture is a tenant of reps in every state: team north (managed
// by mgr-1) holds one rep per state, team south (mgr-2) one more.
type statusFixture struct {
	e              *env
	admin          context.Context
	north, allReps []string
}

func newStatusFixture(t *testing.T) *statusFixture {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north", "mgr-1")
	e.mustCreateTeam(admin, "south", "mgr-2")
	e.mustCreateClient(admin, "shop", statusShop.Lat, statusShop.Lng, 50)
	f := &statusFixture{e: e, admin: admin}
	for _, id := range []string{"idle", "visit", "travel", "paused", "resumed", "silent", "nodata", "mocked"} {
		e.mustCreateRep(admin, id, "north")
		f.north = append(f.north, "reps/"+id)
	}
	// Working hours on Fridays 08:00-12:00 and 13:00-16:00.
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "offhours", Rep: &dwellv1.Rep{
		DisplayName: "Rep offhours", TimeZone: "Asia/Jakarta", Team: "teams/north",
		WorkingHours: []*dwellv1.WorkingHours{
			{DayOfWeek: int32(time.Friday), StartMinute: 8 * 60, EndMinute: 12 * 60},
			{DayOfWeek: int32(time.Friday), StartMinute: 13 * 60, EndMinute: 16 * 60},
		}}}); err != nil {
		t.Fatal(err)
	}
	f.north = append(f.north, "reps/offhours")
	e.mustCreateRep(admin, "other", "south")
	slices.Sort(f.north)
	f.allReps = append(slices.Clone(f.north), "reps/other")
	slices.Sort(f.allReps)

	at := func(hh, mm, ss int) time.Time { return jakartaAt(t, hh, mm, ss) }
	phone := func(id string) context.Context { return e.as(acme, dwell.RoleRep, id) }
	// idle: drives to B, arriving at 16:20, and stays there.
	e.upload(t, phone("idle"), append(driveFixes("d", statusB, at(16, 0, 0), at(16, 20, 0)), stillFixes("s", statusB, at(16, 20, 0), at(16, 59, 30))...))
	// visit: drives to the shop, arriving at 16:20, and stays there.
	e.upload(t, phone("visit"), append(driveFixes("d", statusShop, at(16, 0, 0), at(16, 20, 0)), stillFixes("s", statusShop, at(16, 20, 0), at(16, 59, 30))...))
	// travel: drives from 16:00 on.
	e.upload(t, phone("travel"), driveFixes("d", statusB, at(16, 0, 0), at(17, 0, 0)))
	// paused: at B from 16:00 to 16:30, pauses at 16:40 and has not
	// resumed.
	e.upload(t, phone("paused"), stillFixes("s", statusB, at(16, 0, 0), at(16, 30, 0)))
	if _, err := e.ingest.PauseTracking(phone("paused"), &dwellv1.PauseTrackingRequest{RequestId: "p1", PauseTime: timestamppb.New(at(16, 40, 0))}); err != nil {
		t.Fatal(err)
	}
	// resumed: at B until 16:39:30, paused from 16:40 to 16:50 with a fix
	// sent anyway at 16:45 from the shop, no fix since the resume.
	e.upload(t, phone("resumed"), append(stillFixes("s", statusB, at(16, 0, 0), at(16, 39, 30)),
		dwell.Fix{ID: "secret", Time: at(16, 45, 0), Pos: statusShop, AccuracyM: 10, SpeedMPS: 0, BearingDeg: -1}))
	if _, err := e.ingest.PauseTracking(phone("resumed"), &dwellv1.PauseTrackingRequest{RequestId: "p1", PauseTime: timestamppb.New(at(16, 40, 0))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.ResumeTracking(phone("resumed"), &dwellv1.ResumeTrackingRequest{RequestId: "r1", ResumeTime: timestamppb.New(at(16, 50, 0))}); err != nil {
		t.Fatal(err)
	}
	// silent: at B from 15:00 to 15:30, then nothing (the silence
	// threshold is 30 min).
	e.upload(t, phone("silent"), stillFixes("s", statusB, at(15, 0, 0), at(15, 30, 0)))
	// offhours: at B from 15:00 until 15:59:30; its hours ended at 16:00.
	e.upload(t, phone("offhours"), stillFixes("s", statusB, at(15, 0, 0), at(15, 59, 30)))
	// mocked: at B from 16:00 until 16:59:30, then a mock fix at the shop.
	e.upload(t, phone("mocked"), append(stillFixes("s", statusB, at(16, 0, 0), at(16, 59, 30)),
		dwell.Fix{ID: "mock", Time: at(16, 59, 45), Pos: statusShop, AccuracyM: 5, SpeedMPS: 0, BearingDeg: -1, Mock: true}))
	// other (team south): at B from 16:00.
	e.upload(t, phone("other"), stillFixes("s", statusB, at(16, 0, 0), at(16, 59, 30)))
	return f
}

// statuses lists every page of ListRepStatuses with req (page_size as
// given) and returns the statuses by rep, with the pages' as_of_time.
func (f *statusFixture) statuses(t *testing.T, ctx context.Context, req *dwellv1.ListRepStatusesRequest) ([]*dwellv1.RepStatus, time.Time) {
	t.Helper()
	var out []*dwellv1.RepStatus
	var asOf time.Time
	for page := 0; ; page++ {
		resp, err := f.e.report.ListRepStatuses(ctx, req)
		if err != nil {
			t.Fatalf("ListRepStatuses(%v), page %d: %v", req, page, err)
		}
		asOf = resp.GetAsOfTime().AsTime()
		out = append(out, resp.GetRepStatuses()...)
		if resp.GetNextPageToken() == "" {
			return out, asOf
		}
		if page > 100 {
			t.Fatal("ListRepStatuses: no last page")
		}
		req = proto.CloneOf(req)
		req.PageToken = resp.GetNextPageToken()
	}
}

func repsOf(ss []*dwellv1.RepStatus) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.GetRep())
	}
	return out
}

// TestListRepStatuses reads each state over the real API: each rep's
// status is the last segment of GetRepDay's day at the same instant, with
// what the state adds (silence, working hours, no data), and a paused
// rep's position is never shown.
func TestListRepStatuses(t *testing.T) {
	f := newStatusFixture(t)
	e := f.e
	mgr := e.as(acme, dwell.RoleManager, "mgr-1")
	got, asOf := f.statuses(t, mgr, &dwellv1.ListRepStatusesRequest{Team: "teams/north"})
	if !asOf.Equal(e.now()) {
		t.Errorf("as_of_time = %v, want the server's clock %v", asOf, e.now())
	}
	if !slices.Equal(repsOf(got), f.north) {
		t.Fatalf("team north: reps %v, want %v", repsOf(got), f.north)
	}
	by := map[string]*dwellv1.RepStatus{}
	for _, s := range got {
		by[s.GetRep()] = s
		if s.GetTimeZone() != "Asia/Jakarta" || s.GetDate().GetYear() != 2026 || s.GetDate().GetMonth() != 11 || s.GetDate().GetDay() != 20 {
			t.Errorf("%s: day %v in %q, want 2026-11-20 in Asia/Jakarta", s.GetRep(), s.GetDate(), s.GetTimeZone())
		}
	}
	at := func(hh, mm, ss int) time.Time { return jakartaAt(t, hh, mm, ss) }
	today := &dwellv1.Date{Year: 2026, Month: 11, Day: 20}
	// lastSegment is the last segment GetRepDay gives now.
	lastSegment := func(rep string) *dwellv1.Segment {
		t.Helper()
		day, err := e.report.GetRepDay(f.admin, &dwellv1.GetRepDayRequest{Rep: rep, Date: today})
		if err != nil {
			t.Fatalf("GetRepDay(%s): %v", rep, err)
		}
		segs := day.GetSegments()
		if len(segs) == 0 {
			t.Fatalf("GetRepDay(%s): no segments", rep)
		}
		return segs[len(segs)-1]
	}
	near := func(what string, got, want time.Time, tol time.Duration) {
		t.Helper()
		if d := got.Sub(want); d < -tol || d > tol {
			t.Errorf("%s = %v, want %v ± %v", what, got, want, tol)
		}
	}
	wantPosition := func(s *dwellv1.RepStatus, p dwell.LatLng) {
		t.Helper()
		l := s.GetLastFixLocation()
		if l == nil || math.Abs(l.GetLat()-p.Lat) > 1e-4 || math.Abs(l.GetLng()-p.Lng) > 1e-4 || s.GetLastFixAccuracyMeters() != 10 {
			t.Errorf("%s: last fix at %v (±%v m), want near %v (±10 m)", s.GetRep(), l, s.GetLastFixAccuracyMeters(), p)
		}
	}
	// The tracked states agree with GetRepDay's last segment.
	drive := driveFixes("d", statusB, at(16, 0, 0), at(17, 0, 0)) // the travelling rep's
	for _, c := range []struct {
		rep    string
		kind   dwellv1.SegmentKind
		client string
		since  time.Time
		at     dwell.LatLng
	}{
		{"reps/idle", dwellv1.SegmentKind_SEGMENT_KIND_IDLE, "", at(16, 20, 0), statusB},
		{"reps/visit", dwellv1.SegmentKind_SEGMENT_KIND_VISIT, "clients/shop", at(16, 20, 0), statusShop},
		{"reps/travel", dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL, "", at(16, 0, 0), drive[len(drive)-1].Pos},
	} {
		s := by[c.rep]
		if s.GetState() != dwellv1.RepState_REP_STATE_TRACKING || s.GetKind() != c.kind || s.GetClient() != c.client {
			t.Errorf("%s: %v %v %q, want TRACKING %v %q", c.rep, s.GetState(), s.GetKind(), s.GetClient(), c.kind, c.client)
		}
		seg := lastSegment(c.rep)
		if seg.GetKind() != s.GetKind() || !seg.GetStartTime().AsTime().Equal(s.GetSinceTime().AsTime()) || seg.GetClient() != s.GetClient() {
			t.Errorf("%s: status %v since %v %q, GetRepDay's last segment %v from %v %q", c.rep, s.GetKind(), s.GetSinceTime().AsTime(), s.GetClient(),
				seg.GetKind(), seg.GetStartTime().AsTime(), seg.GetClient())
		}
		near(c.rep+" since_time", s.GetSinceTime().AsTime(), c.since, time.Minute)
		near(c.rep+" last_fix_time", s.GetLastFixTime().AsTime(), at(16, 59, 30), 30*time.Second)
		wantPosition(s, c.at)
	}

	// A mock fix is never the last position.
	m := by["reps/mocked"]
	if m.GetState() != dwellv1.RepState_REP_STATE_TRACKING || m.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_IDLE {
		t.Errorf("mocked: %v %v, want TRACKING IDLE", m.GetState(), m.GetKind())
	}
	near("mocked last_fix_time", m.GetLastFixTime().AsTime(), at(16, 59, 30), 0)
	wantPosition(m, statusB)

	// Paused now: since the pause, no position, and the last fix's time.
	p := by["reps/paused"]
	if p.GetState() != dwellv1.RepState_REP_STATE_PAUSED || p.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_PAUSED || !p.GetSinceTime().AsTime().Equal(at(16, 40, 0)) {
		t.Errorf("paused: %v %v since %v, want PAUSED since %v", p.GetState(), p.GetKind(), p.GetSinceTime().AsTime(), at(16, 40, 0))
	}
	if p.GetLastFixLocation() != nil || p.GetLastFixAccuracyMeters() != 0 {
		t.Errorf("paused: position %v (±%v m) shown", p.GetLastFixLocation(), p.GetLastFixAccuracyMeters())
	}
	if !p.GetLastFixTime().AsTime().Equal(at(16, 30, 0)) {
		t.Errorf("paused: last_fix_time %v, want %v", p.GetLastFixTime().AsTime(), at(16, 30, 0))
	}
	// Resumed with no fix since: unknown since the resume; the fix sent
	// during the pause is not the last fix, and no position is shown.
	r := by["reps/resumed"]
	if r.GetState() != dwellv1.RepState_REP_STATE_TRACKING || r.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_GAP || !r.GetSinceTime().AsTime().Equal(at(16, 50, 0)) {
		t.Errorf("resumed: %v %v since %v, want TRACKING GAP since %v", r.GetState(), r.GetKind(), r.GetSinceTime().AsTime(), at(16, 50, 0))
	}
	if !r.GetLastFixTime().AsTime().Equal(at(16, 39, 30)) || r.GetLastFixLocation() != nil {
		t.Errorf("resumed: last fix %v at %v, want %v and no position", r.GetLastFixTime().AsTime(), r.GetLastFixLocation(), at(16, 39, 30))
	}
	// Silent: the last segment still, flagged.
	sl := by["reps/silent"]
	if sl.GetState() != dwellv1.RepState_REP_STATE_SILENT || sl.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_IDLE {
		t.Errorf("silent: %v %v, want SILENT IDLE", sl.GetState(), sl.GetKind())
	}
	if seg := lastSegment("reps/silent"); !seg.GetStartTime().AsTime().Equal(sl.GetSinceTime().AsTime()) {
		t.Errorf("silent: since %v, GetRepDay's last segment from %v", sl.GetSinceTime().AsTime(), seg.GetStartTime().AsTime())
	}
	near("silent last_fix_time", sl.GetLastFixTime().AsTime(), at(15, 30, 0), 0)
	wantPosition(sl, statusB)
	// Outside working hours since 16:00, with today's last fix.
	o := by["reps/offhours"]
	if o.GetState() != dwellv1.RepState_REP_STATE_OUTSIDE_WORKING_HOURS || o.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_UNSPECIFIED ||
		!o.GetSinceTime().AsTime().Equal(at(16, 0, 0)) {
		t.Errorf("offhours: %v %v since %v, want OUTSIDE_WORKING_HOURS since %v", o.GetState(), o.GetKind(), o.GetSinceTime().AsTime(), at(16, 0, 0))
	}
	near("offhours last_fix_time", o.GetLastFixTime().AsTime(), at(15, 59, 30), 0)
	// No data: since the local day's start.
	n := by["reps/nodata"]
	if n.GetState() != dwellv1.RepState_REP_STATE_NO_DATA || n.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_UNSPECIFIED ||
		!n.GetSinceTime().AsTime().Equal(at(0, 0, 0)) || n.GetLastFixTime() != nil || n.GetLastFixLocation() != nil {
		t.Errorf("nodata: %v %v since %v, last fix %v at %v; want NO_DATA since %v, no fix", n.GetState(), n.GetKind(),
			n.GetSinceTime().AsTime(), n.GetLastFixTime(), n.GetLastFixLocation(), at(0, 0, 0))
	}

	// The clock moves on: the idle rep, not heard of for the silence
	// threshold, turns silent; the rep outside its hours stays so.
	e.advance(31 * time.Minute)
	later, _ := f.statuses(t, mgr, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/idle", "reps/offhours"}})
	if len(later) != 2 || later[0].GetState() != dwellv1.RepState_REP_STATE_SILENT || later[1].GetState() != dwellv1.RepState_REP_STATE_OUTSIDE_WORKING_HOURS {
		t.Fatalf("31 min later: %v, want idle SILENT, offhours OUTSIDE_WORKING_HOURS", later)
	}
	if !later[0].GetSinceTime().AsTime().Equal(by["reps/idle"].GetSinceTime().AsTime()) {
		t.Errorf("idle, silent: since %v, want still %v", later[0].GetSinceTime().AsTime(), by["reps/idle"].GetSinceTime().AsTime())
	}
}

// TestListRepStatusesScope: with no filter each role gets its own scope;
// a manager naming another team's rep or team, and a rep naming another
// rep or a team, are denied.
func TestListRepStatusesScope(t *testing.T) {
	f := newStatusFixture(t)
	e := f.e
	mgr := e.as(acme, dwell.RoleManager, "mgr-1")
	for _, c := range []struct {
		who  string
		ctx  context.Context
		want []string
	}{
		{"admin", f.admin, f.allReps},
		{"partner", e.as(acme, dwell.RolePartner, "crm"), f.allReps},
		{"manager", mgr, f.north},
		{"manager of south", e.as(acme, dwell.RoleManager, "mgr-2"), []string{"reps/other"}},
		{"rep", e.as(acme, dwell.RoleRep, "idle"), []string{"reps/idle"}},
		{"manager of nothing", e.as(acme, dwell.RoleManager, "nobody"), nil},
		{"globex admin", e.admin(globex), nil},
	} {
		got, _ := f.statuses(t, c.ctx, &dwellv1.ListRepStatusesRequest{})
		if !slices.Equal(repsOf(got), c.want) {
			t.Errorf("%s: reps %v, want %v", c.who, repsOf(got), c.want)
		}
	}
	rep := e.as(acme, dwell.RoleRep, "idle")
	for _, c := range []struct {
		who string
		ctx context.Context
		req *dwellv1.ListRepStatusesRequest
	}{
		{"manager, another team's rep", mgr, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/idle", "reps/other"}}},
		{"manager, another team", mgr, &dwellv1.ListRepStatusesRequest{Team: "teams/south"}},
		{"manager, a missing rep", mgr, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/ghost"}}},
		{"rep, another rep", rep, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/visit"}}},
		{"rep, its team", rep, &dwellv1.ListRepStatusesRequest{Team: "teams/north"}},
	} {
		_, err := e.report.ListRepStatuses(c.ctx, c.req)
		wantCode(t, c.who, err, codes.PermissionDenied)
	}
	// A rep names itself; an admin names any rep.
	if got, _ := f.statuses(t, rep, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/idle"}}); !slices.Equal(repsOf(got), []string{"reps/idle"}) {
		t.Errorf("rep naming itself: %v", repsOf(got))
	}
	if got, _ := f.statuses(t, f.admin, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/other", "reps/idle"}}); !slices.Equal(repsOf(got), []string{"reps/idle", "reps/other"}) {
		t.Errorf("admin naming two reps: %v, want them in id order", repsOf(got))
	}
	_, err := e.report.ListRepStatuses(f.admin, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/ghost"}})
	wantCode(t, "admin, a missing rep", err, codes.NotFound)
}

// TestListRepStatusesPagination pages through a team three reps at a time
// and gets every rep once, in order; a token is bound to its filter.
func TestListRepStatusesPagination(t *testing.T) {
	f := newStatusFixture(t)
	e := f.e
	mgr := e.as(acme, dwell.RoleManager, "mgr-1")
	req := &dwellv1.ListRepStatusesRequest{Team: "teams/north", PageSize: 3}
	first, err := e.report.ListRepStatuses(mgr, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.GetRepStatuses()) != 3 || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %d statuses, token %q; want 3 and a token", len(first.GetRepStatuses()), first.GetNextPageToken())
	}
	all, _ := f.statuses(t, mgr, req)
	if !slices.Equal(repsOf(all), f.north) {
		t.Fatalf("pages of 3: %v, want %v", repsOf(all), f.north)
	}
	// The same reps from the manager's whole scope, a different filter:
	// the token does not carry over.
	_, err = e.report.ListRepStatuses(mgr, &dwellv1.ListRepStatusesRequest{PageSize: 3, PageToken: first.GetNextPageToken()})
	wantViolation(t, "token of another filter", err, "page_token")
	_, err = e.report.ListRepStatuses(f.admin, &dwellv1.ListRepStatusesRequest{Team: "teams/north", PageSize: 3, PageToken: "not-a-token"})
	wantViolation(t, "garbage token", err, "page_token")
	// Another tenant's token is refused too.
	_, err = e.report.ListRepStatuses(e.admin(globex), &dwellv1.ListRepStatusesRequest{Team: "teams/north", PageSize: 3, PageToken: first.GetNextPageToken()})
	wantViolation(t, "another tenant's token", err, "page_token")
}

// TestListRepStatusesBadRequests: bad filters are INVALID_ARGUMENT with a
// field violation on the field at fault.
func TestListRepStatusesBadRequests(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north", "mgr-1")
	e.mustCreateRep(admin, "a", "north")
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("reps/r%d", i)
	}
	for _, c := range []struct {
		name  string
		req   *dwellv1.ListRepStatusesRequest
		field string
	}{
		{"rep twice", &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/a", "reps/a"}}, "reps[1]"},
		{"reps and team", &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/a"}, Team: "teams/north"}, "team"},
		{"not a rep name", &dwellv1.ListRepStatusesRequest{Reps: []string{"clients/a"}}, "reps[0]"},
		{"not a team name", &dwellv1.ListRepStatusesRequest{Team: "north"}, "team"},
		{"too many reps", &dwellv1.ListRepStatusesRequest{Reps: many}, "reps"},
		{"negative page size", &dwellv1.ListRepStatusesRequest{Team: "teams/north", PageSize: -1}, "page_size"},
	} {
		_, err := e.report.ListRepStatuses(admin, c.req)
		wantViolation(t, c.name, err, c.field)
	}
}

// TestListRepStatusesStoredEqualsDerived: once the refresher has stored
// today's summaries, ListRepStatuses answers from them for the reps whose
// latest fix it may show, and those answers equal the derivation's; it
// derives the others (no fix, a latest fix taken while paused or mock).
func TestListRepStatusesStoredEqualsDerived(t *testing.T) {
	f := newStatusFixture(t)
	e := f.e
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	// reps/resumed's fix sent while paused was deleted by its resume, so
	// its latest fix may be shown and its summary serves.
	derivedOnly := map[string]bool{"reps/nodata": true, "reps/mocked": true}
	for _, name := range f.allReps {
		stored, ok, derived, err := server.RepStatusBothWays(t.Context(), e.srv, acme, dwell.RepID(name[len("reps/"):]), e.now())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ok == derivedOnly[name] {
			t.Errorf("%s: answered from the stored summary %v, want %v", name, ok, !derivedOnly[name])
		}
		if ok && !proto.Equal(stored, derived) {
			t.Errorf("%s: from the summary %v\nderived %v", name, stored, derived)
		}
	}
	// A summary that trails the data is not used: with the refresher
	// stopped (the gRPC server still serves), a new fix of the idle rep
	// leaves its summary stale, and the answer is the derivation's, which
	// has the fix.
	e.srv.Close()
	late := jakartaAt(t, 16, 59, 50)
	e.upload(t, e.as(acme, dwell.RoleRep, "idle"), stillFixes("late", statusB, late, late))
	stored, ok, derived, err := server.RepStatusBothWays(t.Context(), e.srv, acme, "idle", e.now())
	if err != nil || ok || !derived.GetLastFixTime().AsTime().Equal(late) {
		t.Fatalf("idle, summary stale: from the summary %v (%v), derived %v, %v; want derived only, last fix %v", stored, ok, derived, err, late)
	}
	got, _ := f.statuses(t, e.admin(acme), &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/idle"}})
	if len(got) != 1 || !proto.Equal(got[0], derived) {
		t.Fatalf("ListRepStatuses, summary stale: %v, want %v", got, derived)
	}
	// Later, the open pause of the stored summary (to the day's end) and
	// the derived one (to now) still read alike.
	e.advance(20 * time.Minute)
	stored, ok, derived, err = server.RepStatusBothWays(t.Context(), e.srv, acme, "paused", e.now())
	if err != nil || !ok || !proto.Equal(stored, derived) || stored.GetState() != dwellv1.RepState_REP_STATE_PAUSED {
		t.Fatalf("paused, 20 min later: stored %v (%v), derived %v, %v; want equal, PAUSED", stored, ok, derived, err)
	}
}
