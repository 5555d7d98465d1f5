package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// Tests of GetTrackingConfig's steering against what the server does with
// the fixes a phone sends as told: never reported silent for following
// it, never refused for having kept them as long as it was told to.

// TestTrackingConfigWithinSilence: GetTrackingConfig's stationary interval
// and batch delay each take at most a third of the tenant's silence
// threshold, so a still phone that follows them is never reported silent:
// with the least threshold (300 s), a phone that took a fix at t0 and
// takes the next a stationary interval later, holding it the longest
// batch delay, is TRACKING with no REP_SILENT until that fix arrives.
func TestTrackingConfigWithinSilence(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	e.mustCreateRep(e.admin(acme), "ida", "")
	config := func() (still, delay time.Duration) {
		t.Helper()
		cfg, err := e.ingest.GetTrackingConfig(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.GetTrackingConfigRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.GetMovingIntervalSeconds() != 30 {
			t.Errorf("moving interval %d s, want 30", cfg.GetMovingIntervalSeconds())
		}
		return time.Duration(cfg.GetStationaryIntervalSeconds()) * time.Second, time.Duration(cfg.GetMaxBatchDelaySeconds()) * time.Second
	}
	setSilence := func(s int32) {
		t.Helper()
		if _, err := e.dirc.UpdateSettings(e.admin(acme), &dwellv1.UpdateSettingsRequest{
			Settings: &dwellv1.Settings{SilenceMinSeconds: s}, UpdateMask: fieldMask("silence_min_seconds")}); err != nil {
			t.Fatal(err)
		}
	}
	// The default threshold (30 min) and a longer one keep the usual pace;
	// the least (5 min) gets a third of it each.
	for _, c := range []struct {
		silence     int32 // 0: the default
		still, wait time.Duration
	}{
		{0, 300 * time.Second, 300 * time.Second},
		{7200, 300 * time.Second, 300 * time.Second},
		{900, 300 * time.Second, 300 * time.Second},
		{600, 200 * time.Second, 200 * time.Second},
		{300, 100 * time.Second, 100 * time.Second},
	} {
		if c.silence > 0 {
			setSilence(c.silence)
		}
		if still, delay := config(); still != c.still || delay != c.wait {
			t.Errorf("silence threshold %d s: stationary interval %v, batch delay %v; want %v and %v", c.silence, still, delay, c.still, c.wait)
		}
	}

	// The phone, still at B under the 300 s threshold, follows its
	// configuration: fixes every stationary interval, the last at t0
	// uploaded at once; the next, taken at t0+still, reaches the server
	// at t0+still+delay at the latest.
	still, delay := config()
	t0 := e.now()
	fix := func(id string, at time.Time) dwell.Fix {
		return dwell.Fix{ID: id, Time: at, Pos: statusB, AccuracyM: 10, BearingDeg: -1}
	}
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), []dwell.Fix{fix("a", t0.Add(-2*still)), fix("b", t0.Add(-still)), fix("c", t0)})
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	e.advance(still + delay)
	if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	if st := e.repStatus(t, "ida"); st.GetState() != dwellv1.RepState_REP_STATE_TRACKING || len(e.repSilences()) > 0 {
		t.Fatalf("t0+%v, just before the next fix (taken at t0+%v, held %v) arrives: %v, REP_SILENT %d; want TRACKING and none",
			still+delay, still, delay, st.GetState(), len(e.repSilences()))
	}
	e.upload(t, e.as(acme, dwell.RoleRep, "ida"), []dwell.Fix{fix("d", t0.Add(still))})
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	// Then the phone falls silent: 300 s after its last fix it is.
	e.advance(300*time.Second - delay)
	if err := server.SweepSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	sil := e.repSilences()
	if st := e.repStatus(t, "ida"); st.GetState() != dwellv1.RepState_REP_STATE_SILENT || len(sil) != 1 || !sil[0].Time.Equal(t0.Add(still+300*time.Second)) {
		t.Fatalf("300 s after the last fix: %v, REP_SILENT %+v; want SILENT and one at %v", st.GetState(), sil, t0.Add(still+300*time.Second))
	}
}

// TestTrackingConfigOfflineBufferWithinRetention: GetTrackingConfig never
// tells a phone to keep fixes offline longer than ingest accepts them (the
// tenant's retention, and the days it pruned: TestOfflineBufferClearOfPrunedDays):
// 72 h, or the retention less 26 h if shorter, at least an hour; a fix as
// old as the buffer is accepted.
func TestTrackingConfigOfflineBufferWithinRetention(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "ida", "")
	for i, c := range []struct {
		days int32 // 0: the default (365)
		want time.Duration
	}{
		{0, 72 * time.Hour},
		{4, 70 * time.Hour},
		{3, 46 * time.Hour},
		{2, 22 * time.Hour},
		{1, time.Hour},
	} {
		if c.days > 0 {
			if _, err := e.dirc.UpdateSettings(e.admin(acme), &dwellv1.UpdateSettingsRequest{
				Settings: &dwellv1.Settings{RetentionDays: c.days}, UpdateMask: fieldMask("retention_days")}); err != nil {
				t.Fatal(err)
			}
		}
		rep := e.as(acme, dwell.RoleRep, "ida")
		cfg, err := e.ingest.GetTrackingConfig(rep, &dwellv1.GetTrackingConfigRequest{})
		if err != nil {
			t.Fatal(err)
		}
		buf := time.Duration(cfg.GetOfflineBufferSeconds()) * time.Second
		if buf != c.want {
			t.Errorf("retention %d days: offline buffer %v, want %v", c.days, buf, c.want)
		}
		// The oldest fix the phone may have kept is accepted.
		old := e.now().Add(-buf)
		resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{{
			Id: fmt.Sprintf("kept-%d", i), DeviceTime: timestamppb.New(old), Position: &dwellv1.LatLng{Lat: statusB.Lat, Lng: statusB.Lng}, AccuracyMeters: 10}}})
		if err != nil || resp.GetAck().GetAccepted() != 1 {
			t.Errorf("retention %d days: a fix kept offline %v (the buffer) refused: %v %v", c.days, buf, resp.GetAck(), err)
		}
	}
}
