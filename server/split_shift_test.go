package server_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestReportSplitShiftBreakIsOffHours: a rep whose Friday is a split shift
// of three windows, 06:00-07:00, 07:30-08:30 and 09:00-10:00, meets a
// prospect from 06:30 to 07:40, across the first break, and parks at a
// place with no client from 07:50 to 09:10, across the second. Ingest
// keeps no fix in the breaks, and the breaks are no field time: GetRepDay
// shows each as one OFF_HOURS segment and counts 50 min idle (07:50-08:30
// and 09:00-09:10), not the 80 min of the stop, and one visit of 40 min
// with 1,800 off-hours seconds; GetTimeBreakdown, GetKpis and ListVisits
// agree, before and after the refresher has stored the day.
func TestReportSplitShiftBreakIsOffHours(t *testing.T) {
	e := newEnv(t) // Friday 20 November 2026, 10:00 UTC
	admin := e.admin(acme)
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 60)
	friday := int32(time.Friday)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC",
		WorkingHours: []*dwellv1.WorkingHours{
			{DayOfWeek: friday, StartMinute: 6 * 60, EndMinute: 7 * 60},
			{DayOfWeek: friday, StartMinute: 7*60 + 30, EndMinute: 8*60 + 30},
			{DayOfWeek: friday, StartMinute: 9 * 60, EndMinute: 10 * 60},
		}}}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	breaks := [][2]time.Time{{at(7, 0), at(7, 30)}, {at(8, 30), at(9, 0)}}
	inBreak := func(t time.Time) bool {
		for _, b := range breaks {
			if !t.Before(b[0]) && t.Before(b[1]) {
				return true
			}
		}
		return false
	}
	// 0.027° of longitude is about 3 km here.
	const toko, park = 106.8, 106.827
	var fs []*dwellv1.Fix
	for t := at(6, 20); t.Before(at(9, 20)); t = t.Add(30 * time.Second) {
		lng := park + 0.027*float64(t.Sub(at(9, 10)))/float64(10*time.Minute) // leaving east
		switch {
		case inBreak(t): // what ingest refuses
			continue
		case t.Before(at(6, 30)): // arriving from 3 km west
			lng = toko - 0.027*float64(at(6, 30).Sub(t))/float64(10*time.Minute)
		case t.Before(at(7, 40)):
			lng = toko
		case t.Before(at(7, 50)): // driving to the parking place
			lng = toko + 0.027*float64(t.Sub(at(7, 40)))/float64(10*time.Minute)
		case t.Before(at(9, 10)):
			lng = park
		}
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", t.Unix()), DeviceTime: timestamppb.New(t),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: lng}, AccuracyMeters: 10})
	}
	rep := e.as(acme, dwell.RoleRep, "ida")
	ack, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fs})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ack.GetAck().GetResults() {
		if r.GetStatus() != dwellv1.FixStatus_FIX_STATUS_ACCEPTED {
			t.Fatalf("fix %d not accepted: %v", r.GetIndex(), r)
		}
	}
	const wantIdle, wantVisit, tol = 50 * 60, 40 * 60, 90
	near := func(got int64, want float64) bool { return math.Abs(float64(got)-want) <= tol }
	date := pbDate(2026, 11, 20)
	for _, refreshed := range []bool{false, true} {
		if refreshed {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: date})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range breaks {
			var over []*dwellv1.Segment
			for _, s := range rd.GetSegments() {
				if s.GetEndTime().AsTime().After(b[0]) && s.GetStartTime().AsTime().Before(b[1]) {
					over = append(over, s)
				}
			}
			if len(over) != 1 || over[0].GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS ||
				!over[0].GetStartTime().AsTime().Equal(b[0]) || !over[0].GetEndTime().AsTime().Equal(b[1]) {
				t.Errorf("refreshed %v: segments over the break %v-%v: %v, want one OFF_HOURS", refreshed, b[0], b[1], over)
			}
		}
		tot := rd.GetTotals()
		if !near(tot.GetIdleSeconds(), wantIdle) || !near(tot.GetVisitProspectSeconds(), wantVisit) || tot.GetGapSeconds() != 0 {
			t.Errorf("refreshed %v: GetRepDay totals %v, want %d s idle, %d s with the prospect and no gap (the breaks left out)",
				refreshed, tot, wantIdle, wantVisit)
		}
		if vs := rd.GetVisits(); len(vs) != 1 || vs[0].GetOffHoursSeconds() != 1800 || vs[0].GetPausedSeconds() != 0 {
			t.Errorf("refreshed %v: GetRepDay visits %v, want one with 1,800 off-hours seconds", refreshed, vs)
		}
		bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/ida"}, StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		if got := bd.GetTotal(); got.GetIdleSeconds() != tot.GetIdleSeconds() || got.GetVisitProspectSeconds() != tot.GetVisitProspectSeconds() ||
			got.GetTravelSeconds() != tot.GetTravelSeconds() || got.GetGapSeconds() != 0 {
			t.Errorf("refreshed %v: GetTimeBreakdown total %v, want GetRepDay's %v", refreshed, got, tot)
		}
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		if got := k.GetIdle().GetIdleSeconds(); got != tot.GetIdleSeconds() {
			t.Errorf("refreshed %v: GetKpis idle %d s, want GetRepDay's %d s", refreshed, got, tot.GetIdleSeconds())
		}
		if got := k.GetVisitTime().GetProspectMeanSeconds(); math.Abs(got-float64(tot.GetVisitProspectSeconds())) > 1 {
			t.Errorf("refreshed %v: GetKpis prospect mean %v s, want the visit's %d s (the break left out)", refreshed, got, tot.GetVisitProspectSeconds())
		}
		lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		if vs := lv.GetVisits(); len(vs) != 1 || vs[0].GetOffHoursSeconds() != 1800 {
			t.Errorf("refreshed %v: ListVisits %v, want one visit with 1,800 off-hours seconds", refreshed, vs)
		}
	}
}

// TestRepStatusSinceArrivalAcrossBreak: a rep whose Friday is 06:00-08:00
// and 09:00-11:00 parked at 07:30 and is still there at 10:00, the break
// between. ListRepStatuses says idle since 07:30, when the rep arrived,
// not since 09:00, when the part of the stop after the break begins, from
// the derived day and from the stored summary alike.
func TestRepStatusSinceArrivalAcrossBreak(t *testing.T) {
	e := newEnv(t) // Friday 20 November 2026, 10:00 UTC
	admin := e.admin(acme)
	friday := int32(time.Friday)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC",
		WorkingHours: []*dwellv1.WorkingHours{
			{DayOfWeek: friday, StartMinute: 6 * 60, EndMinute: 8 * 60},
			{DayOfWeek: friday, StartMinute: 9 * 60, EndMinute: 11 * 60},
		}}}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	var fs []*dwellv1.Fix
	for t := at(7, 20); t.Before(at(10, 0)); t = t.Add(30 * time.Second) {
		lng := 106.827
		switch {
		case !t.Before(at(8, 0)) && t.Before(at(9, 0)): // the break
			continue
		case t.Before(at(7, 30)): // arriving from 3 km west
			lng -= 0.027 * float64(at(7, 30).Sub(t)) / float64(10*time.Minute)
		}
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", t.Unix()), DeviceTime: timestamppb.New(t),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: lng}, AccuracyMeters: 10})
	}
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatal(err)
	}
	for _, refreshed := range []bool{false, true} {
		if refreshed {
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := e.report.ListRepStatuses(admin, &dwellv1.ListRepStatusesRequest{Reps: []string{"reps/ida"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetRepStatuses()) != 1 {
			t.Fatalf("refreshed %v: statuses %v, want one", refreshed, resp.GetRepStatuses())
		}
		st := resp.GetRepStatuses()[0]
		since := st.GetSinceTime().AsTime()
		if st.GetState() != dwellv1.RepState_REP_STATE_TRACKING || st.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_IDLE ||
			since.Before(at(7, 29)) || since.After(at(7, 31)) {
			t.Errorf("refreshed %v: status %v, want tracking, idle since 07:30", refreshed, st)
		}
	}
}
