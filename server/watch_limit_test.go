package server_test

import (
	"context"
	"runtime"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// tryWatch opens a WatchEvents stream and tells whether the server
// positioned it (sent its start cursor header); if not, it returns the
// status the stream ended with.
func tryWatch(t *testing.T, e *env, ctx context.Context) (bool, error) {
	t.Helper()
	st, err := e.report.WatchEvents(ctx, &dwellv1.WatchEventsRequest{})
	if err != nil {
		return false, err
	}
	if md, _ := st.Header(); len(md.Get(server.StartCursorHeader)) > 0 {
		return true, nil
	}
	_, err = st.Recv()
	return false, err
}

// TestWatchStreamsCappedPerCaller: one caller may hold 16 WatchEvents
// streams at once (the default); the 17th is RESOURCE_EXHAUSTED with
// LIMIT_REACHED, another caller of the tenant is not held to the first's
// count, and a stream ended frees its place.
func TestWatchStreamsCappedPerCaller(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	partner := e.as(acme, dwell.RolePartner, "crm")
	all := &dwellv1.WatchEventsRequest{}
	_, cancelFirst := openWatch(t, e.report, partner, all)
	for range 15 {
		openWatch(t, e.report, partner, all)
	}
	wantReason(t, "17th stream of one partner", watchErr(e.report, partner, all), codes.ResourceExhausted, dwell.ReasonLimitReached)
	openWatch(t, e.report, e.as(acme, dwell.RolePartner, "erp"), all)
	openWatch(t, e.report, e.admin(acme), all)

	// The server counts a stream until its handler returns, a round trip
	// after the cancel: the caller is refused until then, and let in
	// after.
	cancelFirst()
	ctx, cancel := context.WithCancel(partner)
	defer cancel()
	for {
		ok, err := tryWatch(t, e, ctx)
		if ok {
			break
		}
		wantReason(t, "a stream while the cancelled one ends", err, codes.ResourceExhausted, dwell.ReasonLimitReached)
	}
}

// TestWatchStreamsCappedPerTenant: the tenant's cap counts the streams of
// all its callers; another tenant has its own.
func TestWatchStreamsCappedPerTenant(t *testing.T) {
	e := newEnv(t)
	e.configure = func(c *server.Config) { c.WatchStreamsPerTenant = 3 }
	e.restart()
	seedTeams(e)
	all := &dwellv1.WatchEventsRequest{}
	openWatch(t, e.report, e.as(acme, dwell.RolePartner, "crm"), all)
	openWatch(t, e.report, e.admin(acme), all)
	openWatch(t, e.report, e.as(acme, dwell.RoleManager, "ana"), all)
	wantReason(t, "a 4th stream of the tenant", watchErr(e.report, e.as(acme, dwell.RolePartner, "erp"), all), codes.ResourceExhausted, dwell.ReasonLimitReached)
	openWatch(t, e.report, e.admin(globex), all)
}

// TestIdleWatchStreamsHoldLittle: an idle stream's queue holds no memory
// for the events it could queue (Config.WatchBuffer, 4,096 by default),
// only for those queued: 200 idle streams cost well under 100 KB of heap
// each (they cost about 600 KB each when the queue was allocated whole).
func TestIdleWatchStreamsHoldLittle(t *testing.T) {
	e := newEnv(t)
	e.configure = func(c *server.Config) { c.WatchStreamsPerCaller, c.WatchStreamsPerTenant = -1, -1 }
	e.restart()
	seedTeams(e)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	partner := e.as(acme, dwell.RolePartner, "crm")
	const n = 200
	before := heap()
	for range n {
		openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{})
	}
	after := heap()
	per := (int64(after) - int64(before)) / n
	t.Logf("%d idle streams: %d bytes of heap each", n, per)
	if per > 100<<10 {
		t.Fatalf("an idle WatchEvents stream holds %d KB of heap, want under 100 KB", per>>10)
	}
}
