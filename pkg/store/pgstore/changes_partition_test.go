package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/nettest"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestWatchChangesPartitioned cuts the listener's connection off from the
// database without closing it, as a failover that moved the database does:
// the listener notices (its connection does not answer the check it makes
// when no notification comes), reconnects, reports a resync, and reports
// the changes committed after it. Before the check it waited on the dead
// connection for good, and the server's caches missed every other
// server's changes.
func TestWatchChangesPartitioned(t *testing.T) {
	g, st, dsn, tn := gatedStore(t)
	direct := openPG(t, dsn)
	w := watch(t, st, tn)
	w.want("start", store.Change{Resync: true})
	ctx := context.Background()
	if err := direct.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	w.want("before the cut", store.Change{Tenant: tn, Kind: store.ChangeClients, ID: "c1"})

	g.Cut()
	cut := time.Now()
	w.want("after the cut", store.Change{Resync: true})
	t.Logf("the listener reconnected %v after the cut", time.Since(cut).Round(time.Millisecond))
	if err := direct.CreateClient(ctx, tn, feedClient("c2")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	w.want("after the reconnection", store.Change{Tenant: tn, Kind: store.ChangeClients, ID: "c2"})
}

// gatedStore opens a store whose connections pass a gate, and returns the
// gate, the store, the connection string without the gate and a tenant
// of the test's own. The gate lets every connection pass again when the
// test ends, so that cut ones close as usual.
func gatedStore(t *testing.T) (*nettest.Gate, *pgstore.Store, string, dwell.TenantID) {
	dsn := pgtest.DSN(t)
	g, gated := newGate(t, dsn)
	st := openPG(t, gated)
	t.Cleanup(g.Release) // runs before the store's Close
	return g, st, dsn, dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
}

// TestWatchChangesBusy keeps a listener busy, a change every 2 s for 40 s,
// longer than the 30 s its session may go without a query: the listener
// still checks its connection every 5 s, so the server does not end its
// session as idle and it reports no resync. (Timing the check from the
// last notification, a busy listener never sent a query, and PostgreSQL
// ended its session every 30 s: a resync each time, which rebuilds every
// geofence index of the server.) Then the store is closed while changes
// keep coming, and WatchChanges returns within a check.
func TestWatchChangesBusy(t *testing.T) {
	dsn := pgtest.DSN(t)
	st, direct := openPG(t, dsn), openPG(t, dsn)
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
	w := watch(t, st, tn)
	w.want("start", store.Change{Resync: true})
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("c%d", i)
		if err := direct.CreateClient(ctx, tn, feedClient(id)); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		w.want(fmt.Sprintf("change %d of 20, one every 2 s", i+1), store.Change{Tenant: tn, Kind: store.ChangeClients, ID: id})
		time.Sleep(2 * time.Second)
	}

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			_ = direct.CreateClient(ctx, tn, feedClient(fmt.Sprintf("d%d", i)))
		}
	}()
	closed := time.Now()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case c := <-w.ch:
			if c.Resync {
				t.Fatalf("a resync after the store was closed")
			}
			continue
		case err := <-w.done:
			w.done <- err // for the watcher's cleanup
			if !dwell.Is(dwell.Unavailable, err) {
				t.Errorf("WatchChanges on a closed store returned %v, want Unavailable", err)
			}
			t.Logf("WatchChanges returned %v after Close", time.Since(closed).Round(time.Millisecond))
		case <-time.After(20 * time.Second):
			t.Fatal("WatchChanges has not returned 20 s after Close")
		}
		return
	}
}
