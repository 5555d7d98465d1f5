package server

import (
	"context"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// appendHook is a real store that runs after, once, right after its next
// append committed.
type appendHook struct {
	store.Store
	after func()
}

func (h *appendHook) AppendEvents(ctx context.Context, t dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	seqs, err := h.Store.AppendEvents(ctx, t, evs)
	if f := h.after; f != nil && err == nil {
		h.after = nil
		f()
	}
	return seqs, err
}

// TestTailHearsAppendDuringPublish: server B's broker has no tail for the
// tenant; B publishes an event, and between its append's commit and its
// tail's creation server A appends one and B's change feed reports it
// (broker.appended). B's new tail must not take a stream past B's event
// for caught up: A's event is in the log, and the stream would wait for
// the next append to see it. Two stores on one PostgreSQL schema, as two
// servers; B's feed is played by calling appended where it would.
func TestTailHearsAppendDuringPublish(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	stA, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		t.Fatalf("pgstore.Open: %v", err)
	}
	defer stA.Close()
	stB, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		t.Fatalf("pgstore.Open: %v", err)
	}
	defer stB.Close()
	const tn = dwell.TenantID("acme")
	at := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	ev := func(key string) dwell.Event {
		return dwell.Event{Type: dwell.EventIdleStarted, Rep: "ida", Time: at, DetectTime: at, Key: key}
	}
	hb := &appendHook{Store: stB}
	b := newBroker(hb)
	hb.after = func() {
		if _, err := stA.AppendEvents(ctx, tn, []dwell.Event{ev("from-a")}); err != nil {
			t.Errorf("A's AppendEvents: %v", err)
		}
		if err := b.appended(ctx, tn); err != nil {
			t.Errorf("appended: %v", err)
		}
	}
	seqs, err := b.publish(ctx, tn, []dwell.Event{ev("from-b")})
	if err != nil || len(seqs) != 1 || seqs[0] != 1 {
		t.Fatalf("B's publish = %v, %v; want seq 1", seqs, err)
	}
	head, err := stB.LastEventSeq(ctx, tn)
	if err != nil || head != 2 {
		t.Fatalf("LastEventSeq = %d, %v; want 2", head, err)
	}
	if evs, ok := b.recent(tn, 1, watchPage); ok && len(evs) == 0 {
		t.Errorf("B's tail says a stream past seq 1 is caught up; the log holds seq 2 (A's)")
	}
}
