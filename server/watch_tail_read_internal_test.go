package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// gateStream is a WatchEvents server stream whose Send blocks while gate
// is held, and reports what it sent on out.
type gateStream struct {
	dwellv1.ReportService_WatchEventsServer
	ctx  context.Context
	gate chan struct{} // a value is taken per Send
	out  chan *dwellv1.WatchEventsResponse
}

func (g *gateStream) Context() context.Context     { return g.ctx }
func (g *gateStream) SendHeader(metadata.MD) error { return nil }
func (g *gateStream) Send(r *dwellv1.WatchEventsResponse) error {
	select {
	case <-g.gate:
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
	g.out <- r
	return nil
}

// TestWatchTailPartialRead: a stream behind in this server's tail
// while the feed raises the tail's high mark (another server appended)
// reads the tail up to its end, fewer than watchPage events, and reads on
// from the store: the other server's event is delivered at once. (It took
// itself for caught up and waited for the next wake-up, so the event came
// only with some later append: hours on a quiet tenant. A reviewer's find.)
func TestWatchTailPartialRead(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "dwell.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Config{Store: st, SilenceSweep: -1, RetentionSweep: -1, RefreshWorkers: -1, WatchBuffer: 1, WatchStall: time.Minute})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const tn = dwell.TenantID("acme")
	at := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	n := 0
	ev := func() dwell.Event {
		n++
		return dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Team: "north", Time: at, DetectTime: at, Key: time.Duration(n).String()}
	}
	pub := func(k int) {
		var evs []dwell.Event
		for range k {
			evs = append(evs, ev())
		}
		if _, err := s.events.publish(ctx, tn, evs); err != nil {
			t.Fatal(err)
		}
	}
	pub(1) // seq 1: the tail is [1]
	gs := &gateStream{ctx: ctx, gate: make(chan struct{}), out: make(chan *dwellv1.WatchEventsResponse, 100)}
	wake := s.events.waiter(tn)
	done := make(chan error, 1)
	go func() { done <- s.watch(ctx, "test", tn, gs, watchScope{}, 0, wake, -1, time.Time{}) }()
	time.Sleep(200 * time.Millisecond) // 1 taken by the sender, blocked in Send
	pub(4)                             // 2..5: 2 queued, the stream blocks on 3 (queue of 1)
	time.Sleep(200 * time.Millisecond)
	pub(5) // 6..10 in the tail, the stream's waiter closed
	// Another server appends 11; the feed reports it: the tail's high
	// mark is raised to 11 (no waiter left to close).
	if _, err := st.AppendEvents(ctx, tn, []dwell.Event{ev()}); err != nil {
		t.Fatal(err)
	}
	if err := s.events.appended(ctx, tn); err != nil {
		t.Fatal(err)
	}
	close(gs.gate) // the client reads again
	var got []uint64
	deadline := time.After(3 * time.Second)
	for len(got) == 0 || got[len(got)-1] < 11 {
		select {
		case r := <-gs.out:
			for _, e := range r.GetEvents() {
				pos, _ := decodeCursor(tn, e.GetCursor())
				got = append(got, pos.seq)
			}
		case <-deadline:
			t.Fatalf("after 3 s the stream delivered %v: event 11 (in the log, its append heard) is stuck until the next append", got)
		}
	}
	t.Logf("delivered %v", got)
}
