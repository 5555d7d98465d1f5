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

// TestSyncChanges: a token sent by SyncChanges from one store is reported
// to a listener on another after the changes committed before the call,
// in order with them; its own sender hears it too. Bad tokens are
// refused, and a closed store's SyncChanges is Unavailable.
func TestSyncChanges(t *testing.T) {
	dsn := pgtest.DSN(t)
	watching, writer := openPG(t, dsn), openPG(t, dsn)
	n := feedSeq.Add(1)
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", n))
	tok := func(i int) string { return fmt.Sprintf("sync-test-%d-%d", n, i) }
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan store.Change, 100)
	done := make(chan error, 1)
	go func() {
		done <- watching.WatchChanges(ctx, func(c store.Change) {
			if c.Resync || c.Tenant == tn || c.Sync == tok(1) || c.Sync == tok(2) {
				got <- c
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	next := func(what string) store.Change {
		t.Helper()
		select {
		case c := <-got:
			return c
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: nothing reported within 30 s", what)
		}
		return store.Change{}
	}
	if c := next("start"); !c.Resync {
		t.Fatalf("first change = %+v, want a resync", c)
	}
	if err := writer.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if err := writer.SyncChanges(ctx, tok(1)); err != nil {
		t.Fatalf("SyncChanges: %v", err)
	}
	if err := watching.SyncChanges(ctx, tok(2)); err != nil {
		t.Fatalf("SyncChanges on the watching store: %v", err)
	}
	want := []store.Change{{Tenant: tn, Kind: store.ChangeClients, ID: "c1"}, {Sync: tok(1)}, {Sync: tok(2)}}
	for i, w := range want {
		if c := next(fmt.Sprintf("change %d", i)); c != w {
			t.Errorf("change %d = %+v, want %+v", i, c, w)
		}
	}

	for _, bad := range []string{"", string(make([]byte, 257))} {
		if err := writer.SyncChanges(ctx, bad); !dwell.Is(dwell.Invalid, err) {
			t.Errorf("SyncChanges(%d bytes) = %v, want Invalid", len(bad), err)
		}
	}
	closed := openPG(t, dsn)
	if err := closed.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := closed.SyncChanges(ctx, tok(3)); !dwell.Is(dwell.Unavailable, err) {
		t.Errorf("SyncChanges on a closed store = %v, want Unavailable", err)
	}
}
