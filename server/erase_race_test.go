package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// repEvents returns the tenant's stored events about rep, as e's store
// lists them.
func repEvents(t testing.TB, e *env, rep dwell.RepID) []dwell.Event {
	t.Helper()
	evs, err := e.st.ListEvents(context.Background(), acme, 0, 1000)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var out []dwell.Event
	for _, ev := range evs {
		if ev.Rep == rep {
			out = append(out, ev)
		}
	}
	return out
}

// TestEraseDuringLeaderRefresh: two servers share one database. The lease
// holder's refresher has read ida's day (before publishing its events and
// storing its summary) when an admin erases ida's history through the
// other server: nothing of what it read is published or stored after the
// erase. Fixes ida uploads after the erase, the same day, are new history
// and are summarised and published as usual.
func TestEraseDuringLeaderRefresh(t *testing.T) {
	p := newPair(t, nil)
	leader := wantOneLeader(t, []*env{p.a, p.b}, "a lease holder")
	other := p.a
	if other == leader {
		other = p.b
	}
	ctx := context.Background()
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	server.HoldDayListener(leader.srv, func(rep dwell.RepID) {
		if rep == "ida" {
			once.Do(func() { close(reached); <-release })
		}
	})
	createIda(t, other)
	other.mustCreateClient(other.admin(acme), "toko", feedLat, feedLng, 60)
	stayDay(t, other)
	done := make(chan error, 1)
	go func() { done <- leader.srv.Refresh(ctx) }()
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the lease holder did not derive ida's day within 30 s")
	}
	if _, err := other.dirc.EraseRepHistory(other.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/ida"}); err != nil {
		t.Fatalf("EraseRepHistory: %v", err)
	}
	close(release)
	// Refresh returns after the pass that held the day (its own, or the
	// background loop's before it: passes take turns).
	if err := <-done; err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if evs := repEvents(t, other, "ida"); len(evs) != 0 {
		t.Errorf("events of the erased history in the log after the erase: %+v", evs)
	}
	day := dwell.Date{Year: 2026, Month: 11, Day: 20}
	sum, _, err := other.st.GetDaySummary(ctx, acme, "ida", day)
	if err != nil {
		t.Fatalf("GetDaySummary: %v", err)
	}
	if sum.Summary != nil {
		t.Errorf("a summary of the erased day is stored after the erase (%d bytes, summary version %d, data version %d)", len(sum.Summary), sum.SummaryVersion, sum.Version)
	}

	// ida keeps working: the day's fixes uploaded again are new history.
	stayDay(t, other)
	eventually(t, "events and a current summary of the fixes uploaded after the erase", func() (bool, string) {
		sum, _, err := other.st.GetDaySummary(ctx, acme, "ida", day)
		if err != nil {
			t.Fatalf("GetDaySummary: %v", err)
		}
		var types []dwell.EventType
		for _, e := range repEvents(t, other, "ida") {
			types = append(types, e.Type)
		}
		visited := false
		for _, ty := range types {
			visited = visited || ty == dwell.EventVisitStarted
		}
		return sum.Current() && visited, fmt.Sprintf("summary %d bytes (version %d of %d), events %v", len(sum.Summary), sum.SummaryVersion, sum.Version, types)
	})
}
