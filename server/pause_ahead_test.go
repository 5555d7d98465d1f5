package server_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestPauseEndedByFixAhead: a pause not resumed, then a fix dated after the
// present (a phone whose clock runs ahead: accepted, within MaxFutureSkew).
// GetRepDay ends the pause at the present; the breakdown, which reads the
// refresher's summary of today as it is unless its pause is open (liveDay:
// here a fix ended the pause in the summary, so the day is derived), must
// say the same. It did not while a fix after the pause counted as closing
// it: 3,600 s against 14,400 s, and 0 s against 300 s.
func TestPauseEndedByFixAhead(t *testing.T) {
	for _, c := range []struct {
		name            string
		fixesTo, paused time.Duration // the fixes' end and the pause, from the present
		ahead           time.Duration // the one fix after the pause
	}{
		{"a fix 3 hours ahead", -time.Hour, -time.Hour, 3 * time.Hour},
		{"a phone 10 minutes ahead", 10 * time.Minute, 10 * time.Minute, 15 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t) // 10:00 UTC
			e.mustCreateUTCRep("lia")
			rep := e.as(acme, dwell.RoleRep, "lia")
			now := e.now()
			if _, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: fixes("a", 120, now.Add(c.fixesTo))}); err != nil {
				t.Fatal(err)
			}
			e.pause("lia", "p", now.Add(c.paused))
			ack, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{
				{Id: "ahead", DeviceTime: timestamppb.New(now.Add(c.ahead)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}}})
			if err != nil || ack.GetAck().GetAccepted() != 1 {
				t.Fatalf("upload of the fix ahead: %v, %v", ack, err)
			}
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			today := pbDate(2026, 11, 20)
			d, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/lia", Date: today})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.report.GetTimeBreakdown(e.admin(acme), &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/lia"}, StartDate: today, EndDate: today})
			if err != nil {
				t.Fatal(err)
			}
			var paused int64
			for _, row := range res.GetRows() {
				paused += row.GetTotals().GetPausedSeconds()
			}
			if got := d.GetTotals().GetPausedSeconds(); got != paused {
				t.Errorf("GetRepDay paused %d s, GetTimeBreakdown %d s for the same day", got, paused)
			}
		})
	}
}
