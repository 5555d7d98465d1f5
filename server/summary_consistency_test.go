// Tests that GetRepDay, GetTimeBreakdown, GetKpis and ListVisits tell one
// story of a day: after directory and settings changes, with a pause not
// yet resumed, across a change of zone at the edge of the re-derivation
// window, and through ListVisits' pages.
package server_test

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// consistencySetup: UTC rep ida, client "site" at the feed site, ida's hour there on
// 2026-11-20 (07:00-08:00 UTC), summaries refreshed.
func consistencySetup(t *testing.T) *env {
	e := newEnv(t)
	createIda(t, e)
	e.mustCreateClient(e.admin(acme), "site", feedLat, feedLng, 50)
	stayDay(t, e)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

func consistencyCounts(t *testing.T, e *env, d *dwellv1.Date) (repDay, listed int, bd int64) {
	t.Helper()
	admin := e.admin(acme)
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatalf("GetRepDay: %v", err)
	}
	lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
	if err != nil {
		t.Fatalf("ListVisits: %v", err)
	}
	b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: d, EndDate: d})
	if err != nil {
		t.Fatalf("GetTimeBreakdown: %v", err)
	}
	return len(rd.GetVisits()), len(lv.GetVisits()), b.GetTotal().GetVisitProspectSeconds()
}

func TestZoneChangeOldDay(t *testing.T) {
	e := consistencySetup(t)
	d := pbDate(2026, 11, 20)
	a, b, c := consistencyCounts(t, e, d)
	t.Logf("before: GetRepDay %d visits, ListVisits %d, breakdown visit s %d", a, b, c)
	e.advance(40 * 24 * time.Hour)
	if _, err := e.dirc.UpdateRep(e.admin(acme), &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", TimeZone: "America/Los_Angeles"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"time_zone"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, dd := range []*dwellv1.Date{pbDate(2026, 11, 19), d} {
		a, b, c := consistencyCounts(t, e, dd)
		t.Logf("after zone change, %v: GetRepDay %d visits, ListVisits %d, breakdown visit s %d", dd, a, b, c)
		if a != b {
			t.Errorf("day %v: GetRepDay has %d visits, ListVisits %d", dd, a, b)
		}
	}
}

func TestSettingsChangeOldDay(t *testing.T) {
	e := consistencySetup(t)
	d := pbDate(2026, 11, 20)
	e.advance(40 * 24 * time.Hour)
	if _, err := e.dirc.UpdateSettings(e.admin(acme), &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{VisitMinSeconds: 7200},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"visit_min_seconds"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, b, c := consistencyCounts(t, e, d)
	t.Logf("after visit_min=7200: GetRepDay %d visits, ListVisits %d, breakdown visit s %d", a, b, c)
	if a != b {
		t.Errorf("GetRepDay has %d visits, ListVisits %d", a, b)
	}
}

// TestDeleteClient checks what directory.proto's DeleteClient says: the
// days the deletion derives again (the last 35) lose their visits to the
// client, found from fixes at its fence or claimed by a check-in, in every
// report alike, and older days keep what they were derived with.
func TestDeleteClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		checkIn bool
		age     time.Duration
		want    int
	}{
		{"recent, fixes alone", false, 0, 0},
		{"recent, checked in", true, 0, 0},
		{"older than 35 days", false, 40 * 24 * time.Hour, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := consistencySetup(t)
			d := pbDate(2026, 11, 20)
			if tc.checkIn {
				at := time.Date(2026, 11, 20, 7, 5, 0, 0, time.UTC)
				if _, err := e.ingest.CheckIn(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.CheckInRequest{RequestId: "ci", Client: "clients/site", CheckInTime: timestamppb.New(at),
					Fix: &dwellv1.Fix{Id: "ci-fix", Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng}, AccuracyMeters: 10, DeviceTime: timestamppb.New(at)}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if a, b, _ := consistencyCounts(t, e, d); a != 1 || b != 1 {
				t.Fatalf("before: GetRepDay %d visits, ListVisits %d, want 1", a, b)
			}
			e.advance(tc.age)
			if _, err := e.dirc.DeleteClient(e.admin(acme), &dwellv1.DeleteClientRequest{Name: "clients/site"}); err != nil {
				t.Fatal(err)
			}
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			a, b, c := consistencyCounts(t, e, d)
			t.Logf("after DeleteClient: GetRepDay %d visits, ListVisits %d, breakdown visit s %d", a, b, c)
			if a != tc.want || b != tc.want || (c > 0) != (tc.want > 0) {
				t.Errorf("after DeleteClient: GetRepDay %d visits, ListVisits %d, breakdown visit s %d; want %d visits", a, b, c, tc.want)
			}
		})
	}
}

func TestOpenPauseTodayReports(t *testing.T) {
	e := consistencySetup(t) // clock 2026-11-20 10:00 UTC, ida UTC, stay 07:00-08:00
	e.pause("ida", "p1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	d := pbDate(2026, 11, 20)
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: d, EndDate: d})
	if err != nil {
		t.Fatal(err)
	}
	last := rd.GetSegments()[len(rd.GetSegments())-1]
	t.Logf("now %v; GetRepDay last segment %v %v-%v; paused_seconds GetRepDay=%d breakdown=%d",
		e.now(), last.GetKind(), last.GetStartTime().AsTime(), last.GetEndTime().AsTime(), rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds())
	if rd.GetTotals().GetPausedSeconds() != b.GetTotal().GetPausedSeconds() {
		t.Errorf("paused seconds of today: GetRepDay %d, GetTimeBreakdown %d (now is 10:00, pause at 09:00)", rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds())
	}
}

func TestOpenPauseInVisit(t *testing.T) {
	e := consistencySetup(t)
	e.pause("ida", "p1", time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC))
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	d := pbDate(2026, 11, 20)
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
	if err != nil {
		t.Fatal(err)
	}
	lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rd.GetVisits() {
		t.Logf("GetRepDay visit %v-%v paused %d", v.GetStartTime().AsTime(), v.GetEndTime().AsTime(), v.GetPausedSeconds())
	}
	for _, v := range lv.GetVisits() {
		t.Logf("ListVisits visit %v-%v paused %d", v.GetStartTime().AsTime(), v.GetEndTime().AsTime(), v.GetPausedSeconds())
	}
	if len(rd.GetVisits()) != len(lv.GetVisits()) {
		t.Fatalf("GetRepDay %d visits, ListVisits %d", len(rd.GetVisits()), len(lv.GetVisits()))
	}
	for i := range lv.GetVisits() {
		if !rd.GetVisits()[i].GetEndTime().AsTime().Equal(lv.GetVisits()[i].GetEndTime().AsTime()) {
			t.Errorf("visit end: GetRepDay %v, ListVisits %v", rd.GetVisits()[i].GetEndTime().AsTime(), lv.GetVisits()[i].GetEndTime().AsTime())
		}
	}
}

func TestKpisVsBreakdown(t *testing.T) {
	e := consistencySetup(t)
	admin := e.admin(acme)
	for _, r := range [][2]*dwellv1.Date{{pbDate(2026, 11, 20), pbDate(2026, 11, 20)}, {pbDate(2026, 11, 21), pbDate(2026, 11, 21)}, {pbDate(2026, 11, 1), pbDate(2026, 11, 30)}, {pbDate(2026, 11, 19), pbDate(2026, 11, 19)}} {
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: r[0], EndDate: r[1]})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: r[0], EndDate: r[1]})
		if err != nil {
			t.Fatal(err)
		}
		lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: r[0], EndDate: r[1]})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v..%v: kpi prospect s %d basis %v idle %d; breakdown visit %d idle %d rows %d; visits %d", r[0], r[1], k.GetVisitTime().GetProspectSeconds(), k.GetVisitTime().GetBasis(), k.GetIdle().GetIdleSeconds(),
			b.GetTotal().GetVisitProspectSeconds(), b.GetTotal().GetIdleSeconds(), len(b.GetRows()), len(lv.GetVisits()))
		if k.GetVisitTime().GetProspectSeconds() != b.GetTotal().GetVisitProspectSeconds() || k.GetIdle().GetIdleSeconds() != b.GetTotal().GetIdleSeconds() {
			t.Errorf("kpi vs breakdown differ")
		}
	}
}

// TestOpenPauseYesterday checks the day of a pause not resumed, once over,
// and the day after, which has no data: GetRepDay and the breakdown both
// hold the pause to the first day's end, and both count the second day
// paused until now (pausedDays).
func TestOpenPauseYesterday(t *testing.T) {
	e := newEnv(t)
	createIda(t, e)
	e.pause("ida", "p1", time.Date(2026, 11, 19, 20, 0, 0, 0, time.UTC))
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := e.admin(acme)
	for _, d := range []*dwellv1.Date{pbDate(2026, 11, 19), pbDate(2026, 11, 20)} {
		rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: d, EndDate: d})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: paused GetRepDay %d, breakdown %d", d, rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds())
		if want := map[int32]int64{19: 4 * 3600, 20: 10 * 3600}[d.GetDay()]; rd.GetTotals().GetPausedSeconds() != want || b.GetTotal().GetPausedSeconds() != want {
			t.Errorf("%v: paused GetRepDay %d s, breakdown %d s, want %d s", d, rd.GetTotals().GetPausedSeconds(), b.GetTotal().GetPausedSeconds(), want)
		}
	}
}

func TestZoneChangeBoundaryDuplicate(t *testing.T) {
	e := newEnv(t)
	createIda(t, e)
	admin := e.admin(acme)
	e.mustCreateClient(admin, "site", feedLat, feedLng, 50)
	site := dwell.LatLng{Lat: feedLat, Lng: feedLng}
	away := dwell.LatLng{Lat: feedLat, Lng: feedLng + 0.054}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 19, h, m, 0, 0, time.UTC) }
	var fs []dwell.Fix
	fs = append(fs, driveFixes("a", site, at(19, 50), at(20, 0))...)
	fs = append(fs, stillFixes("b", site, at(20, 0), at(21, 0))...)
	fs = append(fs, driveFixes("c", away, at(21, 0).Add(30*time.Second), at(21, 10))...)
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), fs)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.advance(36 * 24 * time.Hour) // now 2026-12-26 10:00 UTC; re-derivation reaches back to 2026-11-20
	admin = e.admin(acme)
	if _, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", TimeZone: "Asia/Tokyo"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"time_zone"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	from, to := pbDate(2026, 11, 19), pbDate(2026, 11, 20)
	lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: from, EndDate: to})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range lv.GetVisits() {
		t.Logf("ListVisits: %v %v..%v date %v", v.GetClient(), v.GetStartTime().AsTime(), v.GetEndTime().AsTime(), v.GetDate())
	}
	var paged int
	req := &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: from, EndDate: to, PageSize: 1}
	for {
		r, err := e.report.ListVisits(admin, req)
		if err != nil {
			t.Fatal(err)
		}
		paged += len(r.GetVisits())
		if req.PageToken = r.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	b, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: from, EndDate: to, Grouping: dwellv1.Grouping_GROUPING_DAY})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b.GetRows() {
		t.Logf("breakdown %v: visit s %d", r.GetDate(), r.GetTotals().GetVisitProspectSeconds())
	}
	var rd int
	for _, d := range []*dwellv1.Date{from, to} {
		r, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
		if err != nil {
			t.Fatal(err)
		}
		rd += len(r.GetVisits())
		t.Logf("GetRepDay %v: %d visits, tz %s, past %v", d, len(r.GetVisits()), r.GetTimeZone(), r.GetPastRetention())
	}
	t.Logf("ListVisits %d visits in one page, %d with page_size 1; GetRepDay %d; breakdown visit s %d", len(lv.GetVisits()), paged, rd, b.GetTotal().GetVisitProspectSeconds())
	if len(lv.GetVisits()) != 1 {
		t.Errorf("one hour at one client listed as %d visits", len(lv.GetVisits()))
	}
	if paged != len(lv.GetVisits()) {
		t.Errorf("paging with page_size 1 lists %d, one page %d", paged, len(lv.GetVisits()))
	}
}

func TestZoneChangeRecentDay(t *testing.T) {
	e := consistencySetup(t) // ida UTC, one hour at the site 2026-11-20 07:00-08:00 UTC; now 2026-11-20 10:00 UTC
	if _, err := e.dirc.UpdateRep(e.admin(acme), &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", TimeZone: "America/Los_Angeles"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"time_zone"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, dd := range []*dwellv1.Date{pbDate(2026, 11, 19), pbDate(2026, 11, 20)} {
		a, b, c := consistencyCounts(t, e, dd)
		t.Logf("after zone change UTC->Los Angeles, %v: GetRepDay %d visits, ListVisits %d, breakdown visit s %d", dd, a, b, c)
		if a != b {
			t.Errorf("day %v: GetRepDay has %d visits, ListVisits %d", dd, a, b)
		}
	}
}

// TestOpenPauseFuture checks that a day not begun yet is empty, not
// paused, though a pause made before holds still.
func TestOpenPauseFuture(t *testing.T) {
	e := newEnv(t)
	createIda(t, e)
	e.pause("ida", "p1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	for _, d := range []*dwellv1.Date{pbDate(2026, 11, 21), pbDate(2027, 3, 1)} {
		rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: d})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("now %v; GetRepDay %v: paused %d s, segments %d", e.now(), d, rd.GetTotals().GetPausedSeconds(), len(rd.GetSegments()))
		if rd.GetTotals().GetPausedSeconds() != 0 || len(rd.GetSegments()) != 0 {
			t.Errorf("%v, not begun: paused %d s, %d segments; want an empty day", d, rd.GetTotals().GetPausedSeconds(), len(rd.GetSegments()))
		}
	}
	st, err := e.report.ListRepStatuses(e.admin(acme), &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/ida"}})
	t.Logf("status %v %v", st.GetRepStatuses(), err)
}

// TestVisitsPageKeyUnique checks that ListVisits pages name each visit
// apart. After a change of zone to one ahead, the instants between the
// start of the first day derived again in the new zone, as the old zone
// cuts it (markRep marks that day too), and its own start fall in a day
// derived in the new zone and in a day kept in the old one, so one hour at
// one client is two stored visits with one start and rep, on two dates.
// With page_size 1 both are listed, as in one page.
func TestVisitsPageKeyUnique(t *testing.T) {
	e := newEnv(t)
	createIda(t, e)
	admin := e.admin(acme)
	e.mustCreateClient(admin, "site", feedLat, feedLng, 50)
	site := dwell.LatLng{Lat: feedLat, Lng: feedLng}
	away := dwell.LatLng{Lat: feedLat, Lng: feedLng + 0.054}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 18, h, m, 0, 0, time.UTC) }
	var fs []dwell.Fix
	fs = append(fs, driveFixes("a", site, at(19, 50), at(20, 0))...)
	fs = append(fs, stillFixes("b", site, at(20, 0), at(21, 0))...)
	fs = append(fs, driveFixes("c", away, at(21, 0).Add(30*time.Second), at(21, 10))...)
	// Data on 2026-11-19 (UTC), so that day has a data version.
	fs = append(fs, stillFixes("d", away, at(21, 10).Add(14*time.Hour), at(21, 40).Add(14*time.Hour))...)
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), fs)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.advance(36 * 24 * time.Hour) // re-derivation reaches back to 2026-11-20 (Tokyo), 2026-11-19 (UTC)
	admin = e.admin(acme)
	if _, err := e.dirc.UpdateRep(admin, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", TimeZone: "Asia/Tokyo"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"time_zone"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	from, to := pbDate(2026, 11, 18), pbDate(2026, 11, 20)
	one, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: from, EndDate: to})
	if err != nil {
		t.Fatal(err)
	}
	dates := map[int32]bool{}
	for _, v := range one.GetVisits() {
		t.Logf("ListVisits: %v %v..%v date %v", v.GetClient(), v.GetStartTime().AsTime(), v.GetEndTime().AsTime(), v.GetDate())
		dates[v.GetDate().GetDay()] = true
	}
	if len(one.GetVisits()) != 2 || len(dates) != 2 {
		t.Fatalf("want the hour in two stored days (the old zone's 11-18, Tokyo's 11-19), got %d visits on %d dates", len(one.GetVisits()), len(dates))
	}
	var paged []*dwellv1.Visit
	req := &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: from, EndDate: to, PageSize: 1}
	for range 10 {
		r, err := e.report.ListVisits(admin, req)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, r.GetVisits()...)
		if req.PageToken = r.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(paged) != len(one.GetVisits()) {
		t.Fatalf("page_size 1 lists %d visits, one page %d", len(paged), len(one.GetVisits()))
	}
	for i, v := range paged {
		if w := one.GetVisits()[i]; !v.GetStartTime().AsTime().Equal(w.GetStartTime().AsTime()) || v.GetDate().GetDay() != w.GetDate().GetDay() {
			t.Errorf("page %d: %v on %v, one page has %v on %v", i, v.GetStartTime().AsTime(), v.GetDate(), w.GetStartTime().AsTime(), w.GetDate())
		}
	}
	// A token is good only for the filter it was made for.
	req.PageToken = ""
	r, err := e.report.ListVisits(admin, req)
	if err != nil || r.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", r, err)
	}
	if _, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: from, EndDate: from, PageSize: 1, PageToken: r.GetNextPageToken()}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a token of another range: %v, want INVALID_ARGUMENT", err)
	}
}

// TestEraseAllReports checks that an erased rep's day is empty in every
// report, before and after a refresh.
func TestEraseAllReports(t *testing.T) {
	e := consistencySetup(t)
	d := pbDate(2026, 11, 20)
	a, b, c := consistencyCounts(t, e, d)
	t.Logf("before: %d %d %d", a, b, c)
	k, _ := e.report.GetKpis(e.admin(acme), &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
	t.Logf("kpi before %d", k.GetVisitTime().GetProspectSeconds())
	if _, err := e.dirc.EraseRepHistory(e.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/ida"}); err != nil {
		t.Fatal(err)
	}
	a, b, c = consistencyCounts(t, e, d)
	k, _ = e.report.GetKpis(e.admin(acme), &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: d, EndDate: d})
	t.Logf("after erase: GetRepDay %d ListVisits %d breakdown %d kpi %d", a, b, c, k.GetVisitTime().GetProspectSeconds())
	if a+b+int(c)+int(k.GetVisitTime().GetProspectSeconds()) != 0 {
		t.Error("erased data still reported")
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, b, c = consistencyCounts(t, e, d)
	t.Logf("after refresh: GetRepDay %d ListVisits %d breakdown %d", a, b, c)
	if a+b+int(c) != 0 {
		t.Error("erased data reported after a refresh")
	}
}

// TestReportEdgeDates checks the reports at the calendar's edges (years 1
// and 9999, leap days, reversed and long ranges): OK or INVALID_ARGUMENT,
// never another error; GetRepDay serves such old days from the store.
func TestReportEdgeDates(t *testing.T) {
	e := consistencySetup(t)
	admin := e.admin(acme)
	ranges := [][2]*dwellv1.Date{
		{pbDate(1, 1, 1), pbDate(1, 12, 31)},
		{pbDate(9999, 1, 1), pbDate(9999, 12, 31)},
		{pbDate(2028, 2, 29), pbDate(2029, 2, 28)},
		{pbDate(2027, 2, 29), pbDate(2027, 3, 1)},
		{pbDate(2026, 11, 21), pbDate(2026, 11, 20)},
		{pbDate(2025, 11, 20), pbDate(2026, 11, 21)},
		{pbDate(2025, 11, 20), pbDate(2026, 11, 22)},
	}
	for _, r := range ranges {
		_, e1 := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: r[0], EndDate: r[1], Grouping: dwellv1.Grouping_GROUPING_DAY})
		_, e2 := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: r[0], EndDate: r[1]})
		_, e3 := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{StartDate: r[0], EndDate: r[1]})
		_, e4 := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: r[0]})
		_, e5 := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: r[1]})
		t.Logf("%v..%v: breakdown %v | kpis %v | visits %v | day %v | day %v", r[0], r[1], status.Code(e1), status.Code(e2), status.Code(e3), status.Code(e4), status.Code(e5))
		for _, err := range []error{e1, e2, e3, e4, e5} {
			if c := status.Code(err); c != codes.OK && c != codes.InvalidArgument {
				t.Errorf("%v..%v: %v", r[0], r[1], err)
			}
		}
	}
}
