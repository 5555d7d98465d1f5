package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/nettest"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestCallOnDeadPath makes a call, without a deadline, on a connection
// whose path to the database has just died in the kernel's own eyes (the
// link is down: every packet dropped, no FIN, no RST), as a partition or
// a database host lost in a failover does. The query is sent and never
// acknowledged; the connection's TCP_USER_TIMEOUT (20 s, dial.go) gives it
// up and the call fails as Unavailable, which a phone retries. Without it
// the kernel retransmits for about 15 minutes and the call waits as long.
// Once the link is back, calls succeed again on new connections.
func TestCallOnDeadPath(t *testing.T) {
	dsn := pgtest.DSN(t)
	var l *nettest.Link
	through := proxied(t, dsn, func(network, addr string) (string, int) {
		l = nettest.StartLink(t, network, addr)
		return l.Host(), l.Port()
	})
	st := openPG(t, through)
	t.Cleanup(func() { l.Up(t) }) // before the store's Close
	tn := dwell.TenantID("deadpath")
	ctx := context.Background()
	if err := st.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient before Down: %v", err)
	}

	// At once, so the pool hands out the connection just used without
	// pinging it (it pings those idle for a second or more).
	l.Down(t)
	down := time.Now()
	done := make(chan error, 1)
	go func() { done <- st.CreateClient(ctx, tn, feedClient("c2")) }()
	select {
	case err := <-done:
		took := time.Since(down)
		if err == nil {
			t.Fatalf("CreateClient across a link that is down succeeded after %v", took)
		}
		if !dwell.Is(dwell.Unavailable, err) {
			t.Errorf("CreateClient on a dead path: %v, want kind Unavailable", err)
		}
		if took < 15*time.Second {
			t.Fatalf("CreateClient failed %v after Down (%v): before TCP_USER_TIMEOUT, so something other than the bound ended it", took, err)
		}
		t.Logf("CreateClient on a dead path failed %v after Down: %v", took.Round(time.Millisecond), err)
	case <-time.After(60 * time.Second):
		t.Fatal("CreateClient on a dead path still waits 60 s after Down: TCP_USER_TIMEOUT did not bound it")
	}

	l.Up(t)
	if err := st.CreateClient(ctx, tn, feedClient("c3")); err != nil {
		t.Fatalf("CreateClient after Up: %v", err)
	}
	if _, err := st.GetClient(ctx, tn, "c2"); !dwell.Is(dwell.NotFound, err) {
		t.Errorf("GetClient(c2) after its call failed = %v, want NotFound (the insert was never committed)", err)
	}
}
