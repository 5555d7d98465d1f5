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

// repSilentOf returns how many REP_SILENT events of rep acme's log holds,
// and an account of them for a failure message.
func repSilentOf(t testing.TB, e *env, rep dwell.RepID) (int, string) {
	t.Helper()
	n, saw := 0, ""
	for _, ev := range repEvents(t, e, rep) {
		if ev.Type == dwell.EventRepSilent {
			n++
			saw += fmt.Sprintf(" [seq %d at %s key %q]", ev.Seq, ev.Time.Format(time.TimeOnly), ev.Key)
		}
	}
	return n, saw
}

// mockAfterStay uploads, through e, one mock fix of ida a minute after
// stayDay's last fix and 3 km east of the site: the timeline drops it, so
// ida's last stored fix is not the end of her derived day.
func mockAfterStay(t testing.TB, e *env) {
	t.Helper()
	at := time.Date(2026, 11, 20, 8, 11, 0, 0, time.UTC)
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{{
		Id: "mock-1", DeviceTime: timestamppb.New(at), Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng + 0.027},
		AccuracyMeters: 10, Mock: true}}}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
}

// TestSilenceEraseOnOtherServer: a rep's history erased through the server
// that does not hold the background lease is not told as a silence by the
// leader, whose silence tracker had followed the rep's day: no REP_SILENT
// for a history that no longer exists.
func TestSilenceEraseOnOtherServer(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	ctx := context.Background()
	createIda(t, o)
	stayDay(t, o) // fixes 06:50 to 08:10 UTC; the servers' clock says 10:00
	if err := l.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh on the leader: %v", err)
	}
	if _, err := o.dirc.EraseRepHistory(o.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/ida"}); err != nil {
		t.Fatalf("EraseRepHistory on the other server: %v", err)
	}
	if evs := repEvents(t, o, "ida"); len(evs) != 0 {
		t.Fatalf("after the erase the log still holds %d of ida's events", len(evs))
	}
	if err := server.SweepSilence(ctx, l.srv, l.now()); err != nil {
		t.Fatalf("SweepSilence on the leader: %v", err)
	}
	if n, saw := repSilentOf(t, o, "ida"); n != 0 {
		t.Errorf("the leader told %d silence(s) of ida's erased history:%s", n, saw)
	}
	// The rep's next fixes (09:00 to 09:10 at one place) are tracked
	// again: silent at 09:40.
	var fs []*dwellv1.Fix
	for at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC); at.Minute() <= 10; at = at.Add(time.Minute) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("after-%d", at.Minute()), DeviceTime: timestamppb.New(at),
			Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng}, AccuracyMeters: 10})
	}
	if _, err := o.ingest.UploadPings(o.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
	if err := l.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh on the leader: %v", err)
	}
	if err := server.SweepSilence(ctx, l.srv, l.now()); err != nil {
		t.Fatalf("SweepSilence on the leader: %v", err)
	}
	if n, saw := repSilentOf(t, o, "ida"); n != 1 {
		t.Errorf("after a fix at 09:00 and a sweep at 10:00: %d REP_SILENT, want 1:%s", n, saw)
	}
}

// TestSilenceOnceAcrossHandover: a silence the leader told is not told
// again by the server that takes the lease over, also when the rep's last
// stored fix is one the timeline drops (a mock fix): the new leader times
// the silence from where the derived day ends, as the old one did, so the
// event's key is the same.
func TestSilenceOnceAcrossHandover(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	ctx := context.Background()
	createIda(t, o)
	stayDay(t, o)
	mockAfterStay(t, o)
	if err := l.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := server.SweepSilence(ctx, l.srv, l.now()); err != nil {
		t.Fatalf("SweepSilence: %v", err)
	}
	if n, saw := repSilentOf(t, o, "ida"); n != 1 {
		t.Fatalf("before the handover: %d REP_SILENT, want 1:%s", n, saw)
	}
	l.stop()
	eventually(t, "the other server takes the lease over", func() (bool, string) { return server.Leading(o.srv), "" })
	// What the new leader's sweeper does when it wins the lease.
	if _, err := server.SeedSilence(ctx, o.srv, o.now()); err != nil {
		t.Fatalf("SeedSilence: %v", err)
	}
	if err := server.SweepSilence(ctx, o.srv, o.now()); err != nil {
		t.Fatalf("SweepSilence: %v", err)
	}
	if n, saw := repSilentOf(t, o, "ida"); n != 1 {
		t.Errorf("after the handover: %d REP_SILENT for one silence:%s", n, saw)
	}
}

// TestSilenceOnceAcrossRestart is TestSilenceOnceAcrossHandover on one
// server (the store storeEnv picks) restarted on its data.
func TestSilenceOnceAcrossRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createIda(t, e)
	stayDay(t, e)
	mockAfterStay(t, e)
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := server.SweepSilence(ctx, e.srv, e.now()); err != nil {
		t.Fatalf("SweepSilence: %v", err)
	}
	if n, saw := repSilentOf(t, e, "ida"); n != 1 {
		t.Fatalf("before the restart: %d REP_SILENT, want 1:%s", n, saw)
	}
	e.restart()
	if _, err := server.SeedSilence(ctx, e.srv, e.now()); err != nil {
		t.Fatalf("SeedSilence: %v", err)
	}
	if err := server.SweepSilence(ctx, e.srv, e.now()); err != nil {
		t.Fatalf("SweepSilence: %v", err)
	}
	if n, saw := repSilentOf(t, e, "ida"); n != 1 {
		t.Errorf("after the restart: %d REP_SILENT for one silence:%s", n, saw)
	}
}
