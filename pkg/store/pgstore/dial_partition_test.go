package pgstore_test

import (
	"context"
	"testing"
	"time"
)

// TestIdleConnectionCut cuts the pool's idle connections off from the
// database without closing them, as a failover that moved the database
// does: the next call, made without a deadline, is not held by them. The
// pool pings a connection idle for a second before handing it out, gives
// it up when the ping is not answered within 5 s, and the call goes on a
// new connection. Before the ping's bound the call waited on the dead
// connection for good.
func TestIdleConnectionCut(t *testing.T) {
	g, st, _, tn := gatedStore(t)
	ctx := context.Background()
	if err := st.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient before the cut: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // idle long enough to be pinged
	g.Cut()
	cut := time.Now()
	done := make(chan error, 1)
	go func() { done <- st.CreateClient(ctx, tn, feedClient("c2")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("CreateClient after the cut: %v", err)
		}
		t.Logf("the call after the cut returned in %v", time.Since(cut).Round(time.Millisecond))
	case <-time.After(60 * time.Second):
		t.Fatal("the call after the cut still waits after 60 s")
	}
	if _, err := st.GetClient(ctx, tn, "c2"); err != nil {
		t.Fatalf("GetClient: %v", err)
	}
}
