package server_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
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

// eraseThenResend: ida's day (fixes 06:50 to 08:10) derived by the leader
// l, her history erased through eraser, then her phone re-sends 06:50 to
// 07:30 through o, and l derives and sweeps. The only fix left is 07:30,
// so the silence (30 minutes by default) is due at 08:00 and keyed by
// 07:30, whichever server erased: every server forgets an erased rep (the
// change feed's rep-erased), so the leader's tracker does not time from
// the erased 08:10. With toldBefore the 08:10 silence (08:40) is told
// before the erase.
func eraseThenResend(t *testing.T, l, o, eraser *env, toldBefore bool) {
	t.Helper()
	ctx := context.Background()
	createIda(t, o)
	stayDay(t, o)
	if err := l.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if toldBefore {
		if err := server.SweepSilence(ctx, l.srv, l.now()); err != nil {
			t.Fatalf("SweepSilence: %v", err)
		}
		if n, saw := repSilentOf(t, o, "ida"); n != 1 {
			t.Fatalf("before the erase: %d REP_SILENT, want 1:%s", n, saw)
		}
	}
	if _, err := eraser.dirc.EraseRepHistory(eraser.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/ida"}); err != nil {
		t.Fatalf("EraseRepHistory: %v", err)
	}
	var fs []*dwellv1.Fix
	for at := time.Date(2026, 11, 20, 6, 50, 0, 0, time.UTC); !at.After(time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)); at = at.Add(time.Minute) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("re-%d", at.Unix()), DeviceTime: timestamppb.New(at),
			Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng}, AccuracyMeters: 10})
	}
	if _, err := o.ingest.UploadPings(o.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
	if err := l.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := server.SweepSilence(ctx, l.srv, l.now()); err != nil {
		t.Fatalf("SweepSilence: %v", err)
	}
	var got []string
	for _, ev := range repEvents(t, o, "ida") {
		if ev.Type == dwell.EventRepSilent {
			got = append(got, fmt.Sprintf("at %s key %q", ev.Time.Format(time.TimeOnly), ev.Key))
		}
	}
	want := fmt.Sprintf("at 08:00:00 key %q", events.SilenceKey("ida", time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)))
	if len(got) != 1 || got[0] != want {
		t.Errorf("REP_SILENT events: %v; want one %s (30 minutes after the only fix left, 07:30)", got, want)
	}
}

// TestSilenceEraseOnOtherServerResend: erased through the server that
// does not lead, then fixes sent again.
func TestSilenceEraseOnOtherServerResend(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	eraseThenResend(t, l, o, o, false)
}

// TestSilenceEraseOnLeaderResend is the control: erased through the
// leader.
func TestSilenceEraseOnLeaderResend(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	eraseThenResend(t, l, o, l, false)
}

// TestSilenceEraseOnOtherServerAfterSilence: as
// TestSilenceEraseOnOtherServerResend, the erased history's silence told
// before the erase (the leader's tracker had marked it told).
func TestSilenceEraseOnOtherServerAfterSilence(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	eraseThenResend(t, l, o, o, true)
}

// TestSilenceEraseOnLeaderAfterSilence is its control.
func TestSilenceEraseOnLeaderAfterSilence(t *testing.T) {
	p := newPair(t, nil)
	l, o := leaderOf(t, p)
	eraseThenResend(t, l, o, l, true)
}

// deafToErasures is a store whose change feed never reports an erasure
// (store.ChangeRepErased): a listener that was down when one committed.
type deafToErasures struct{ *pgstore.Store }

func (d deafToErasures) WatchChanges(ctx context.Context, fn func(store.Change)) error {
	return d.Store.WatchChanges(ctx, func(c store.Change) {
		if c.Kind != store.ChangeRepErased {
			fn(c)
		}
	})
}

// missedErasure runs one server that leads (its background refresher,
// and a sweeper every 50 ms, on PostgreSQL) and whose change feed misses
// erasures: it tells ida's silence after 08:10, misses the erasure of her
// history, and takes in her fixes of 06:50 to 07:30 again; then recover
// runs, after which it must tell the silence at 08:00, 30 minutes after
// the only fix left, and no other.
func missedErasure(t *testing.T, recover func(e *env)) {
	t.Setenv(storeEnv, "postgres")
	e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		configure: func(c *server.Config) {
			c.SilenceSweep = 50 * time.Millisecond
			c.Store = deafToErasures{c.Store.(*pgstore.Store)}
		},
		pgDSN: fmt.Sprintf("%s application_name=dwell-deaf-%d-%d", pgtest.DSN(t), os.Getpid(), pairSeq.Add(1))}
	e.start()
	t.Cleanup(e.stop)
	wantOneLeader(t, []*env{e}, "at start")
	createIda(t, e)
	stayDay(t, e)
	wantSilences(t, e, "the silence after 08:10", 1)

	ctx := context.Background()
	if _, err := e.st.EraseRepHistory(ctx, acme, "ida"); err != nil {
		t.Fatalf("EraseRepHistory: %v", err)
	}
	var fs []*dwellv1.Fix
	for at := time.Date(2026, 11, 20, 6, 50, 0, 0, time.UTC); !at.After(time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)); at = at.Add(time.Minute) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("re-%d", at.Unix()), DeviceTime: timestamppb.New(at),
			Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng}, AccuracyMeters: 10})
	}
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
	wantDayCurrent(t, e, "the day of the fixes sent again")

	recover(e)
	wantSilences(t, e, "the silence after 07:30", 1)
	want := events.SilenceKey("ida", time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC))
	if ss := e.repSilences(); ss[0].Key != want || !ss[0].Time.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("REP_SILENT at %s key %q; want at 08:00 key %q", ss[0].Time.Format(time.TimeOnly), ss[0].Key, want)
	}
}

// TestSilenceLeaseWinForgetsErased: a server whose change feed missed an
// erasure stops timing the rep's silence from the erased fixes when it
// next wins the background lease: a lease win clears the silence tracker
// before seeding it from the store. Here its lease session is ended and
// it wins the lease again.
func TestSilenceLeaseWinForgetsErased(t *testing.T) {
	missedErasure(t, func(e *env) {
		pgtest.Terminate(t, e.pgDSN, leaseHolder(t, e))
		eventually(t, "the server stops leading", func() (bool, string) { return !server.Leading(e.srv), "" })
		wantOneLeader(t, []*env{e}, "the lease won again")
	})
}

// TestSilenceResyncForgetsErased: the same server stops timing from the
// erased fixes at its change feed's next resync (its listener's
// connection killed, as when it missed the erasure): the sweeper clears
// the tracker and seeds it from the store again before its next sweep.
func TestSilenceResyncForgetsErased(t *testing.T) {
	missedErasure(t, func(e *env) {
		_, done := server.FeedResyncs(e.srv)
		conn, err := pgx.Connect(context.Background(), e.pgDSN)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(context.Background())
		var killed int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = current_setting('application_name') AND pid <> pg_backend_pid() AND query = 'LISTEN dwell_changes') k`).Scan(&killed); err != nil {
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		if killed != 1 {
			t.Fatalf("terminated %d listeners, want 1", killed)
		}
		eventually(t, "the feed resyncs", func() (bool, string) {
			_, n := server.FeedResyncs(e.srv)
			return n > done, ""
		})
	})
}
