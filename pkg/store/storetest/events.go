package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// runEvents runs the event log's cases (store.EventLog).
func runEvents(t *testing.T, h Harness) {
	t.Run("EventsAppendList", func(t *testing.T) { testEventsAppendList(t, h) })
	t.Run("EventsDedupByKey", func(t *testing.T) { testEventsDedupByKey(t, h) })
	t.Run("EventsExact", func(t *testing.T) { testEventsExact(t, h) })
	t.Run("EventsTenantIsolation", func(t *testing.T) { testEventsTenantIsolation(t, h) })
	t.Run("EventsInvalid", func(t *testing.T) { testEventsInvalid(t, h) })
	t.Run("EventsConcurrentAppend", func(t *testing.T) { testEventsConcurrentAppend(t, h) })
	t.Run("EventsReopen", func(t *testing.T) { testEventsReopen(t, h) })
	t.Run("EventsClosed", func(t *testing.T) { testEventsClosed(t, h) })
	t.Run("SilenceSetting", func(t *testing.T) { testSilenceSetting(t, h) })
	t.Run("PruneEvents", func(t *testing.T) { testPruneEvents(t, h) })
}

// testSilenceSetting checks that the silence threshold (which REP_SILENT
// events follow) is kept with the other settings.
func testSilenceSetting(t *testing.T, h Harness) {
	s := h.Open(t)
	set := dwell.DefaultSettings()
	set.SilenceMin = 45 * time.Minute
	must(t, "put", s.PutSettings(ctx(), tenantA, set))
	got, err := s.GetSettings(ctx(), tenantA)
	must(t, "get", err)
	wantEqual(t, "settings", got, set)
}

// event returns a distinct event number i of rep, keyed by its content.
func event(rep string, i int) dwell.Event {
	at := t0.Add(time.Duration(i) * time.Minute)
	types := []dwell.EventType{dwell.EventVisitStarted, dwell.EventIdleStarted, dwell.EventRepSilent, dwell.EventCheckInUnverified}
	e := dwell.Event{
		Type: types[i%len(types)], Rep: dwell.RepID(rep), Time: at, DetectTime: at.Add(90 * time.Second),
		Key: fmt.Sprintf("%s/%d", rep, i),
	}
	if i%2 == 0 {
		e.Client, e.Team, e.Late = "c1", "north", i%4 == 0
	}
	return e
}

func events(rep string, first, n int) []dwell.Event {
	out := make([]dwell.Event, n)
	for i := range out {
		out[i] = event(rep, first+i)
	}
	return out
}

// withSeqs returns evs with Seq set from first on.
func withSeqs(evs []dwell.Event, first uint64) []dwell.Event {
	out := append([]dwell.Event(nil), evs...)
	for i := range out {
		out[i].Seq = first + uint64(i)
	}
	return out
}

func seqRange(first uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out
}

func testEventsAppendList(t *testing.T, h Harness) {
	s := h.Open(t)
	head, err := s.LastEventSeq(ctx(), tenantA)
	must(t, "head of an empty log", err)
	wantEqual(t, "head of an empty log", head, uint64(0))
	got, err := s.ListEvents(ctx(), tenantA, 0, 10)
	must(t, "list an empty log", err)
	wantEqual(t, "list an empty log", got, []dwell.Event{})

	first := events("r1", 0, 5)
	seqs, err := s.AppendEvents(ctx(), tenantA, first)
	must(t, "append", err)
	wantEqual(t, "seqs", seqs, seqRange(1, 5))
	second := events("r2", 0, 3)
	seqs, err = s.AppendEvents(ctx(), tenantA, second)
	must(t, "append more", err)
	wantEqual(t, "seqs of the second append", seqs, seqRange(6, 3))

	all := append(withSeqs(first, 1), withSeqs(second, 6)...)
	got, err = s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "list all", err)
	wantEqual(t, "list all", got, all)
	got, err = s.ListEvents(ctx(), tenantA, 3, 2)
	must(t, "list after 3, limit 2", err)
	wantEqual(t, "list after 3, limit 2", got, all[3:5])
	got, err = s.ListEvents(ctx(), tenantA, 8, 10)
	must(t, "list after the head", err)
	wantEqual(t, "list after the head", got, []dwell.Event{})
	got, err = s.ListEvents(ctx(), tenantA, ^uint64(0), 10)
	must(t, "list after the largest seq", err)
	wantEqual(t, "list after the largest seq", got, []dwell.Event{})
	head, err = s.LastEventSeq(ctx(), tenantA)
	must(t, "head", err)
	wantEqual(t, "head", head, uint64(8))
	seqs, err = s.AppendEvents(ctx(), tenantA, nil)
	must(t, "append nothing", err)
	wantEqual(t, "append nothing", seqs, []uint64{})
}

// testEventsExact checks that the log gives an event back exactly as it
// was appended: every field the same, its times the same instants to the
// nanosecond (in UTC, whatever zone or monotonic reading they were given
// with). WatchEvents' cursors carry a check of their event's content that
// a resume compares with the event read from the log (server/watch.go).
func testEventsExact(t *testing.T, h Harness) {
	s := h.Open(t)
	zone := time.FixedZone("UTC-7", -7*3600)
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, zone)
	detect := time.Now().Add(time.Hour) // with a monotonic reading
	evs := []dwell.Event{
		{Type: dwell.EventVisitEnded, Rep: "r1", Team: "north", Client: "c1", Time: at, DetectTime: detect, Late: true, Key: "k/1"},
		{Type: dwell.EventRepSilent, Rep: "r2", Time: at.Add(-time.Nanosecond), DetectTime: detect.Add(987654321)},
	}
	seqs, err := s.AppendEvents(ctx(), tenantA, evs)
	must(t, "append", err)
	got, err := s.ListEvents(ctx(), tenantA, 0, 10)
	must(t, "list", err)
	if len(got) != len(evs) {
		t.Fatalf("listed %d events, want %d", len(got), len(evs))
	}
	for i, e := range evs {
		g := got[i]
		if g.Seq != seqs[i] || g.Type != e.Type || g.Rep != e.Rep || g.Team != e.Team || g.Client != e.Client ||
			g.Late != e.Late || g.Key != e.Key || g.Time.UnixNano() != e.Time.UnixNano() ||
			g.DetectTime.UnixNano() != e.DetectTime.UnixNano() || g.Time.Location() != time.UTC || g.DetectTime.Location() != time.UTC {
			t.Fatalf("event %d listed as %+v, appended as %+v", i, g, e)
		}
	}
}

func testEventsDedupByKey(t *testing.T, h Harness) {
	s := h.Open(t)
	evs := events("r1", 0, 3)
	_, err := s.AppendEvents(ctx(), tenantA, evs)
	must(t, "append", err)
	// A repeat of event 1, a new event, the new event again in the same
	// call, and two events without a key (never deduplicated).
	noKey := event("r1", 10)
	noKey.Key = ""
	again := []dwell.Event{evs[1], event("r1", 3), event("r1", 3), noKey, noKey}
	seqs, err := s.AppendEvents(ctx(), tenantA, again)
	must(t, "append again", err)
	wantEqual(t, "seqs", seqs, []uint64{0, 4, 0, 5, 6})
	got, err := s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "list", err)
	want := append(withSeqs(evs, 1), withSeqs([]dwell.Event{event("r1", 3), noKey, noKey}, 4)...)
	wantEqual(t, "list", got, want)
}

func testEventsTenantIsolation(t *testing.T, h Harness) {
	s := h.Open(t)
	a, b := events("r1", 0, 4), events("r1", 0, 2)
	b[0].Client = "globex-site"
	_, err := s.AppendEvents(ctx(), tenantA, a)
	must(t, "append A", err)
	// The same keys in another tenant are other facts.
	seqs, err := s.AppendEvents(ctx(), tenantB, b)
	must(t, "append B", err)
	wantEqual(t, "seqs of B", seqs, seqRange(1, 2))
	got, err := s.ListEvents(ctx(), tenantB, 0, 100)
	must(t, "list B", err)
	wantEqual(t, "list B", got, withSeqs(b, 1))
	got, err = s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "list A", err)
	wantEqual(t, "list A", got, withSeqs(a, 1))
	head, err := s.LastEventSeq(ctx(), "initech")
	must(t, "head of a tenant without events", err)
	wantEqual(t, "head of a tenant without events", head, uint64(0))
}

func testEventsInvalid(t *testing.T, h Harness) {
	s := h.Open(t)
	good := event("r1", 0)
	bad := map[string]func(e *dwell.Event){
		"no type":      func(e *dwell.Event) { e.Type = dwell.EventTypeUnspecified },
		"unknown type": func(e *dwell.Event) { e.Type = 99 },
		"no rep":       func(e *dwell.Event) { e.Rep = "" },
		"long key":     func(e *dwell.Event) { e.Key = strings.Repeat("k", dwell.MaxEventKeyBytes+1) },
		"time":         func(e *dwell.Event) { e.Time = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
	for name, f := range bad {
		e := event("r1", 1)
		f(&e)
		_, err := s.AppendEvents(ctx(), tenantA, []dwell.Event{good, e})
		wantKind(t, name, err, dwell.Invalid)
	}
	_, err := s.AppendEvents(ctx(), "", []dwell.Event{good})
	wantKind(t, "no tenant", err, dwell.Invalid)
	for _, limit := range []int{0, -1, store.MaxEventsPerList + 1} {
		_, err := s.ListEvents(ctx(), tenantA, 0, limit)
		wantKind(t, fmt.Sprintf("limit %d", limit), err, dwell.Invalid)
	}
	got, err := s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "list", err)
	wantEqual(t, "nothing written by a failed append", got, []dwell.Event{})
}

// testEventsConcurrentAppend checks that concurrent appends get distinct,
// gap-free numbers and that each number lists the event it was given to.
func testEventsConcurrentAppend(t *testing.T, h Harness) {
	s := h.Open(t)
	const writers, calls, per = 8, 10, 5
	var wg sync.WaitGroup
	got := make([]map[uint64]dwell.Event, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			got[w] = map[uint64]dwell.Event{}
			rep := fmt.Sprintf("r%d", w)
			for c := range calls {
				evs := events(rep, c*per, per)
				seqs, err := s.AppendEvents(ctx(), tenantA, evs)
				if err != nil {
					errs[w] = err
					return
				}
				for i, seq := range seqs {
					got[w][seq] = evs[i]
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "concurrent append", err)
	}
	all, err := s.ListEvents(ctx(), tenantA, 0, store.MaxEventsPerList)
	must(t, "list", err)
	if len(all) != writers*calls*per {
		t.Fatalf("listed %d events, want %d", len(all), writers*calls*per)
	}
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d, want %d (gap-free, increasing)", i, e.Seq, i+1)
		}
		var w int
		fmt.Sscanf(string(e.Rep), "r%d", &w)
		want, ok := got[w][e.Seq]
		if !ok {
			t.Fatalf("seq %d lists %s's event that no append was given", e.Seq, e.Rep)
		}
		want.Seq = e.Seq
		wantEqual(t, fmt.Sprintf("event %d", e.Seq), e, want)
	}
	// Each writer's events are in its own order: a later call, a later seq.
	last := map[dwell.RepID]time.Time{}
	for _, e := range all {
		if e.Time.Before(last[e.Rep]) {
			t.Fatalf("seq %d of %s goes back in time: %v after %v", e.Seq, e.Rep, e.Time, last[e.Rep])
		}
		last[e.Rep] = e.Time
	}
}

func testEventsReopen(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("no Reopen hook")
	}
	s := h.Open(t)
	evs := events("r1", 0, 4)
	_, err := s.AppendEvents(ctx(), tenantA, evs)
	must(t, "append", err)
	s = h.Reopen(t, s)
	got, err := s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "list after reopen", err)
	wantEqual(t, "list after reopen", got, withSeqs(evs, 1))
	// Numbers go on from where they were and keys are still known.
	seqs, err := s.AppendEvents(ctx(), tenantA, []dwell.Event{evs[0], event("r1", 4)})
	must(t, "append after reopen", err)
	wantEqual(t, "seqs after reopen", seqs, []uint64{0, 5})
	head, err := s.LastEventSeq(ctx(), tenantA)
	must(t, "head after reopen", err)
	wantEqual(t, "head after reopen", head, uint64(5))
}

func testEventsClosed(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "close", s.Close())
	_, err := s.AppendEvents(ctx(), tenantA, events("r1", 0, 1))
	wantKind(t, "AppendEvents after Close", err, dwell.Unavailable)
	_, err = s.ListEvents(ctx(), tenantA, 0, 1)
	wantKind(t, "ListEvents after Close", err, dwell.Unavailable)
	_, err = s.LastEventSeq(ctx(), tenantA)
	wantKind(t, "LastEventSeq after Close", err, dwell.Unavailable)
}

func testPruneEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	// event(rep, i) is detected at t0 + i minutes + 90 s.
	_, err := s.AppendEvents(ctx(), tenantA, events("r1", 0, 10))
	must(t, "AppendEvents", err)
	_, err = s.AppendEvents(ctx(), tenantB, events("r1", 0, 10))
	must(t, "AppendEvents tenant B", err)
	seq, err := s.PrunedEventSeq(ctx(), tenantA)
	must(t, "PrunedEventSeq", err)
	wantEqual(t, "pruned before any prune", seq, uint64(0))

	// Before the 6th detection: five go, two per call.
	before := t0.Add(5*time.Minute + 90*time.Second)
	total := 0
	for more := true; more; {
		var n int
		n, more, err = s.PruneEvents(ctx(), tenantA, before, 2)
		must(t, "PruneEvents", err)
		if n > 2 {
			t.Fatalf("PruneEvents with limit 2 deleted %d", n)
		}
		total += n
	}
	wantEqual(t, "events pruned", total, 5)
	seq, err = s.PrunedEventSeq(ctx(), tenantA)
	must(t, "PrunedEventSeq", err)
	wantEqual(t, "pruned through", seq, uint64(5))
	evs, err := s.ListEvents(ctx(), tenantA, 0, 100)
	must(t, "ListEvents", err)
	wantEqual(t, "events kept", evs, withSeqs(events("r1", 5, 5), 6))
	other, err := s.ListEvents(ctx(), tenantB, 0, 100)
	must(t, "ListEvents tenant B", err)
	wantEqual(t, "the other tenant's events", len(other), 10)
	// A pruned event's key is free again; numbering goes on.
	seqs, err := s.AppendEvents(ctx(), tenantA, events("r1", 0, 1))
	must(t, "AppendEvents of a pruned key", err)
	wantEqual(t, "sequence of the re-appended event", seqs, []uint64{11})
	// The first event kept stops the prune, even though the re-appended
	// one after it is older: the kept part is a suffix of the log.
	n, _, err := s.PruneEvents(ctx(), tenantA, t0.Add(3*time.Minute), 100)
	must(t, "PruneEvents up to 3 minutes", err)
	wantEqual(t, "pruned behind a newer event", n, 0)
	n, _, err = s.PruneEvents(ctx(), tenantA, t0.Add(time.Hour), 100)
	must(t, "PruneEvents up to an hour", err)
	wantEqual(t, "pruned up to an hour", n, 6)
	_, _, err = s.PruneEvents(ctx(), tenantA, t0, 0)
	wantKind(t, "PruneEvents with limit 0", err, dwell.Invalid)
}
