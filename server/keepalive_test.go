package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/nettest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestWatchSurvivesClientKeepalive holds an idle WatchEvents stream open
// on a connection whose client pings every 10 seconds (the least grpc-go
// allows, and what watchers that want to notice a dead connection set).
// Under grpc-go's default enforcement policy (5 minutes) the server would
// count every ping after the first as a strike and answer the fourth with
// GOAWAY "too_many_pings", ending the stream UNAVAILABLE after about 40
// seconds; the server permits such pings, so the stream is still open
// after 50 seconds and ends only when the client cancels it.
func TestWatchSurvivesClientKeepalive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ended, cancel := watchWithKeepalive(t, e, e.conn.Target())
	defer cancel()
	select {
	case err := <-ended:
		t.Fatalf("an idle watch on a connection pinging every 10 s ended: %v", err)
	case <-time.After(50 * time.Second):
	}
	cancel()
	if err := <-ended; status.Code(err) != codes.Canceled {
		t.Errorf("the watch ended with %v, want CANCELED by the client", err)
	}
}

// TestWatchNoticesDeadConnection cuts an idle WatchEvents stream's
// connection off without closing it (a phone that lost its network, a
// load balancer that dropped the flow): the client, pinging every 10
// seconds with a 5-second timeout as WatchEvents' documentation advises,
// sees the stream end UNAVAILABLE within about 15 seconds, and can
// resume from its cursor; without the pings it would wait for events that
// never come.
func TestWatchNoticesDeadConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := nettest.Start(t, "tcp", e.conn.Target())
	ended, cancel := watchWithKeepalive(t, e, g.Addr())
	defer cancel()
	g.Freeze()
	cut := time.Now()
	select {
	case err := <-ended:
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("the watch on the dead connection ended with %v, want UNAVAILABLE", err)
		}
		t.Logf("the client noticed %v after the cut: %v", time.Since(cut).Round(time.Millisecond), err)
	case <-time.After(60 * time.Second):
		t.Fatal("the watch on the dead connection is still open after 60 s")
	}
}

// watchWithKeepalive opens an idle WatchEvents stream as the tenant's
// admin on a connection of its own to target, whose client pings every 10
// seconds (the least grpc-go allows) and gives up after 5 seconds without
// an answer. The channel receives the error the stream ends with; cancel
// ends it from the client.
func watchWithKeepalive(t *testing.T, e *env, target string) (<-chan error, context.CancelFunc) {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// Not e.admin: its context ends after 30 seconds.
	tok, err := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, e.now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok))
	stream, err := dwellv1.NewReportServiceClient(conn).WatchEvents(ctx, &dwellv1.WatchEventsRequest{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		cancel()
		t.Fatalf("WatchEvents: no headers: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				ended <- err
				return
			}
		}
	}()
	return ended, cancel
}
