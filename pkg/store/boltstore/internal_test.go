package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

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
	mk := func(first, n int) []dwell.Fix {
		out := make([]dwell.Fix, n)
		for i := range out {
			out[i] = dwell.Fix{ID: fmt.Sprint("f", first+i), Time: t0.Add(time.Duration(first+i) * time.Second), SpeedMPS: -1, BearingDeg: -1}
		}
		return out
	}
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
