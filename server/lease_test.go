package server_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests run several servers on ONE PostgreSQL schema, as feed_test.go
// does, each with the default background work (refresher and silence
// sweeper, the sweeper every 50 ms): only the holder of the store's
// background lease runs it.

// newGroup starts n servers sharing one schema and returns them once their
// change feeds listen.
func newGroup(t testing.TB, n int) []*env {
	t.Helper()
	t.Setenv(storeEnv, "postgres")
	dir := t.TempDir()
	dsn := pgtest.DSN(t)
	k := pairSeq.Add(1)
	clock := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var es []*env
	for i := range n {
		e := &env{t: t, dir: dir, clock: clock,
			configure: func(c *server.Config) { c.SilenceSweep = 50 * time.Millisecond },
			pgDSN:     fmt.Sprintf("%s application_name=dwell-%c-%d-%d", dsn, 'a'+i, os.Getpid(), k)}
		e.start()
		t.Cleanup(e.stop)
		es = append(es, e)
	}
	for _, e := range es {
		select {
		case <-server.FeedReady(e.srv):
		case <-time.After(30 * time.Second):
			t.Fatal("a server's change feed did not listen within 30 s")
		}
	}
	return es
}

// leaders returns the running servers of es that hold the background
// lease.
func leaders(es []*env) []*env {
	var out []*env
	for _, e := range es {
		if e.gs != nil && server.Leading(e.srv) {
			out = append(out, e)
		}
	}
	return out
}

// wantOneLeader waits until exactly one server of es leads, failing t if
// two ever lead at once meanwhile (no session is killed here), and
// returns it.
func wantOneLeader(t testing.TB, es []*env, what string) *env {
	t.Helper()
	var l *env
	eventually(t, what, func() (bool, string) {
		ls := leaders(es)
		if len(ls) > 1 {
			t.Fatalf("%s: %d servers lead at once", what, len(ls))
		}
		if len(ls) == 1 {
			l = ls[0]
		}
		return len(ls) == 1, fmt.Sprintf("%d leaders", len(ls))
	})
	for _, e := range es {
		if e != l && e.gs != nil && server.Refreshing(e.srv) {
			t.Errorf("%s: a server that does not lead runs its refresher", what)
		}
	}
	return l
}

// wantDayCurrent waits until ida's day of 20 November 2026 has a summary
// derived from its latest data. No test calls Refresh: only a background
// refresher derives it.
func wantDayCurrent(t testing.TB, e *env, what string) {
	t.Helper()
	eventually(t, what, func() (bool, string) {
		ds, _, err := e.st.GetDaySummary(context.Background(), acme, "ida", dwell.Date{Year: 2026, Month: 11, Day: 20})
		if err != nil {
			t.Fatalf("GetDaySummary: %v", err)
		}
		return ds.Current(), fmt.Sprintf("version %d, summary version %d", ds.Version, ds.SummaryVersion)
	})
}

// wantSilences waits until acme's log holds n REP_SILENT events, and
// fails t if it ever holds more or two share a key.
func wantSilences(t testing.TB, e *env, what string, n int) {
	t.Helper()
	eventually(t, what, func() (bool, string) {
		ss := e.repSilences()
		keys := map[string]bool{}
		for _, s := range ss {
			if keys[s.Key] {
				t.Fatalf("%s: two REP_SILENT events of key %q", what, s.Key)
			}
			keys[s.Key] = true
		}
		if len(ss) > n {
			t.Fatalf("%s: %d REP_SILENT events, want %d: %+v", what, len(ss), n, ss)
		}
		return len(ss) == n, fmt.Sprintf("%d REP_SILENT events", len(ss))
	})
}

// uploadFix uploads one fix of ida at the feed site, at at, through e.
func uploadFix(t testing.TB, e *env, at time.Time) {
	t.Helper()
	fs := []*dwellv1.Fix{{Id: fmt.Sprintf("late-%d", at.Unix()), DeviceTime: timestamppb.New(at), Position: &dwellv1.LatLng{Lat: feedLat, Lng: feedLng}, AccuracyMeters: 10}}
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "ida"), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
}

// TestLeaseOneServerWorks: of three servers on one schema, one leads; the
// days the others take in are derived (by the leader: the others run no
// refresher) and the rep's silence is published once; when the leader
// closes, another server takes the work over and derives the next data.
func TestLeaseOneServerWorks(t *testing.T) {
	es := newGroup(t, 3)
	lead := wantOneLeader(t, es, "at start")
	var others []*env
	for _, e := range es {
		if e != lead {
			others = append(others, e)
		}
	}
	createIda(t, others[0])
	stayDay(t, others[1]) // last fix 08:10; the clock says 10:00
	wantDayCurrent(t, others[0], "the day taken in by a server that does not lead")
	wantSilences(t, others[1], "the silence after 08:10", 1)

	lead.stop()
	next := wantOneLeader(t, es, "after the leader closed")
	if !server.Refreshing(next.srv) {
		t.Error("the new leader's refresher does not run")
	}
	var taker *env
	for _, e := range others {
		if e != next {
			taker = e
		}
	}
	uploadFix(t, taker, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	wantDayCurrent(t, taker, "the day after a fix at 09:00")
	wantSilences(t, taker, "the silence after 09:00", 2)
}

// leaseHolder returns the backend of the session that holds the
// background lease of e's schema, failing t if none does.
func leaseHolder(t testing.TB, e *env) int {
	t.Helper()
	pid, err := e.st.(*pgstore.Store).LeaseHolder(context.Background(), "background")
	if err != nil || pid == 0 {
		t.Fatalf("LeaseHolder = %d, %v; want the leader's backend", pid, err)
	}
	return pid
}

// TestLeaseConnectionKilled ends the session of the leader's lease: the
// leader stops its refresher, and the other server takes the work over
// and derives the next data.
func TestLeaseConnectionKilled(t *testing.T) {
	es := newGroup(t, 2)
	old := wantOneLeader(t, es, "at start")
	createIda(t, old)
	stayDay(t, old)
	wantDayCurrent(t, old, "the day before the kill")
	wantSilences(t, old, "the silence after 08:10", 1)

	pgtest.Terminate(t, old.pgDSN, leaseHolder(t, old))
	eventually(t, "the old leader stops", func() (bool, string) {
		return !server.Leading(old.srv) && !server.Refreshing(old.srv), fmt.Sprintf("leading %v, refreshing %v", server.Leading(old.srv), server.Refreshing(old.srv))
	})
	var next *env
	eventually(t, "the other server takes over", func() (bool, string) {
		ls := leaders(es)
		if len(ls) == 1 && ls[0] != old {
			next = ls[0]
			return true, ""
		}
		return false, fmt.Sprintf("%d leaders", len(ls))
	})
	if !server.Refreshing(next.srv) {
		t.Error("the new leader's refresher does not run")
	}
	uploadFix(t, old, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	wantDayCurrent(t, old, "the day after a fix at 09:00")
	wantSilences(t, old, "the silence after 09:00", 2)
}

// BenchmarkLeaseTakeover measures how long the background work stops when
// the leader's lease session is killed: from pg_terminate_backend until
// the other server leads (takeover). The baseline, in the same run, is the
// first acquisition at start: from a server's start (store opened, New)
// on a schema nobody leads until it leads (first). A standby tries every
// 2 s, so a takeover should average about 1 s.
func BenchmarkLeaseTakeover(b *testing.B) {
	waitLead := func(e *env) {
		for !server.Leading(e.srv) {
			time.Sleep(time.Millisecond)
		}
	}
	b.Run("first", func(b *testing.B) {
		e := newGroup(b, 1)[0]
		waitLead(e)
		for b.Loop() {
			b.StopTimer()
			e.stop()
			b.StartTimer()
			e.start()
			waitLead(e)
		}
	})
	b.Run("takeover", func(b *testing.B) {
		es := newGroup(b, 2)
		eventually(b, "a leader", func() (bool, string) { return len(leaders(es)) == 1, "" })
		lead := leaders(es)[0]
		for b.Loop() {
			b.StopTimer()
			pid := leaseHolder(b, lead)
			b.StartTimer()
			pgtest.Terminate(b, lead.pgDSN, pid)
			var next *env
			for next == nil {
				for _, e := range leaders(es) {
					if e != lead {
						next = e
					}
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			// The old leader waits 4 s before it contends again: let it
			// reach its steady retries, as a standby does, before the
			// next kill.
			eventually(b, "the old leader stops", func() (bool, string) { return !server.Leading(lead.srv), "" })
			time.Sleep(5 * time.Second)
			lead = next
			b.StartTimer()
		}
	})
}
