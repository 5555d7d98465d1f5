package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A rep of a split shift (06:00-08:00, 09:00-11:00) pauses tracking at
// 07:30 and has not resumed at 10:00: ListRepStatuses must say paused
// since 07:30, when the rep paused.
func TestPausedSinceAcrossBreak(t *testing.T) {
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
	for tt := at(6, 30); tt.Before(at(7, 29)); tt = tt.Add(30 * time.Second) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", tt.Unix()), DeviceTime: timestamppb.New(tt),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.827}, AccuracyMeters: 10})
	}
	ida := e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(ida, &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.PauseTracking(ida, &dwellv1.PauseTrackingRequest{RequestId: "p1", PauseTime: timestamppb.New(at(7, 30))}); err != nil {
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
		st := resp.GetRepStatuses()[0]
		if st.GetState() != dwellv1.RepState_REP_STATE_PAUSED || !st.GetSinceTime().AsTime().Equal(at(7, 30)) {
			t.Errorf("refreshed %v: state %v since %v, want PAUSED since 07:30", refreshed, st.GetState(), st.GetSinceTime().AsTime().Format("15:04"))
		}
	}
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rd.GetSegments() {
		t.Logf("%v %s-%s", s.GetKind(), s.GetStartTime().AsTime().Format("15:04"), s.GetEndTime().AsTime().Format("15:04"))
	}
}
