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

// TestPauseInsideVisitIsOneMeeting: a rep at a prospect from 07:00 to
// 08:00 pauses tracking from 07:20 to 07:30 (a private call) and sends no
// fix meanwhile. It is one meeting: GetKpis counts one visit, whose mean
// time with prospects leaves the pause out, ListVisits and GetRepDay list
// one visit with its paused seconds, before and after the refresher has
// stored the day.
func TestPauseInsideVisitIsOneMeeting(t *testing.T) {
	e := newEnv(t) // Friday 20 November 2026, 10:00 UTC
	admin := e.admin(acme)
	e.mustCreateClient(admin, "toko", -6.2, 106.8, 60)
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	var fs []*dwellv1.Fix
	add := func(t time.Time, lat, lng float64) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", t.Unix()), DeviceTime: timestamppb.New(t), Position: &dwellv1.LatLng{Lat: lat, Lng: lng}, AccuracyMeters: 10})
	}
	for t := at(6, 50); t.Before(at(7, 0)); t = t.Add(30 * time.Second) { // arriving from 3 km west
		add(t, -6.2, 106.8-0.027*float64(at(7, 0).Sub(t))/float64(10*time.Minute))
	}
	for t := at(7, 0); !t.After(at(8, 0)); t = t.Add(30 * time.Second) {
		if t.Before(at(7, 20)) || !t.Before(at(7, 30)) {
			add(t, -6.2, 106.8)
		}
	}
	for t := at(8, 0).Add(30 * time.Second); !t.After(at(8, 10)); t = t.Add(30 * time.Second) { // leaving east
		add(t, -6.2, 106.8+0.027*float64(t.Sub(at(8, 0)))/float64(10*time.Minute))
	}
	rep := e.as(acme, dwell.RoleRep, "ida")
	if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.PauseTracking(rep, &dwellv1.PauseTrackingRequest{RequestId: "p", PauseTime: timestamppb.New(at(7, 20))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ingest.ResumeTracking(rep, &dwellv1.ResumeTrackingRequest{RequestId: "r", ResumeTime: timestamppb.New(at(7, 30))}); err != nil {
		t.Fatal(err)
	}
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
		if len(rd.GetVisits()) != 1 || rd.GetVisits()[0].GetPausedSeconds() != 600 {
			t.Fatalf("refreshed %v: GetRepDay visits %v, want one with 600 paused seconds", refreshed, rd.GetVisits())
		}
		lv, err := e.report.ListVisits(admin, &dwellv1.ListVisitsRequest{Rep: "reps/ida", StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		if len(lv.GetVisits()) != 1 || lv.GetVisits()[0].GetPausedSeconds() != 600 {
			t.Fatalf("refreshed %v: ListVisits %v, want one visit with 600 paused seconds", refreshed, lv.GetVisits())
		}
		v := lv.GetVisits()[0]
		observed := v.GetEndTime().AsTime().Sub(v.GetStartTime().AsTime()).Seconds() - 600
		k, err := e.report.GetKpis(admin, &dwellv1.GetKpisRequest{Rep: "reps/ida", StartDate: date, EndDate: date})
		if err != nil {
			t.Fatal(err)
		}
		vt := k.GetVisitTime()
		if k.GetMeetings().GetVerifiedVisitsPerDay() != 1 || math.Abs(vt.GetProspectMeanSeconds()-observed) > 1 || math.Abs(float64(vt.GetProspectSeconds())-observed) > 1 {
			t.Errorf("refreshed %v: meetings per day %v, prospect mean %v s and total %d s; want 1 meeting of %v s (the pause left out)",
				refreshed, k.GetMeetings().GetVerifiedVisitsPerDay(), vt.GetProspectMeanSeconds(), vt.GetProspectSeconds(), observed)
		}
		if math.Abs(vt.GetNotWonMeanSeconds()-observed) > 1 {
			t.Errorf("refreshed %v: not-won mean %v s, want %v s (the pause left out)", refreshed, vt.GetNotWonMeanSeconds(), observed)
		}
	}
}
