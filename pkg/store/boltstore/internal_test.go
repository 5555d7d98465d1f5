package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"

	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/storetest"
)

// TestConformanceTinyIndex runs the conformance suite with a fix-id index
// that merges every few fixes and keeps almost nothing in memory, so that
// merges, reloads from the file and eviction run all the time.
func TestConformanceTinyIndex(t *testing.T) {
	var paths sync.Map
	open := func(t *testing.T, path string) store.Store {
		s, err := Open(path, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s.mergeMin, s.indexBudget = 7, 20
		paths.Store(s, path)
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) store.Store { return open(t, filepath.Join(t.TempDir(), "dwell.db")) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path, _ := paths.Load(s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path.(string))
		},
	})
}

// TestGroupRollback checks that a request failing with kind Other inside a
// group rolls the group back and retries its requests one by one: the
// others succeed, and the in-memory fix index does not keep what the rolled
// back transaction did.
func TestGroupRollback(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(first, n int) []dwell.Fix { return secondFixes(t0, first, n) }
	if _, err := s.AppendFixes(ctx, "t", "r", mk(0, 10)); err != nil {
		t.Fatal(err)
	}
	rk := repKey{"t", "r"}
	ok1, err := newFixBatch("test", rk, mk(10, 5))
	if err != nil {
		t.Fatal(err)
	}
	// The bad request first stores fixes of its own, then fails.
	bad, err := newFixBatch("test", rk, mk(20, 5))
	if err != nil {
		t.Fatal(err)
	}
	ok2, err := newFixBatch("test", repKey{"t", "r2"}, mk(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	group := []*request{
		{apply: ok1.apply},
		{apply: func(t *txn) error {
			if err := bad.apply(t); err != nil {
				return err
			}
			return dwell.E(dwell.Other, "injected failure after writing")
		}},
		{apply: ok2.apply},
	}
	// The committer is idle (every earlier write has returned), so running a
	// group from here does not race with it.
	s.commit(group)
	if group[0].err != nil || group[2].err != nil {
		t.Fatalf("good requests failed: %v, %v", group[0].err, group[2].err)
	}
	if !dwell.Is(dwell.Other, group[1].err) {
		t.Fatalf("bad request: %v, want kind Other", group[1].err)
	}
	got, err := s.ListFixes(ctx, "t", "r", time.Time{}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 {
		t.Fatalf("rep r has %d fixes, want 15 (the bad request's must be gone)", len(got))
	}
	// The bad request's fixes are not known to dedup (the rollback dropped
	// them from memory too); the good ones are.
	stored, err := s.AppendFixes(ctx, "t", "r", append(mk(20, 5), mk(10, 5)...))
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, true, true, true, false, false, false, false, false}
	if !slices.Equal(stored, want) {
		t.Fatalf("after rollback: stored = %v, want %v", stored, want)
	}
}

// TestPruneCompactsIndex checks that the fix-id index forgets pruned fixes
// at its next compaction: the runs and the committer's view shrink to the
// fixes kept, and a pruned id is new again.
func TestPruneCompactsIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mergeMin = 7
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	mk := func(first, n int) []dwell.Fix { return secondFixes(t0, first, n) }
	for i := 0; i < 200; i += 10 {
		if _, err := s.AppendFixes(ctx, "t", "r", mk(i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	n, more, err := s.PruneFixes(ctx, "t", "r", t0.Add(150*time.Second), 1000)
	if err != nil || n != 150 || more {
		t.Fatalf("PruneFixes = %d, %v, %v, want 150, false, nil", n, more, err)
	}
	// Enough new fixes to make more than maxRuns runs, hence a compaction.
	for i := 200; i < 200+10*(maxRuns+2); i += 10 {
		if _, err := s.AppendFixes(ctx, "t", "r", mk(i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	kept := 50 + 10*(maxRuns+2)
	var entries int
	err = s.view(ctx, "test", func(tx *bolt.Tx) error {
		entries = 0
		if err := readRepSub(tx, "t", "r", bktFixIDs).ForEach(func(_, run []byte) error {
			entries += len(run) / entryLen
			return nil
		}); err != nil {
			return err
		}
		return readRepSub(tx, "t", "r", bktFixLog).ForEach(func(_, rec []byte) error {
			entries += len(rec) / entryLen
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries != kept {
		t.Fatalf("fix-id index holds %d entries after compaction, want %d (the kept fixes)", entries, kept)
	}
	// The committer is idle: its view can be read from here.
	if ri := s.index[repKey{"t", "r"}]; ri == nil || ri.size() != kept {
		t.Fatalf("view of the index = %+v, want %d entries", ri, kept)
	}
	stored, err := s.AppendFixes(ctx, "t", "r", append(mk(0, 2), mk(160, 1)...))
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, true, false}; !slices.Equal(stored, want) {
		t.Fatalf("pruned and kept ids re-sent: stored = %v, want %v", stored, want)
	}
}

// secondFixes returns n bare fixes "f<i>" for i from first, one a second
// from t0.
func secondFixes(t0 time.Time, first, n int) []dwell.Fix {
	out := make([]dwell.Fix, n)
	for i := range out {
		out[i] = dwell.Fix{ID: fmt.Sprint("f", first+i), Time: t0.Add(time.Duration(first+i) * time.Second), SpeedMPS: -1, BearingDeg: -1}
	}
	return out
}

// TestOpportunityRepIndexHasNoLeftovers: a batch naming a deal under two
// reps, then a move, leave exactly one rep-index entry for it, its last
// rep's. (Lists re-check each deal's rep, so a leftover entry changes no
// answer; only this look at the bucket sees it.)
func TestOpportunityRepIndexHasNoLeftovers(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	o := func(rep string) dwell.Opportunity {
		return dwell.Opportunity{ID: "deal", Rep: dwell.RepID(rep), Client: "c1", Stage: dwell.StageOpen,
			Amount: dwell.Money{Currency: "IDR", AmountMinor: 1}, OpenTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	entries := func() []string {
		var keys []string
		if err := s.view(ctx, "test", func(tx *bolt.Tx) error {
			if b := readTenantSub(tx, "acme", bktOpportunitiesRep); b != nil {
				return b.ForEach(func(k, _ []byte) error { keys = append(keys, fmt.Sprintf("%q", k)); return nil })
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	if _, err := s.PutOpportunities(ctx, "acme", "", []dwell.Opportunity{o("r3"), o("r4")}); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("%q", append(repPrefix("r4"), "deal"...))}
	if got := entries(); !slices.Equal(got, want) {
		t.Fatalf("rep index after a batch naming the deal under r3 then r4: %v, want %v", got, want)
	}
	if _, err := s.PutOpportunities(ctx, "acme", "", []dwell.Opportunity{o("r5")}); err != nil {
		t.Fatal(err)
	}
	want = []string{fmt.Sprintf("%q", append(repPrefix("r5"), "deal"...))}
	if got := entries(); !slices.Equal(got, want) {
		t.Fatalf("rep index after the move to r5: %v, want %v", got, want)
	}
}

// TestDirectoryWriteInGroupCutsLaterDays: writes committed in one group
// share a transaction; a call recorded after CreateRep in the same group
// is cut into days in the rep's new zone, not the zone an earlier write
// of the group read (UTC, before the rep was in the directory).
func TestDirectoryWriteInGroupCutsLaterDays(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Hold the committer in a write of its own, queue the three writes in
	// order, then let them commit together.
	started, release := make(chan struct{}), make(chan struct{})
	go s.write(ctx, "test.hold", 1, func(*txn) error { close(started); <-release; return nil })
	<-started
	at := time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC) // the 15th in Jakarta
	call := func(id string, at time.Time) dwell.Call {
		return dwell.Call{RequestID: id, Rep: "r1", Client: "c1", StartTime: at, TalkSeconds: 1, Direction: dwell.CallOutbound, Outcome: dwell.CallConnected}
	}
	steps := []func() error{
		func() error { _, _, err := s.RecordCall(ctx, "acme", call("before", at)); return err },
		func() error {
			return s.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R", Email: "r@example.com", TimeZone: "Asia/Jakarta"})
		},
		func() error {
			_, _, err := s.RecordCall(ctx, "acme", call("after", at.Add(30*time.Minute)))
			return err
		},
	}
	errs := make(chan error, len(steps))
	for i, step := range steps {
		go func() { errs <- step() }()
		for len(s.queue) < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	for range steps {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	marks, err := s.ListDirtyDays(ctx, store.DayKey{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []dwell.Date
	for _, m := range marks {
		got = append(got, m.Date)
	}
	want := []dwell.Date{{Year: 2026, Month: 3, Day: 14}, {Year: 2026, Month: 3, Day: 15}}
	if !slices.Equal(got, want) {
		t.Fatalf("dirty days = %v, want %v (the second call in Jakarta)", got, want)
	}
}
