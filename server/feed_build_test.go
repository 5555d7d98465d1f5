package server_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// gatedStore holds a ListClients of acme, once armed, after it has read
// the store and before it returns: a first build of the tenant's geofence
// index that is slow (a large tenant, a busy database).
type gatedStore struct {
	*pgstore.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) ListClients(ctx context.Context, t dwell.TenantID, f store.ClientFilter, p store.Page) ([]dwell.Client, bool, error) {
	cs, more, err := g.Store.ListClients(ctx, t, f, p)
	if t == acme && g.armed.CompareAndSwap(true, false) {
		close(g.entered)
		<-g.release
	}
	return cs, more, err
}

// TestFeedResyncDuringFirstBuild: a resync that server B's change feed
// applies while B builds a tenant's geofence index for the first time
// (the build has read the store, the index is not stored yet) brings that
// index in step too, once built. The change the feed missed (a client
// moved 5.5 km while both servers' listeners were down) is then in B's
// index, as in A's, whose index was built before: B finds no visit at
// the client's old place. The resync used to reload only the indexes
// already built, and B kept the old fence until the client changed again.
func TestFeedResyncDuringFirstBuild(t *testing.T) {
	g := &gatedStore{entered: make(chan struct{}), release: make(chan struct{})}
	p := newPair(t, func(c *server.Config) {
		g.Store = c.Store.(*pgstore.Store)
		c.Store = g
		c.RefreshWorkers = -1 // B never leads: nothing builds its index but the call below
	})
	ctx := context.Background()
	adminA := p.a.admin(acme)
	createIda(t, p.a)
	p.a.mustCreateClient(adminA, "toko", feedLat, feedLng, 60) // at ida's stop; A's index is built
	stayDay(t, p.a)
	if server.FenceCount(p.b.srv, acme) != -1 {
		t.Fatalf("B's index is built before the test builds it")
	}
	_, aDone := server.FeedResyncs(p.a.srv)
	bBegun, bDone := server.FeedResyncs(p.b.srv)

	// B builds its index on first use (GetRepDay); the build has read toko
	// at the stop and waits.
	g.armed.Store(true)
	built := make(chan error, 1)
	go func() {
		_, err := p.b.report.GetRepDay(p.b.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: pbDate(2026, 11, 20)})
		built <- err
	}()
	select {
	case <-g.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("B did not build its index within 30 s")
	}

	// Meanwhile toko moves 5.5 km away, and both servers' listeners lose
	// their connections before hearing it (a change committed without a
	// notification, by a session that fires no triggers, is what a
	// listener that was down misses).
	silent, err := pgstore.Open(ctx, p.dsn+" session_replication_role=replica", pgstore.Options{})
	if err != nil {
		t.Fatalf("Open a store without triggers: %v", err)
	}
	defer silent.Close()
	c, err := silent.GetClient(ctx, acme, "toko")
	if err != nil {
		t.Fatal(err)
	}
	c.Fence = dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: feedLat - 0.05, Lng: feedLng}, RadiusM: 60}}
	if err := silent.UpdateClient(ctx, acme, c); err != nil {
		t.Fatalf("UpdateClient without triggers: %v", err)
	}
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	appA := "dwell-a-" + strings.TrimPrefix(p.appB, "dwell-b-")
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name IN ($1, $2) AND query = 'LISTEN dwell_changes') k`, p.appB, appA).Scan(&killed); err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d listeners, want 2", killed)
	}
	// B's reconnected feed begins its resync while the build still waits.
	eventually(t, "B's feed begins a resync", func() (bool, string) {
		n, _ := server.FeedResyncs(p.b.srv)
		return n > bBegun, ""
	})
	close(g.release)
	if err := <-built; err != nil {
		t.Fatalf("GetRepDay on B (the build): %v", err)
	}

	// A, whose index was built before, is brought in step by its resync.
	eventually(t, "A's feed applies a resync", func() (bool, string) {
		_, n := server.FeedResyncs(p.a.srv)
		return n > aDone, ""
	})
	if n, saw := visitsAt(t, p.a, "toko"); n != 0 {
		t.Errorf("A, after its resync, finds %d visit(s) at toko, which moved 5.5 km away (%s)", n, saw)
	}
	// B's resync came while its first build was in flight.
	eventually(t, "B's feed finishes its resync", func() (bool, string) {
		_, n := server.FeedResyncs(p.b.srv)
		return n > bDone, ""
	})
	if n, saw := visitsAt(t, p.b, "toko"); n != 0 {
		t.Errorf("B, after its resync, finds %d visit(s) at toko, which moved 5.5 km away (%s); A finds 0", n, saw)
	}
}
