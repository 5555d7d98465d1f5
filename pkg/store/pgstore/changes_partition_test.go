package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
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
	dsn := pgtest.DSN(t)
	g, gated := newGate(t, dsn)
	st := openPG(t, gated)
	direct := openPG(t, dsn)
	t.Cleanup(func() { g.cutAt.Store(0) }) // runs first: the cut connections close as usual
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
	w := watch(t, st, tn)
	w.want("start", store.Change{Resync: true})
	ctx := context.Background()
	if err := direct.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	w.want("before the cut", store.Change{Tenant: tn, Kind: store.ChangeClients, ID: "c1"})

	g.cut()
	cut := time.Now()
	w.want("after the cut", store.Change{Resync: true})
	t.Logf("the listener reconnected %v after the cut", time.Since(cut).Round(time.Millisecond))
	if err := direct.CreateClient(ctx, tn, feedClient("c2")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	w.want("after the reconnection", store.Change{Tenant: tn, Kind: store.ChangeClients, ID: "c2"})
}
