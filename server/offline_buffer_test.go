package server_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// offlineBuffer returns the offline buffer GetTrackingConfig tells ida's
// phone now.
func (e *env) offlineBuffer(t *testing.T) time.Duration {
	t.Helper()
	cfg, err := e.ingest.GetTrackingConfig(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.GetTrackingConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(cfg.GetOfflineBufferSeconds()) * time.Second
}

// uploadKept uploads one fix of ida at position statusB taken at at, as a
// phone that kept it offline, and fails unless it is accepted.
func (e *env) uploadKept(t *testing.T, id string, at time.Time, why string) {
	t.Helper()
	resp, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{{
		Id: id, DeviceTime: timestamppb.New(at), Position: &dwellv1.LatLng{Lat: statusB.Lat, Lng: statusB.Lng}, AccuracyMeters: 10}}})
	if err != nil || resp.GetAck().GetAccepted() != 1 {
		t.Fatalf("%s: fix taken %v ago refused: ack %v, err %v", why, e.now().Sub(at), resp.GetAck(), err)
	}
}

// sweepSome runs the retention sweeper at the server's clock and fails
// unless it deletes at least one fix, so that the rep has a prune horizon.
func (e *env) sweepSome(t *testing.T) {
	t.Helper()
	if n, _, err := server.SweepRetention(t.Context(), e.srv, e.now()); err != nil || n == 0 {
		t.Fatalf("sweep = %d fixes, %v; want some", n, err)
	}
}

// TestOfflineBufferClearOfPrunedDays: a phone that keeps a fix no longer
// than GetTrackingConfig's offline_buffer_seconds, and uploads it within
// the hour after, has it accepted, although the retention sweep has just
// pruned the rep (ingest refuses data of a local day that began before
// the sweep's cut, dayPruned). The worst case: the fix is as late in its
// local day as the guarantee reaches, the phone keeps it the whole
// buffer and its upload takes the whole margin, and the sweep just before
// deletes an older fix. With 3 days the buffer is the retention less 26
// hours, and any fix of the day is safe; with 1 day no buffer is safe for
// a whole day, so it is an hour and a fix of the day's first 22 hours is.
// Before the buffer knew of that rule (71 h and 23 h) the fix was refused.
func TestOfflineBufferClearOfPrunedDays(t *testing.T) {
	for _, c := range []struct {
		days int32
		want time.Duration
		// last is how far into its local day the kept fix may be taken.
		last time.Duration
	}{
		{3, 46 * time.Hour, 24*time.Hour - time.Minute},
		{1, time.Hour, 22*time.Hour - time.Minute},
	} {
		t.Run(fmt.Sprintf("retention %d days", c.days), func(t *testing.T) {
			e := newEnv(t)
			e.mustCreateRep(e.admin(acme), "ida", "") // Asia/Jakarta, UTC+7, days of 24 h
			e.setRetention(c.days)
			buf := e.offlineBuffer(t)
			if buf != c.want {
				t.Errorf("offline buffer %v, want %v", buf, c.want)
			}
			jkt, _ := time.LoadLocation("Asia/Jakarta")
			day := dwell.DateOf(e.now(), jkt).Start(jkt) // 2026-11-20 00:00 WIB
			// The fixes the phone uploaded: one the day before, which the
			// sweep deletes, and one early in the day.
			e.upload(t, e.as(acme, dwell.RoleRep, "ida"), []dwell.Fix{
				{ID: "before", Time: day.Add(-2 * time.Hour), Pos: statusB, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1},
				{ID: "early", Time: day.Add(10 * time.Minute), Pos: statusB, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1},
			})
			// The one it kept offline for the whole buffer, uploaded a
			// second short of the margin later, just after a sweep.
			kept := day.Add(c.last)
			e.advance(kept.Add(buf + time.Hour - time.Second).Sub(e.now()))
			e.sweepSome(t)
			if got := e.offlineBuffer(t); got != buf {
				t.Errorf("offline buffer after the sweep %v, want %v", got, buf)
			}
			e.uploadKept(t, "kept", kept, fmt.Sprintf("buffer %v", buf))
		})
	}
}

// TestOfflineBufferAfterRetentionRaised: the days a shorter retention
// pruned stay refused after the period is raised, so the buffer grows to
// the new period's only as they fall behind: a fix kept as long as it
// says (and uploaded within the hour) is accepted all along. The buffer
// used to follow the new period at once (71 h), and a fix kept that long,
// on a day the 1-day sweep had pruned, was refused.
func TestOfflineBufferAfterRetentionRaised(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "ida", "")
	e.setRetention(1)
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), []dwell.Fix{
		{ID: "old", Time: e.now().Add(-20 * time.Hour), Pos: statusB, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}})
	e.advance(6 * time.Hour) // 2026-11-20 16:00 UTC
	e.sweepSome(t)           // cut at 2026-11-19 23:00 WIB: that local day is pruned
	e.setRetention(3)
	for i, step := range []time.Duration{0, 10 * time.Hour, 20 * time.Hour, 40 * time.Hour} {
		e.advance(step)
		buf := e.offlineBuffer(t)
		e.uploadKept(t, fmt.Sprintf("kept-%d", i), e.now().Add(-buf-time.Hour+time.Second), fmt.Sprintf("%v after the raise, buffer %v", step, buf))
	}
	if got := e.offlineBuffer(t); got != 46*time.Hour {
		t.Errorf("offline buffer 70 h after the raise: %v, want the 3-day period's 46 h", got)
	}
}
