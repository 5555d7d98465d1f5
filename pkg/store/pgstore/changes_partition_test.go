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
